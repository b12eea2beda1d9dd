"""The commission's inbox: list, download, acknowledge once, release status notes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.events import EventType
from shared.sealing import CommissionKeyPair, open_envelope, open_report, start_of
from tests.integrity.conftest import Integrity
from tests.platform import eventually

INBOX = "/api/v1/integrity/inbox"


def once() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_the_inbox_lists_ids_days_keys_and_buckets_newest_day_first_in_pages(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    today = integrity.today()
    reports = [integrity.seal(commission_key, day=today - timedelta(days=n % 3))
               for n in range(7)]
    for report in reports:
        await integrity.send(report)
    for report in reports:
        await integrity.wait_filed(report.envelope_id)

    seen: list[dict[str, Any]] = []  # JSON objects
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await integrity.client.get(INBOX, params=params,
                                           headers=integrity.commission())).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert {item["envelope_id"] for item in seen} == {str(r.envelope_id) for r in reports}
    days = [item["created_day"] for item in seen]
    assert days == sorted(days, reverse=True)
    assert set(seen[0]) == {"envelope_id", "created_day", "key_id", "size_bucket",
                            "has_identity", "acknowledged_on", "cannot_be_opened_on", "notes"}


async def test_the_commission_downloads_the_envelope_exactly_as_sealed_and_opens_it_offline(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key, text="the clerk asked for 50 dinars")
    await integrity.file(report)
    response = await integrity.client.get(f"{INBOX}/{report.envelope_id}/envelope",
                                          headers=integrity.commission())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["cache-control"] == "no-store"
    assert response.content == report.envelope
    _, content = open_report(response.content, {commission_key.key_id:
                                                commission_key.private_key})
    assert content.text == "the clerk asked for 50 dinars"


async def test_a_report_without_identity_has_no_identity_envelope_to_download(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)
    response = await integrity.client.get(f"{INBOX}/{report.envelope_id}/identity-envelope",
                                          headers=integrity.commission())
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/no-identity-envelope"


async def test_a_report_is_acknowledged_once_and_the_acknowledgement_is_announced(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)
    path = f"{INBOX}/{report.envelope_id}/acknowledgement"
    headers = {**integrity.commission("commissioner-1"), **once()}
    first = await integrity.client.post(path, headers=headers)
    assert first.status_code == 201, first.json()
    assert first.json() == {"envelope_id": str(report.envelope_id),
                            "acknowledged_on": integrity.today().isoformat()}
    retried = await integrity.client.post(path, headers=headers)  # same key: same answer
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    second = await integrity.client.post(path, headers={**integrity.commission(), **once()})
    assert second.status_code == 409
    assert second.json()["type"] == "/problems/already-acknowledged"

    async def announced_once() -> None:
        events = integrity.heard.of_type(EventType.report_acknowledged)
        assert [e.payload["envelope_id"] for e in events] == [str(report.envelope_id)]
        assert events[0].occurred_at == start_of(integrity.today())

    await eventually(announced_once)
    unacknowledged = (await integrity.client.get(
        INBOX, params={"acknowledged": "false"}, headers=integrity.commission())).json()
    assert unacknowledged["items"] == []


async def test_status_notes_are_kept_in_order_and_counted_in_the_inbox(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)
    path = f"{INBOX}/{report.envelope_id}/notes"
    for note in ("تم فتح تحقيق", "Investigation concluded"):
        response = await integrity.client.post(path, json={"text": note},
                                               headers={**integrity.commission(), **once()})
        assert response.status_code == 201, response.json()
    details = (await integrity.client.get(f"{INBOX}/{report.envelope_id}",
                                          headers=integrity.commission())).json()
    assert [n["text"] for n in details["status_notes"]] == ["تم فتح تحقيق",
                                                            "Investigation concluded"]
    assert details["notes"] == 2


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 2001}, {"text": 5},
                                  {"text": "ok", "extra": 1}])
async def test_a_bad_note_is_refused_and_nothing_is_released(
    integrity: Integrity, commission_key: CommissionKeyPair, body: dict[str, object]
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    await integrity.file(report)
    response = await integrity.client.post(f"{INBOX}/{report.envelope_id}/notes", json=body,
                                           headers={**integrity.commission(), **once()})
    assert response.status_code == 422
    details = (await integrity.client.get(f"{INBOX}/{report.envelope_id}",
                                          headers=integrity.commission())).json()
    assert details["status_notes"] == []


async def test_a_report_that_does_not_exist_is_not_found_everywhere(
    integrity: Integrity,
) -> None:
    missing = uuid.uuid4()
    for method, path in (
        ("GET", f"{INBOX}/{missing}"),
        ("GET", f"{INBOX}/{missing}/envelope"),
        ("GET", f"{INBOX}/{missing}/identity-envelope"),
        ("POST", f"{INBOX}/{missing}/acknowledgement"),
        ("POST", f"{INBOX}/{missing}/cannot-be-opened"),
    ):
        response = await integrity.client.request(
            method, path, headers={**integrity.commission(), **once()}
        )
        assert response.status_code == 404, path
        assert response.json()["type"] == "/problems/report-not-found"
    bad_cursor = await integrity.client.get(INBOX, params={"cursor": "yesterday"},
                                            headers=integrity.commission())
    assert bad_cursor.status_code == 422


async def test_nothing_is_downloaded_that_the_private_key_could_not_open(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    """Rotation: reports sealed to an older key stay openable with that key."""
    await integrity.register(commission_key)
    old_report = integrity.seal(commission_key)
    await integrity.file(old_report)
    newer = CommissionKeyPair.generate(f"{commission_key.key_id}-next")
    await integrity.register(newer)
    new_report = integrity.seal(newer)
    await integrity.file(new_report)
    keys = {commission_key.key_id: commission_key.private_key,
            newer.key_id: newer.private_key}
    for report in (old_report, new_report):
        data = (await integrity.client.get(f"{INBOX}/{report.envelope_id}/envelope",
                                           headers=integrity.commission())).content
        assert open_envelope(data, keys).header.key_id == report.key_id
