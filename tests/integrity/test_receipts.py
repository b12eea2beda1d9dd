"""A reporter follows a report by its receipt; a receipt says nothing about any other."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event

from shared.events import EventType
from shared.logging import request_id
from shared.sealing import (
    CommissionKeyPair,
    EnvelopeKind,
    EnvelopeRefused,
    ReportContent,
    SealedReport,
    new_receipt,
    open_report,
    seal,
    start_of,
)
from tests.integrity.conftest import Integrity
from tests.platform import eventually


def status_path(receipt: str) -> str:
    return f"/api/v1/reports/{receipt}"


async def test_a_receipt_follows_its_report_from_sealed_to_acknowledged_with_notes(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = integrity.seal(commission_key)
    receipt = new_receipt()
    before = (await integrity.client.get(status_path(receipt))).json()
    assert before["status"] == "sealed"  # on its way: not filed yet
    await integrity.file(report, receipt)

    forwarded = await integrity.client.get(status_path(receipt))  # no token: the receipt is
    assert forwarded.status_code == 200                            # what proves the right
    assert forwarded.headers["cache-control"] == "no-store"
    assert forwarded.json() == {
        "status": "forwarded",
        "label": {"ar": "وصل البلاغ إلى حساب هيئة النزاهة ومكافحة الفساد.",
                  "en": "Delivered to the account of the Integrity and Anti-Corruption "
                        "Commission."},
        "notes": [],
    }
    commission = {**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())}
    inbox = f"/api/v1/integrity/inbox/{report.envelope_id}"
    assert (await integrity.client.post(f"{inbox}/acknowledgement", headers=commission)
            ).status_code == 201
    note = {**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())}
    assert (await integrity.client.post(f"{inbox}/notes", json={"text": "قيد التحقيق"},
                                        headers=note)).status_code == 201
    typed = receipt.lower().replace("-", "")  # as a person might type it
    acknowledged = (await integrity.client.get(status_path(typed))).json()
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["notes"] == [{"text": "قيد التحقيق",
                                      "day": integrity.today().isoformat()}]


def damaged_before_version_2(key: CommissionKeyPair, integrity: Integrity) -> SealedReport:
    """A report as an older client seals it (version 1: no digest), damaged on its way: it
    passes every check a server can make, and does not open."""
    envelope_id = uuid.uuid4()
    envelope = bytearray(seal(ReportContent(text="t").to_plaintext(), to=key.public,
                              kind=EnvelopeKind.report, envelope_id=envelope_id,
                              day=integrity.today(), version=1))
    envelope[-100] ^= 0x01
    return SealedReport(envelope_id, key.key_id, integrity.today(), bytes(envelope))


async def test_a_report_the_commission_cannot_open_asks_its_reporter_for_a_new_report(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = damaged_before_version_2(commission_key, integrity)
    receipt = await integrity.file(report)
    inbox = f"/api/v1/integrity/inbox/{report.envelope_id}"
    downloaded = await integrity.client.get(f"{inbox}/envelope", headers=integrity.commission())
    with pytest.raises(EnvelopeRefused, match="cannot-open"):
        open_report(downloaded.content, {commission_key.key_id: commission_key.private_key})

    headers = {**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())}
    declared = await integrity.client.post(f"{inbox}/cannot-be-opened", headers=headers)
    assert declared.status_code == 201, declared.json()
    assert declared.json() == {"envelope_id": str(report.envelope_id),
                               "declared_on": integrity.today().isoformat()}
    retried = await integrity.client.post(f"{inbox}/cannot-be-opened", headers=headers)
    assert retried.headers["idempotent-replayed"] == "true"
    again = await integrity.client.post(
        f"{inbox}/cannot-be-opened",
        headers={**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/already-declared-cannot-be-opened"

    status = (await integrity.gateway.get(status_path(receipt),
                                          headers={"Accept-Language": "en"})).json()
    assert status["status"] == "cannot_be_opened"
    assert "send your report again" in status["label"]["en"]
    assert "new report" in status["label"]["en"]
    assert "بلاغاً جديداً" in status["label"]["ar"]
    details = (await integrity.client.get(inbox, headers=integrity.commission())).json()
    assert details["cannot_be_opened_on"] == integrity.today().isoformat()

    async def announced_once() -> None:
        events = integrity.heard.of_type(EventType.report_cannot_be_opened)
        assert [e.payload["envelope_id"] for e in events] == [str(report.envelope_id)]
        assert events[0].occurred_at == start_of(integrity.today())

    await eventually(announced_once)


async def test_a_report_that_cannot_be_opened_says_so_even_after_its_acknowledgement(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    report = damaged_before_version_2(commission_key, integrity)
    receipt = await integrity.file(report)
    inbox = f"/api/v1/integrity/inbox/{report.envelope_id}"
    for action in ("acknowledgement", "cannot-be-opened"):
        response = await integrity.client.post(
            f"{inbox}/{action}",
            headers={**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.json()
    status = (await integrity.client.get(status_path(receipt))).json()
    assert status["status"] == "cannot_be_opened"


async def test_a_receipt_that_does_not_exist_answers_like_one_on_its_way(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    real = await integrity.file(integrity.seal(commission_key))
    unknown = await integrity.client.get(status_path(new_receipt()))
    known = await integrity.client.get(status_path(real))
    assert unknown.status_code == known.status_code == 200
    assert set(unknown.json()) == set(known.json())
    assert unknown.json()["status"] == "sealed"
    assert unknown.headers.keys() - {"content-length", "x-request-id"} == (
        known.headers.keys() - {"content-length", "x-request-id"}
    )


@asynccontextmanager
async def statements_of(integrity: Integrity) -> AsyncIterator[list[str]]:
    engine = integrity.platform.runtime("integrity").engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if request_id.get() is not None:  # the request's own, not the relay's meanwhile
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_existing_and_unknown_receipts_take_the_same_queries(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    """Similar timing, proven by the work done rather than by a stopwatch: the same
    statements run whether or not the receipt matches a report."""
    await integrity.register(commission_key)
    real = await integrity.file(integrity.seal(commission_key))
    async with statements_of(integrity) as for_known:
        await integrity.client.get(status_path(real))
    async with statements_of(integrity) as for_unknown:
        await integrity.client.get(status_path(new_receipt()))
    assert len(for_known) >= 2
    assert for_known == for_unknown


@pytest.mark.parametrize("receipt", ["R-1", "x" * 30, "UUUUU-UUUUU-UUUUU-UUUUU"])
async def test_something_that_cannot_be_a_receipt_is_refused_plainly(
    integrity: Integrity, receipt: str
) -> None:
    response = await integrity.client.get(status_path(receipt))
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/not-a-receipt"
    english = await integrity.client.get(status_path(receipt),
                                         headers={"Accept-Language": "en"})
    assert english.json()["title"] == "This is not a report receipt"
