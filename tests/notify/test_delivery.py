"""From an event to a handset or a mailbox: real SMTP (STARTTLS, AUTH), the real HTTP gateway.

Each test publishes events into a running notify service as the other services would, and
reads what reached the SMTP server, the SMS gateway, the delivery log and notify's own events.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, text

from services.notify.main import dispatcher_of
from services.notify.models import DeliveryStatus, notifications
from services.notify.repository import AnyRow
from shared.events import catalog as c
from shared.events.vocabulary import (
    ClosedBy,
    ClosingCode,
    DirectoryChange,
    Language,
    NoticeChannel,
    Role,
    SlaStage,
)
from shared.links import DEVELOPMENT_SECRET, LinkSigner
from tests.notify import factories as f
from tests.notify.conftest import Notify, SmtpServer, running_notify
from tests.platform import eventually


async def test_the_acknowledgement_reaches_the_requester_by_sms_with_its_reference(
    notify: Notify,
) -> None:
    person = f.citizen(channel=NoticeChannel.sms)
    await notify.publish(person)
    request = f.submitted(person.citizen_id, tracking_code="7KQ2M-XH4RP")
    await notify.publish(request, correlation_id=request.reference)

    async def delivered() -> None:
        rows = await notify.rows(reference=request.reference)
        assert [row.status for row in rows] == [DeliveryStatus.delivered]
    await eventually(delivered)

    (sms,) = notify.gateway.sent
    assert sms.to == person.phone
    assert request.reference in sms.text
    assert "7KQ2M-XH4RP" in sms.text  # with the reference, it opens the request without an account
    assert sms.sender_id == "BKHEDMETKOM"
    (row,) = await notify.rows(reference=request.reference)
    assert sms.client_reference == str(row.id)
    assert row.kind == "requester.received"
    assert row.attempts == 1
    sent = await notify.events("notification.sent", 2)
    assert [e["status"] for e in sent] == ["accepted", "delivered"]
    assert {e["notification_id"] for e in sent} == {str(row.id)}


async def statuses_become(notify: Notify, expected: list[DeliveryStatus], **where: object
                          ) -> list[AnyRow]:
    async def check() -> list[AnyRow]:
        rows = await notify.rows(**where)
        assert sorted(row.status for row in rows) == sorted(expected)
        return rows
    return await eventually(check)


async def test_an_email_requester_gets_text_and_rtl_html_over_starttls_with_auth(
    notify: Notify,
) -> None:
    person = f.citizen(channel=NoticeChannel.email, email="huda@example.jo")
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.submitted],
                                   reference=request.reference)

    (message,) = notify.smtp.to("huda@example.jo")
    assert notify.smtp.logins >= 1  # it signed in, which the server allows only after STARTTLS
    assert request.reference in str(message["Subject"])
    assert message["Message-ID"] == f"<{row.id}@bekhedmetkom.gov.jo>"
    assert message["Content-Language"] == "ar"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert request.reference in plain.get_content()
    assert request.subject in plain.get_content()
    page = html.get_content()
    assert '<html lang="ar" dir="rtl">' in page
    assert 'dir="rtl"' in page.split("<body", 1)[1]
    assert notify.gateway.sent == []


async def test_email_chosen_without_an_address_falls_back_to_sms_and_records_it(
    notify: Notify,
) -> None:
    person = f.citizen(channel=NoticeChannel.email, email=None)
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.delivered],
                                   reference=request.reference)
    assert row.channel == "sms"
    assert row.fell_back is True
    assert notify.gateway.texts_to(person.phone)
    assert notify.smtp.received == []


async def test_the_request_s_own_channel_and_language_beat_the_account_s(notify: Notify) -> None:
    person = f.citizen(channel=NoticeChannel.sms, language=Language.ar, email="a@example.jo")
    await notify.publish(person)
    request = f.submitted(person.citizen_id, notice_channel=NoticeChannel.email,
                          language=Language.en)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.submitted],
                                   reference=request.reference)
    (message,) = notify.smtp.to("a@example.jo")
    assert message["Content-Language"] == "en"
    assert str(message["Subject"]).startswith("We received your request")


async def test_a_redelivered_event_sends_nothing_new(notify: Notify) -> None:
    person = f.citizen()
    await notify.publish(person)
    envelope = await notify.publish(f.submitted(person.citizen_id))
    await statuses_become(notify, [DeliveryStatus.delivered], source_event_id=envelope.id)
    from shared.bus import OutgoingMessage
    await notify.runtime.bus.publish([OutgoingMessage.from_envelope(envelope)] * 2)
    await asyncio.sleep(0.5)
    await statuses_become(notify, [DeliveryStatus.delivered], source_event_id=envelope.id)
    assert len(notify.gateway.texts_to(person.phone)) == 1


async def test_a_code_goes_by_sms_and_is_stored_and_logged_nowhere(
    notify: Notify, caplog: pytest.LogCaptureFixture,
) -> None:
    number = f.phone()
    event = f.code(number, secret="739164", now=notify.clock.now())
    envelope = await notify.publish(event)
    (row,) = await statuses_become(notify, [DeliveryStatus.delivered],
                                   source_event_id=envelope.id)
    (sms,) = notify.gateway.texts_to(number)
    assert "739164" in sms
    assert row.recipient_id is None
    assert row.priority == 0
    async with notify.runtime.sessionmaker() as session:
        dump = (await session.execute(text(
            "SELECT string_agg(n::text, ' ') FROM notifications n"))).scalar_one()
    assert "739164" not in dump
    assert "739164" not in caplog.text
    assert number not in caplog.text


async def test_an_expired_code_is_never_sent(notify: Notify) -> None:
    number = f.phone()
    event = f.code(number, minutes=1, now=notify.clock.now())
    await notify.publish(event)
    notify.clock.advance(timedelta(minutes=5))  # it waited too long in a queue
    await asyncio.sleep(0.5)
    assert notify.gateway.texts_to(number) == []


async def test_a_gateway_4xx_refuses_the_message_for_good(notify: Notify) -> None:
    person = f.citizen()
    await notify.publish(person)
    notify.gateway.fail_next(1, 400)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.failed], reference=request.reference)
    assert row.reason_code == "sms_gateway_http_400"
    assert row.attempts == 1
    await asyncio.sleep(0.4)
    assert notify.gateway.requests == 1  # never tried again
    (failed,) = await notify.events("notification.failed", 1)
    assert failed["status"] == "rejected"
    assert failed["reason_code"] == "sms_gateway_http_400"


async def test_a_gateway_5xx_is_retried_after_a_backoff_until_it_works(notify: Notify) -> None:
    person = f.citizen()
    await notify.publish(person)
    notify.gateway.fail_next(1, 503)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.delivered],
                                   reference=request.reference)
    assert row.attempts == 2
    assert len(notify.gateway.texts_to(person.phone)) == 1


async def test_an_invalid_number_is_refused_by_the_gateway_without_retry(notify: Notify) -> None:
    # The gateway judges numbers; ours were valid E.164 when they entered the contact book.
    person = f.citizen(number="+9627000")
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.failed], reference=request.reference)
    assert row.reason_code == "sms_invalid_number"


async def test_an_undeliverable_receipt_fails_the_message(notify: Notify) -> None:
    person = f.citizen()
    notify.gateway.undeliverable.add(person.phone)
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.failed], reference=request.reference)
    assert row.reason_code == "sms_undeliverable_absent_subscriber"
    (failed,) = await notify.events("notification.failed", 1)
    assert failed["status"] == "undeliverable"


async def test_a_refused_mailbox_fails_and_a_deferred_one_is_tried_again(notify: Notify) -> None:
    refused = f.citizen(channel=NoticeChannel.email, email="gone@example.jo")
    deferred = f.citizen(channel=NoticeChannel.email, email="busy@example.jo")
    notify.smtp.refuse.add("gone@example.jo")
    notify.smtp.defer.add("busy@example.jo")
    for person in (refused, deferred):
        await notify.publish(person)
    gone, busy = f.submitted(refused.citizen_id), f.submitted(deferred.citizen_id)
    await notify.publish(gone)
    await notify.publish(busy)
    (row,) = await statuses_become(notify, [DeliveryStatus.failed], reference=gone.reference)
    assert row.reason_code == "smtp_recipient_refused_550"
    assert row.attempts == 1

    async def retried() -> None:
        rows = await notify.rows(reference=busy.reference)
        assert len(rows) == 1  # not yet stored: an AssertionError, so `eventually` waits on
        (waiting,) = rows
        assert waiting.attempts >= 2
        assert waiting.reason_code == "smtp_deferred_451"
    await eventually(retried)
    notify.smtp.defer.clear()
    await statuses_become(notify, [DeliveryStatus.submitted], reference=busy.reference)


async def test_used_up_attempts_dead_letter_a_message_and_the_cmu_can_queue_it_again(
    notify: Notify,
) -> None:
    person = f.citizen()
    await notify.publish(person)
    notify.gateway.fail_next(3, 503)  # max attempts is 3 in these tests
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DeliveryStatus.dead_lettered],
                                   reference=request.reference)
    assert row.attempts == 3
    assert row.reason_code == "sms_gateway_http_503"
    (failed,) = await notify.events("notification.failed", 1)
    assert failed["status"] == "undeliverable"

    cmu = notify.auth(Role.cmu_staff)
    dead = await notify.client.get("/api/v1/notifications", params={"status": "dead_lettered"},
                                   headers=cmu)
    assert [item["id"] for item in dead.json()["items"]] == [str(row.id)]
    retried = await notify.client.post(f"/api/v1/notifications/{row.id}/retry", headers=cmu)
    assert retried.status_code == 200
    assert retried.json()["status"] == "queued"
    await statuses_become(notify, [DeliveryStatus.delivered], reference=request.reference)
    again = await notify.client.post(f"/api/v1/notifications/{row.id}/retry", headers=cmu)
    assert again.status_code == 409


async def test_a_deactivated_official_hears_nothing(notify: Notify) -> None:
    person = f.citizen()
    officer = f.official()
    await notify.publish(person)
    await notify.publish(officer)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    await notify.publish(f.official(person_id=officer.person_id, number=officer.phone,
                                    change=DirectoryChange.retired))
    await notify.publish(c.RequestAssigned(reference=request.reference, entity="MWI",
                                           sector="MWI", officer_ids=[officer.person_id]))
    await statuses_become(notify, [DeliveryStatus.delivered, DeliveryStatus.delivered],
                          recipient_id=person.citizen_id)
    assert officer.phone is not None  # official() always gives one
    assert notify.gateway.texts_to(officer.phone) == []
    assert await notify.rows(recipient_id=officer.person_id) == []


async def test_an_official_retired_after_queueing_is_not_sent_to(notify: Notify) -> None:
    officer = f.official(email=None)
    await notify.publish(officer)
    notify.gateway.answer_after_s = 0.3  # messages wait behind a slow gateway
    notify.gateway.fail_next(1, 503)
    escalation = c.SlaEscalated(
        reference=f.reference(), level=1, entity="MWI", sector="MWI",
        stage=SlaStage.first_response, overdue_since=notify.clock.now(),
        recipient_ids=[officer.person_id])
    await notify.publish(escalation)
    await eventually(lambda: _attempted(notify, officer.person_id))
    await notify.publish(f.official(person_id=officer.person_id, number=officer.phone,
                                    email=None, change=DirectoryChange.retired))
    (row,) = await statuses_become(notify, [DeliveryStatus.failed],
                                   recipient_id=officer.person_id)
    assert row.reason_code == "recipient_deactivated"
    assert officer.phone is not None  # official() always gives one
    assert notify.gateway.texts_to(officer.phone) == []


async def _attempted(notify: Notify, person: uuid.UUID) -> None:
    rows = await notify.rows(recipient_id=person)
    assert rows
    assert rows[0].attempts >= 1


async def test_the_response_carries_a_rating_link_intake_can_verify(notify: Notify) -> None:
    person = f.citizen(channel=NoticeChannel.email, email="rate@example.jo", language=Language.en)
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    await notify.publish(c.RequestResponded(
        reference=request.reference, actions_taken="The line was inspected.",
        solution="The pipe was repaired.", actor_id=uuid.uuid4(), round=2))
    await statuses_become(notify, [DeliveryStatus.submitted] * 2, reference=request.reference)
    answer = next(m for m in notify.smtp.to("rate@example.jo")
                  if "answered" in str(m["Subject"]))
    plain = answer.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "The pipe was repaired." in body
    assert "The line was inspected." in body
    link = next(line for line in body.splitlines() if "/rate/" in line).strip()
    url = urlparse(link)
    assert url.scheme == "https"
    assert url.netloc == "bekhedmetkom.test"
    assert url.path == f"/rate/{request.reference}"
    (token,) = parse_qs(url.query)["token"]
    claims = LinkSigner(DEVELOPMENT_SECRET, clock=notify.clock).verify("rate", token)
    assert claims["ref"] == request.reference
    assert claims["sub"] == str(person.citizen_id)
    assert claims["round"] == 2  # it rates this answer, not one that may follow a reopening


async def test_an_escalation_reaches_the_entity_head_on_every_channel(notify: Notify) -> None:
    head = f.official(email="head@mwi.gov.jo", channel=NoticeChannel.email)
    await notify.publish(head)
    await notify.publish(c.DirectoryEntityChanged(
        entity="MWI", sector="MWI", name_ar="وزارة المياه والري",
        name_en="Ministry of Water and Irrigation", change=DirectoryChange.created))
    escalation = c.SlaEscalated(
        reference=f.reference(), level=1, entity="MWI", sector="MWI",
        stage=SlaStage.first_response, overdue_since=notify.clock.now(),
        recipient_ids=[head.person_id])
    await notify.publish(escalation)
    await statuses_become(notify, [DeliveryStatus.delivered, DeliveryStatus.submitted],
                          recipient_id=head.person_id)
    assert head.phone is not None  # official() always gives one
    (sms,) = notify.gateway.texts_to(head.phone)
    assert escalation.reference in sms
    assert "وزارة المياه والري" in sms
    (mail,) = notify.smtp.to("head@mwi.gov.jo")
    assert "تصعيد" in str(mail["Subject"])


async def test_a_forwarded_report_tells_the_commission_only_that_one_arrived(
    notify: Notify,
) -> None:
    member = f.official(email=None)
    await notify.publish(member)
    await notify.publish(f.role(member.person_id, Role.integrity_commission))
    forwarded = c.ReportForwarded(envelope_id=uuid.uuid4())
    await notify.publish(forwarded)
    (row,) = await statuses_become(notify, [DeliveryStatus.delivered],
                                   recipient_id=member.person_id)
    assert member.phone is not None  # official() always gives one
    (sms,) = notify.gateway.texts_to(member.phone)
    assert "بلاغ" in sms
    assert str(forwarded.envelope_id) not in sms
    assert row.reference is None
    assert str(forwarded.envelope_id) not in json.dumps(row.context)


async def test_an_event_about_an_unknown_request_is_dead_lettered_not_guessed(
    notify: Notify,
) -> None:
    envelope = await notify.publish(c.RequestClosed(
        reference="BKH-NEVER-SEEN", closing_code=ClosingCode.resolved,
        closed_by=ClosedBy.system))

    async def dead_lettered() -> None:
        dead = await notify.runtime.bus.dead_letters("bkh.notify.notices")
        assert any(str(envelope.id) in body.decode() and "unknown to notify" in reason
                   for body, reason in dead)
    await eventually(dead_lettered)
    assert await notify.rows() == []


async def test_a_recipient_missing_from_the_contact_book_is_skipped(notify: Notify) -> None:
    person = f.citizen()
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    stranger = uuid.uuid4()
    await notify.publish(c.RequestAssigned(reference=request.reference, entity="MWI",
                                           sector="MWI", officer_ids=[stranger]))
    await statuses_become(notify, [DeliveryStatus.delivered] * 2, reference=request.reference)
    assert await notify.rows(recipient_id=stranger) == []


async def test_an_smtp_outage_opens_its_breaker_and_never_holds_back_sms(
    postgres_url: str, pg_schema: str, smtp_server: SmtpServer,
) -> None:
    assert isinstance(smtp_server, SmtpServer)
    closed = SmtpServer("127.0.0.1", 9, smtp_server.ca_file)  # nothing listens on port 9
    async with running_notify(postgres_url, pg_schema, closed) as service:
        by_mail = f.citizen(channel=NoticeChannel.email, email="m@example.jo")
        by_sms = f.citizen()
        await service.publish(by_mail)
        await service.publish(by_sms)
        mailed, texted = f.submitted(by_mail.citizen_id), f.submitted(by_sms.citizen_id)
        await service.publish(mailed)
        await service.publish(texted)
        await statuses_become(service, [DeliveryStatus.delivered], reference=texted.reference)
        lane = dispatcher_of(service.runtime).lanes[NoticeChannel.email]

        async def opened() -> None:
            assert lane.breaker.failures >= 2
        await eventually(opened)
        (row,) = await service.rows(reference=mailed.reference)
        assert row.status in (DeliveryStatus.queued, DeliveryStatus.dead_lettered)
        assert row.reason_code == "smtp_unavailable"
        # While the relay is down, SMS keeps flowing.
        later = f.submitted(by_sms.citizen_id)
        await service.publish(later)
        await statuses_become(service, [DeliveryStatus.delivered], reference=later.reference)


async def test_two_dispatchers_on_one_database_send_each_message_once(notify: Notify) -> None:
    from services.notify.config import NotifySettings
    from services.notify.dispatcher import Dispatcher

    settings = notify.runtime.settings
    assert isinstance(settings, NotifySettings)
    replica = Dispatcher(settings=settings, clock=notify.clock,
                         sessionmaker=notify.runtime.sessionmaker, outbox=notify.runtime.outbox)
    replica.start()
    try:
        people = [f.citizen() for _ in range(30)]
        for person in people:
            await notify.publish(person)
        for person in people:
            for _ in range(4):
                await notify.publish(f.submitted(person.citizen_id))
        await statuses_become(notify, [DeliveryStatus.delivered] * 120, kind="requester.received")
    finally:
        await replica.stop()
    references = [sms.client_reference for sms in notify.gateway.sent]
    assert len(references) == len(set(references)) == 120
    async with notify.runtime.sessionmaker() as session:
        attempts = (await session.execute(select(notifications.c.attempts))).scalars().all()
    assert set(attempts) == {1}


async def test_a_dead_lettered_code_cannot_be_sent_again_for_it_is_gone(notify: Notify) -> None:
    number = f.phone()
    notify.gateway.fail_next(3, 503)
    envelope = await notify.publish(f.code(number, now=notify.clock.now()))
    (row,) = await statuses_become(notify, [DeliveryStatus.dead_lettered],
                                   source_event_id=envelope.id)
    retried = await notify.client.post(f"/api/v1/notifications/{row.id}/retry",
                                       headers=notify.auth(Role.cmu_staff))
    assert retried.status_code == 409
    assert notify.gateway.texts_to(number) == []


async def test_a_code_is_claimed_before_a_backlog_of_notices(notify: Notify) -> None:
    from services.notify import repository
    from services.notify.process import HOLDER

    await dispatcher_of(notify.runtime).stop()  # let a backlog build up
    person = f.citizen()
    await notify.publish(person)
    for _ in range(30):
        await notify.publish(f.submitted(person.citizen_id))
    code = await notify.publish(f.code(f.phone(), now=notify.clock.now()))
    await statuses_become(notify, [DeliveryStatus.queued] * 31, channel="sms")
    now = notify.clock.now()
    async with notify.runtime.sessionmaker.begin() as session:
        (first,) = await repository.claim(session, channel="sms", now=now, limit=1,
                                          holder=HOLDER, lease_until=now + timedelta(minutes=1))
    assert first.source_event_id == code.id
