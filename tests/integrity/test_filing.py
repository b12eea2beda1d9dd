"""Filing: a sealed report from intake lands once, write-once, in the commission's inbox."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.events import EventType
from shared.sealing import CommissionKeyPair, ReporterIdentity, new_receipt, start_of
from tests.integrity.conftest import Integrity
from tests.platform import eventually


async def test_a_sealed_report_is_filed_and_forwarded_once_however_often_it_arrives(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    receipt = new_receipt()
    for _ in range(3):  # intake's relay may publish a row again after a crash
        await integrity.send(report, receipt)
    filed = await integrity.wait_filed(report.envelope_id)
    assert filed["created_day"] == integrity.today().isoformat()
    assert filed["key_id"] == commission_key.key_id
    assert filed["size_bucket"] == 1024
    assert filed["has_identity"] is False

    async def forwarded_once() -> None:
        events = integrity.heard.of_type(EventType.report_forwarded)
        assert [e.payload["envelope_id"] for e in events] == [str(report.envelope_id)]

    await eventually(forwarded_once)
    inbox = (await integrity.client.get("/api/v1/integrity/inbox",
                                        headers=integrity.commission())).json()
    assert [item["envelope_id"] for item in inbox["items"]] == [str(report.envelope_id)]
    assert await integrity.dead_letters() == []


async def test_events_about_a_report_carry_its_day_never_the_instant(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)

    async def forwarded() -> None:
        events = integrity.heard.of_type(EventType.report_forwarded)
        assert len(events) == 1  # not yet heard: an AssertionError, so `eventually` waits on
        (event,) = events
        assert event.occurred_at == start_of(report.day)
        assert event.correlation_id is None

    await eventually(forwarded)


async def test_the_identity_envelope_is_filed_beside_the_report(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key, identity=ReporterIdentity(name="Someone"))
    await integrity.file(report)
    identity = await integrity.client.get(
        f"/api/v1/integrity/inbox/{report.envelope_id}/identity-envelope",
        headers=integrity.commission(),
    )
    assert identity.status_code == 200
    assert identity.content == report.identity_envelope


@pytest.mark.parametrize(
    "spoil",
    ["unknown key", "truncated", "flipped byte", "other version", "foreign identity",
     "mismatched id", "mismatched day"],
)
async def test_a_report_that_fails_the_checks_is_dead_lettered_not_filed(
    integrity: Integrity, commission_key: CommissionKeyPair, spoil: str
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key, identity=ReporterIdentity(name="Someone"))
    b64 = base64.b64encode
    changes: dict[str, object] = {}
    if spoil == "unknown key":
        report = integrity.seal(CommissionKeyPair.generate("never-registered"))
    elif spoil == "truncated":
        changes["envelope"] = b64(report.envelope[:-16]).decode()
    elif spoil == "flipped byte":
        damaged = bytearray(report.envelope)
        damaged[-100] ^= 0x01
        changes["envelope"] = b64(damaged).decode()
    elif spoil == "other version":
        changes["envelope"] = b64(report.envelope.replace(b'"v":2', b'"v":1')).decode()
    elif spoil == "foreign identity":
        other = integrity.seal(commission_key, identity=ReporterIdentity(name="Other"))
        assert other.identity_envelope is not None
        changes["identity_envelope"] = b64(other.identity_envelope).decode()
    elif spoil == "mismatched id":
        changes["envelope_id"] = uuid.uuid4()
    else:
        changes["created_day"] = report.day - timedelta(days=1)
    await integrity.send(report, new_receipt(), **changes)

    async def dead_lettered() -> list[tuple[bytes, str]]:
        dead = await integrity.dead_letters()
        assert len(dead) == 1
        return dead

    ((_body, reason),) = await eventually(dead_lettered, timeout_s=20)
    assert reason.startswith("EnvelopeRefused")
    inbox = (await integrity.client.get("/api/v1/integrity/inbox",
                                        headers=integrity.commission())).json()
    assert inbox["items"] == []


async def test_another_envelope_under_a_filed_id_is_refused_not_swapped_in(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key, text="the original")
    await integrity.file(report)
    forged = integrity.seal(commission_key, text="a forgery")
    await integrity.send(forged, new_receipt(), envelope_id=report.envelope_id,
                         envelope=base64.b64encode(
                             forged.envelope.replace(str(forged.envelope_id).encode(),
                                                     str(report.envelope_id).encode())
                         ).decode())

    async def dead_lettered() -> None:
        assert len(await integrity.dead_letters()) == 1

    await eventually(dead_lettered, timeout_s=20)
    downloaded = await integrity.client.get(
        f"/api/v1/integrity/inbox/{report.envelope_id}/envelope", headers=integrity.commission()
    )
    assert downloaded.content == report.envelope


async def test_the_database_itself_refuses_to_change_or_remove_a_filed_envelope(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)
    runtime = integrity.platform.runtime("integrity")
    for statement in (
        "UPDATE sealed_reports SET envelope = :junk",
        "UPDATE sealed_reports SET size_bucket = 2048",
        "DELETE FROM sealed_reports",
        "TRUNCATE sealed_reports CASCADE",
    ):
        with pytest.raises(DBAPIError) as refused:
            async with runtime.sessionmaker.begin() as session:
                await session.execute(text(statement), {"junk": b"junk"})
        assert refused.value.orig is not None
        assert isinstance(refused.value.orig.__cause__, asyncpg.RaiseError)
        assert "written once" in str(refused.value.orig)
    downloaded = await integrity.client.get(
        f"/api/v1/integrity/inbox/{report.envelope_id}/envelope", headers=integrity.commission()
    )
    assert downloaded.content == report.envelope
