"""The delivery log (CMU: all; anyone else: their own, masked) and the signed receipt callback."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

from services.notify.models import DeliveryStatus
from services.notify.providers.sms_gateway import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    receipt_signature,
)
from services.notify.repository import AnyRow
from shared.events.catalog import CitizenRegistered
from shared.events.vocabulary import NoticeChannel, Role
from tests.notify import factories as f
from tests.notify.conftest import RECEIPT_SECRET, Notify
from tests.notify.test_delivery import statuses_become


async def _two_requesters(
    notify: Notify,
) -> tuple[CitizenRegistered, CitizenRegistered, str, str]:
    alice = f.citizen(channel=NoticeChannel.email, email="alice@example.jo")
    bob = f.citizen()
    for person in (alice, bob):
        await notify.publish(person)
    first, second = f.submitted(alice.citizen_id), f.submitted(bob.citizen_id)
    await notify.publish(first)
    await notify.publish(second)
    await statuses_become(notify, [DeliveryStatus.submitted], reference=first.reference)
    await statuses_become(notify, [DeliveryStatus.delivered], reference=second.reference)
    return alice, bob, first.reference, second.reference


async def test_the_cmu_sees_every_message_with_addresses_masked(notify: Notify) -> None:
    alice, bob, first, second = await _two_requesters(notify)
    page = (await notify.client.get("/api/v1/notifications",
                                    headers=notify.auth(Role.cmu_staff))).json()
    by_reference = {item["reference"]: item for item in page["items"]}
    assert set(by_reference) == {first, second}
    assert by_reference[first]["to"] == "a***@example.jo"
    assert by_reference[second]["to"].startswith("+962")
    assert bob.phone not in json.dumps(page)
    assert "alice@" not in json.dumps(page)
    assert by_reference[second]["status"] == "delivered"
    assert by_reference[second]["delivered_at"] is not None


async def test_a_requester_sees_only_their_own_messages_whatever_they_ask(notify: Notify) -> None:
    alice, bob, first, second = await _two_requesters(notify)
    as_alice = notify.auth(Role.citizen, alice.citizen_id)
    mine = (await notify.client.get("/api/v1/notifications", headers=as_alice)).json()
    assert [item["reference"] for item in mine["items"]] == [first]
    widened = (await notify.client.get(
        "/api/v1/notifications", headers=as_alice,
        params={"recipient_id": str(bob.citizen_id), "reference": second})).json()
    assert widened["items"] == []
    (theirs,) = await notify.rows(reference=second)
    hidden = await notify.client.get(f"/api/v1/notifications/{theirs.id}", headers=as_alice)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    (own,) = await notify.rows(reference=first)
    shown = await notify.client.get(f"/api/v1/notifications/{own.id}", headers=as_alice)
    assert shown.json()["to"] == "a***@example.jo"


async def test_only_the_cmu_may_retry_a_message(notify: Notify) -> None:
    alice, _bob, first, _second = await _two_requesters(notify)
    (own,) = await notify.rows(reference=first)
    as_alice = notify.auth(Role.citizen, alice.citizen_id)
    refused = await notify.client.post(f"/api/v1/notifications/{own.id}/retry",
                                       headers=as_alice)
    assert refused.status_code == 403
    unknown = await notify.client.post(f"/api/v1/notifications/{uuid.uuid4()}/retry",
                                       headers=notify.auth(Role.cmu_admin))
    assert unknown.status_code == 404


async def test_the_log_pages_newest_first_with_a_cursor(notify: Notify) -> None:
    person = f.citizen()
    await notify.publish(person)
    references = []
    for _ in range(5):
        request = f.submitted(person.citizen_id)
        references.append(request.reference)
        await notify.publish(request)
        notify.clock.advance(timedelta(seconds=1))
    await statuses_become(notify, [DeliveryStatus.delivered] * 5, recipient_id=person.citizen_id)
    cmu = notify.auth(Role.cmu_staff)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await notify.client.get("/api/v1/notifications", headers=cmu,
                                        params=params)).json()
        seen += [item["reference"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(references))
    bad = await notify.client.get("/api/v1/notifications", headers=cmu,
                                  params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["type"] == "/problems/invalid-cursor"


async def test_the_log_needs_a_token(notify: Notify) -> None:
    response = await notify.client.get("/api/v1/notifications")
    assert response.status_code == 401


def signed(body: bytes, *, secret: str = RECEIPT_SECRET, at: float | None = None
           ) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: receipt_signature(secret, timestamp, body)}


async def _submitted_sms(notify: Notify) -> AnyRow:
    notify.gateway.receipt_url = None  # this test plays the gateway's receipts itself
    person = f.citizen()
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.submitted],
                                   reference=request.reference)
    return row


async def test_a_signed_receipt_marks_the_message_delivered_once(notify: Notify) -> None:
    row = await _submitted_sms(notify)
    body = json.dumps({"receipts": [{"message_id": row.provider_message_id,
                                     "client_reference": str(row.id),
                                     "status": "delivered"}]}).encode()
    first = await notify.client.post("/api/v1/notifications/sms/receipts", content=body,
                                     headers=signed(body, at=notify.clock.now().timestamp()))
    assert first.json() == {"applied": 1, "already_final": 0, "unknown": []}
    again = await notify.client.post("/api/v1/notifications/sms/receipts", content=body,
                                     headers=signed(body, at=notify.clock.now().timestamp()))
    assert again.json() == {"applied": 0, "already_final": 1, "unknown": []}
    (after,) = await notify.rows(id=row.id)
    assert after.status == DeliveryStatus.delivered
    sent = await notify.events("notification.sent", 2)
    assert [e["status"] for e in sent] == ["accepted", "delivered"]


async def test_a_forged_or_stale_receipt_is_refused_and_changes_nothing(notify: Notify) -> None:
    row = await _submitted_sms(notify)
    body = json.dumps({"receipts": [{"message_id": row.provider_message_id,
                                     "client_reference": str(row.id),
                                     "status": "undeliverable"}]}).encode()
    now = notify.clock.now().timestamp()
    for headers in (signed(body, secret="someone-else-s-secret", at=now),
                    signed(body, at=now - 3600),
                    {"Content-Type": "application/json"},
                    {**signed(body, at=now), TIMESTAMP_HEADER: str(int(now) + 1)}):
        response = await notify.client.post("/api/v1/notifications/sms/receipts",
                                            content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-receipt-signature"
    (after,) = await notify.rows(id=row.id)
    assert after.status == DeliveryStatus.submitted


async def test_a_receipt_for_a_message_we_never_sent_is_404(notify: Notify) -> None:
    body = json.dumps({"receipts": [{"message_id": "x-1", "client_reference": str(uuid.uuid4()),
                                     "status": "delivered"}]}).encode()
    response = await notify.client.post(
        "/api/v1/notifications/sms/receipts", content=body,
        headers=signed(body, at=notify.clock.now().timestamp()))
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/unknown-messages"


async def test_a_malformed_receipt_batch_is_422_and_changes_nothing(notify: Notify) -> None:
    row = await _submitted_sms(notify)
    body = json.dumps({"receipts": [{"client_reference": str(row.id),
                                     "status": "read-by-the-cat"}]}).encode()
    response = await notify.client.post(
        "/api/v1/notifications/sms/receipts", content=body,
        headers=signed(body, at=notify.clock.now().timestamp()))
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation-failed"
    (after,) = await notify.rows(id=row.id)
    assert after.status == DeliveryStatus.submitted
