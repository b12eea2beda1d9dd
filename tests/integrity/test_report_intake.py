"""Intake's side of reports (`services/intake/reports.py`): sealed the moment they arrive.

Intake and integrity run as in production (PostgreSQL, RabbitMQ, the gateway in front); intake
learns the commission's key from integrity's public endpoint over its HTTP API.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from shared.events.vocabulary import Role
from shared.sealing import (
    CommissionKeyPair,
    ReportContent,
    ReporterIdentity,
    SealedReport,
    open_identity,
    open_report,
    receipt_digest,
    seal_report,
)
from tests.integrity.conftest import Heard, Integrity, direct_client
from tests.platform import eventually, running_platform

CANARY = "CANARY-4b1d-رشوة-في-الترخيص"
REPORTS = "/api/v1/reports"


@pytest.fixture
async def both(postgres_url: str, amqp_url: str) -> AsyncIterator[Integrity]:
    async with running_platform(postgres_url, amqp_url, services=["intake", "integrity"],
                                overrides={"intake": {"commission_key_max_age_s": 0}},
                                # The gateway's 5 reports a minute per client (its own tests
                                # prove it) would stop these tests, not an attacker.
                                gateway_overrides={"rate_limit_enabled": False}
                                ) as platform:
        async with direct_client(platform) as client:
            yield Integrity(platform, Heard(), platform.runtime("intake").bus,  # type: ignore[arg-type]
                            client)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker-Serial-12345"  # Make
    exif[0x8825] = {2: (31.0, 57.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


async def submit(integrity: Integrity, body: dict[str, Any], *, key: str | None = None,
                 headers: dict[str, str] | None = None) -> Any:
    return await integrity.gateway.post(
        REPORTS, json=body,
        headers={"Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})},
    )


async def filed_ids(integrity: Integrity) -> list[str]:
    page = (await integrity.client.get("/api/v1/integrity/inbox", params={"limit": 200},
                                       headers=integrity.commission())).json()
    return [item["envelope_id"] for item in page["items"]]


async def download(integrity: Integrity, envelope_id: str, what: str = "envelope") -> bytes:
    response = await integrity.client.get(f"/api/v1/integrity/inbox/{envelope_id}/{what}",
                                          headers=integrity.commission())
    assert response.status_code == 200
    return response.content


async def the_only_filed(integrity: Integrity, count: int = 1) -> list[str]:
    async def filed() -> list[str]:
        ids = await filed_ids(integrity)
        assert len(ids) == count
        return ids

    return await eventually(filed)


async def test_a_report_is_sealed_on_arrival_and_only_the_commission_key_opens_it(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    photo = jpeg_with_gps()
    response = await submit(both, {
        "subject": "رشوة", "text": f"طُلب مني مبلغ {CANARY}",
        "attachments": [{"name": "evidence.jpg",
                         "content": base64.b64encode(photo).decode()}],
        "identity": {"name": "A Reporter", "national_number": "9990001234"},
    })
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["status"] == "sealed"
    assert response.headers["cache-control"] == "no-store"
    (envelope_id,) = await the_only_filed(both)
    keys = {commission_key.key_id: commission_key.private_key}
    _, content = open_report(await download(both, envelope_id), keys)
    assert CANARY in content.text
    assert content.receipt_digest == receipt_digest(answer["receipt"])
    (evidence,) = content.attachments
    assert evidence.media_type == "image/jpeg"
    assert b"PhoneMaker-Serial-12345" in photo
    assert b"PhoneMaker-Serial-12345" not in evidence.data  # the camera and place are gone
    assert Image.open(io.BytesIO(evidence.data)).getexif() == {}
    _, identity = open_identity(await download(both, envelope_id, "identity-envelope"), keys)
    assert identity.national_number == "9990001234"
    assert identity.citizen_id is None  # the account is attached only when asked

    status = (await both.gateway.get(f"{REPORTS}/{answer['receipt']}")).json()
    assert status["status"] == "forwarded"


async def test_an_anonymous_report_has_no_identity_and_a_signed_in_one_attaches_on_request(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    anonymous = await submit(both, {"text": "anonymous"},
                             headers=both.platform.auth(Role.citizen))
    assert anonymous.status_code == 201
    (first,) = await the_only_filed(both)
    details = (await both.client.get(f"/api/v1/integrity/inbox/{first}",
                                     headers=both.commission())).json()
    assert details["has_identity"] is False

    citizen = str(uuid.uuid4())
    attached = await submit(both, {"text": "with my account", "attach_account": True},
                            headers=both.platform.auth(Role.citizen, citizen))
    assert attached.status_code == 201
    ids = await the_only_filed(both, 2)
    (second,) = set(ids) - {first}
    keys = {commission_key.key_id: commission_key.private_key}
    _, identity = open_identity(await download(both, second, "identity-envelope"), keys)
    assert str(identity.citizen_id) == citizen

    refused = await submit(both, {"text": "no account", "attach_account": True})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "not_signed_in"


def sealed_body(report: SealedReport) -> dict[str, str]:
    """A client-sealed report as the reporter's device posts it."""
    body = {"envelope": base64.b64encode(report.envelope).decode()}
    if report.identity_envelope is not None:
        body["identity_envelope"] = base64.b64encode(report.identity_envelope).decode()
    return body


async def test_a_client_sealed_report_is_checked_and_forwarded_as_it_came(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    sealed = seal_report(ReportContent(text=CANARY), ReporterIdentity(name="Me"),
                         to=commission_key.public, day=both.today())
    assert sealed.identity_envelope is not None
    response = await submit(both, sealed_body(sealed))
    assert response.status_code == 201, response.json()
    (envelope_id,) = await the_only_filed(both)
    assert envelope_id == str(sealed.envelope_id)
    assert await download(both, envelope_id) == sealed.envelope
    status = (await both.gateway.get(f"{REPORTS}/{response.json()['receipt']}")).json()
    assert status["status"] == "forwarded"


async def test_an_envelope_id_already_taken_is_refused_at_the_door_and_nothing_is_kept(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    first = seal_report(ReportContent(text="the first"), None, to=commission_key.public,
                        day=both.today())
    assert (await submit(both, sealed_body(first))).status_code == 201
    another = seal_report(ReportContent(text="another"), ReporterIdentity(name="Me"),
                          to=commission_key.public, day=both.today(),
                          envelope_id=first.envelope_id)
    for reused in (another, first):  # another envelope under its id, or itself under a new key
        refused = await submit(both, sealed_body(reused))
        assert refused.status_code == 409, refused.json()
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/envelope-id-taken"
        assert "receipt" not in refused.json()
    assert (await submit(both, {"text": "good"})).status_code == 201
    ids = await the_only_filed(both, 2)
    assert str(first.envelope_id) in ids
    assert await download(both, str(first.envelope_id)) == first.envelope
    assert await both.dead_letters() == []  # integrity was never handed the second one
    runtime = both.platform.runtime("intake")
    async with runtime.sessionmaker() as session:
        answered = await session.scalar(text("SELECT count(*) FROM idempotency_keys"))
    assert answered == 2  # the refused submissions left no record behind


@pytest.mark.parametrize("spoil", ["truncated", "flipped byte", "unknown key",
                                   "foreign identity", "far day", "not base64",
                                   "identity as report"])
async def test_a_bad_client_sealed_envelope_is_refused_and_nothing_is_sent(
    both: Integrity, commission_key: CommissionKeyPair, spoil: str
) -> None:
    await both.register(commission_key)
    key = commission_key.public
    sealed = seal_report(ReportContent(text="t"), ReporterIdentity(name="Me"), to=key,
                         day=both.today())
    assert sealed.identity_envelope is not None
    envelope, identity = sealed.envelope, sealed.identity_envelope
    if spoil == "truncated":
        envelope = envelope[:-1]
    elif spoil == "flipped byte":
        damaged = bytearray(envelope)
        damaged[len(damaged) // 2] ^= 0x01
        envelope = bytes(damaged)
    elif spoil == "unknown key":
        envelope = seal_report(ReportContent(text="t"), None, day=both.today(),
                               to=CommissionKeyPair.generate("unknown").public).envelope
    elif spoil == "foreign identity":
        other = seal_report(ReportContent(text="t"), ReporterIdentity(name="X"), to=key,
                            day=both.today())
        assert other.identity_envelope is not None
        identity = other.identity_envelope
    elif spoil == "far day":
        far = seal_report(ReportContent(text="t"), None, to=key,
                          day=both.today() - timedelta(days=30))
        envelope, identity = far.envelope, b""
    elif spoil == "identity as report":
        envelope, identity = identity, b""
    body = {"envelope": base64.b64encode(envelope).decode(),
            **({"identity_envelope": base64.b64encode(identity).decode()} if identity else {})}
    if spoil == "not base64":
        body["envelope"] = "not base64!"
    response = await submit(both, body)
    assert response.status_code == 422, response.json()
    if spoil == "flipped byte":  # the digest, checked without the key
        assert response.json()["reason"] == "damaged"
        english = await submit(both, body, headers={"Accept-Language": "en"})
        assert english.json()["detail"].startswith("The envelope was damaged after it was sealed")
    # A good report sent after it is the only one that arrives (the outbox keeps order).
    assert (await submit(both, {"text": "good"})).status_code == 201
    await the_only_filed(both)


async def test_bad_plaintext_reports_are_refused_and_nothing_is_sent(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    exe = b"MZ\x90\x00" + bytes(200)
    cases: list[tuple[dict[str, Any], int]] = [
        ({}, 422),
        ({"text": ""}, 422),
        ({"text": "x" * 20_001}, 422),
        ({"text": "t", "unexpected": 1}, 422),
        ({"text": "t", "attachments": [{"name": "photo.jpg",
                                        "content": base64.b64encode(exe).decode()}]}, 422),
        ({"text": "t", "attachments": [{"name": "big.pdf", "content": base64.b64encode(
            b"%PDF-1.7" + bytes(6 * 1024 * 1024)).decode()}]}, 413),
        ({"text": "t", "attachments": [{"name": "f", "content": "!!!!"}]}, 422),
    ]
    for body, status in cases:
        response = await submit(both, body)
        assert response.status_code == status, (body.keys(), response.json())
        assert response.headers["content-type"] == "application/problem+json"
    assert (await submit(both, {"text": "good"})).status_code == 201
    await the_only_filed(both)


async def test_no_commission_key_means_no_report_is_taken(both: Integrity) -> None:
    response = await submit(both, {"text": CANARY})
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/reports-unavailable"
    assert response.headers["retry-after"] == "30"


async def test_a_retried_report_is_sealed_once_and_its_idempotency_record_links_nothing(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    citizen = str(uuid.uuid4())
    key = str(uuid.uuid4())
    headers = both.platform.auth(Role.citizen, citizen)
    body = {"text": CANARY}
    first = await submit(both, body, key=key, headers=headers)
    again = await submit(both, body, key=key, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["receipt"] == first.json()["receipt"]
    other = await submit(both, {"text": "something else"}, key=key, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    await the_only_filed(both)

    runtime = both.platform.runtime("intake")
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(text("SELECT * FROM idempotency_keys"))).mappings().all()
    (row,) = rows
    stored = " ".join(str(value) for value in row.values())
    stored_bytes = bytes(row["response"])
    for secret in (citizen, key, first.json()["receipt"], CANARY):
        assert secret not in stored
        assert secret.encode() not in stored_bytes
    assert row["owner"] == "corruption-reports"


async def test_a_rotated_key_is_used_for_the_next_report(
    both: Integrity, commission_key: CommissionKeyPair
) -> None:
    await both.register(commission_key)
    assert (await submit(both, {"text": "before"})).status_code == 201
    newer = CommissionKeyPair.generate(f"{commission_key.key_id}-next")
    await both.register(newer)
    assert (await submit(both, {"text": "after"})).status_code == 201
    await the_only_filed(both, 2)
    page = (await both.client.get("/api/v1/integrity/inbox",
                                  headers=both.commission())).json()
    assert {item["key_id"] for item in page["items"]} == {commission_key.key_id, newer.key_id}
