"""Who hears what: requesters, officers, heads and ministers, the CMU, the commission; the
contact book follows the directory, and the officers' digest keeps to working days."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta

from services.notify.models import DeliveryStatus
from shared.calendar import AMMAN, WorkingCalendar
from shared.events import catalog as c
from shared.events.envelope import EventPayload
from shared.events.vocabulary import (
    ClockKind,
    ClosedBy,
    ClosingCode,
    Language,
    NoticeChannel,
    Role,
    SlaStage,
)
from tests.notify import factories as f
from tests.notify.conftest import Notify
from tests.notify.test_delivery import statuses_become

DELIVERED = DeliveryStatus.delivered


async def _request(notify: Notify) -> tuple[c.CitizenRegistered, c.RequestSubmitted]:
    person = f.citizen()
    await notify.publish(person)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    await statuses_become(notify, [DELIVERED], reference=request.reference)
    return person, request


async def test_the_cmu_hears_of_triage_and_of_a_rating_of_one(notify: Notify) -> None:
    staff, admin = f.official(email=None), f.official(email=None)
    for person, role in ((staff, Role.cmu_staff), (admin, Role.cmu_admin)):
        await notify.publish(person)
        await notify.publish(f.role(person.person_id, role))
    _person, request = await _request(notify)
    await notify.publish(c.RequestTriaged(reference=request.reference,
                                          reason=c.TriageReason.no_entity))
    await notify.publish(c.RequestReviewOpened(reference=request.reference, entity="MWI",
                                               sector="MWI"))
    rows = await statuses_become(notify, [DELIVERED, DELIVERED], recipient_id=staff.person_id)
    assert sorted(row.kind for row in rows) == ["cmu.review_opened", "cmu.triaged"]
    assert await notify.rows(recipient_id=admin.person_id) == []  # staff handle the queue


async def test_a_revoked_role_hears_no_more(notify: Notify) -> None:
    member = f.official(email=None)
    await notify.publish(member)
    await notify.publish(f.role(member.person_id, Role.integrity_commission))
    await notify.publish(f.role(member.person_id, Role.integrity_commission, granted=False))
    await notify.publish(c.ReportForwarded(envelope_id=uuid.uuid4()))
    await asyncio.sleep(0.5)
    assert await notify.rows(recipient_id=member.person_id) == []


async def test_a_sector_report_goes_to_its_minister_and_the_national_one_to_decision_makers(
    notify: Notify,
) -> None:
    minister, other, pm_office = (f.official(email=None) for _ in range(3))
    for person, role, sector in ((minister, Role.minister, "MWI"),
                                 (other, Role.minister, "MOH"),
                                 (pm_office, Role.decision_maker, None)):
        await notify.publish(person)
        await notify.publish(f.role(person.person_id, role, sector=sector))
    for sector in ("MWI", None):
        await notify.publish(c.AnalyticsReportPublished(
            report_id=uuid.uuid4(), cadence=c.ReportCadence.weekly,
            period_start=date(2026, 11, 15), period_end=date(2026, 11, 21), sector=sector,
            link=f"/api/v1/analytics/reports/{uuid.uuid4()}"))
    await statuses_become(notify, [DELIVERED], recipient_id=minister.person_id)
    await statuses_become(notify, [DELIVERED], recipient_id=pm_office.person_id)
    assert await notify.rows(recipient_id=other.person_id) == []
    assert minister.phone is not None  # official() always gives one
    (sms,) = notify.gateway.texts_to(minister.phone)
    assert "https://bekhedmetkom.test/api/v1/analytics/reports/" in sms


async def test_officers_hear_of_assignment_and_distribution_on_every_channel(
    notify: Notify,
) -> None:
    main, sub = f.official(email="main@mwi.gov.jo"), f.official(email="sub@mwi.gov.jo",
                                                                 language=Language.en)
    for officer in (main, sub):
        await notify.publish(officer)
    person, request = await _request(notify)
    await notify.publish(c.RequestAssigned(reference=request.reference, entity="MWI",
                                           sector="MWI", officer_ids=[main.person_id]))
    await notify.publish(c.RequestDistributed(reference=request.reference, entity="MWI",
                                              sector="MWI", officer_ids=[sub.person_id],
                                              actor_id=main.person_id))
    main_rows = await statuses_become(notify, [DELIVERED, DeliveryStatus.submitted],
                                      recipient_id=main.person_id)
    assert {row.kind for row in main_rows} == {"officer.assigned"}
    await statuses_become(notify, [DELIVERED, DeliveryStatus.submitted],
                          recipient_id=sub.person_id)
    (english,) = notify.smtp.to("sub@mwi.gov.jo")
    assert str(english["Subject"]) == f"Request {request.reference} was handed to you"
    # The requester heard of the assignment, not of the internal distribution.
    kinds = sorted(row.kind for row in await notify.rows(recipient_id=person.citizen_id))
    assert kinds == ["requester.assigned", "requester.received"]


async def test_the_officers_holding_a_request_hear_that_the_cmu_reopened_it(
    notify: Notify,
) -> None:
    officer = f.official(email=None)
    await notify.publish(officer)
    _person, request = await _request(notify)
    ref = request.reference
    await notify.publish(c.RequestAssigned(reference=ref, entity="MWI", sector="MWI",
                                           officer_ids=[officer.person_id]))
    await statuses_become(notify, [DELIVERED], recipient_id=officer.person_id)
    await notify.publish(c.RequestReopened(reference=ref, entity="MWI", sector="MWI",
                                           decision="لم تُحل المشكلة", actor_id=uuid.uuid4()))
    rows = await statuses_become(notify, [DELIVERED, DELIVERED], recipient_id=officer.person_id)
    assert sorted(row.kind for row in rows) == ["officer.assigned", "officer.reopened"]
    assert officer.phone is not None  # official() always gives one
    assert any("أعادت الوحدة المركزية فتح الطلب" in text and ref in text
               for text in notify.gateway.texts_to(officer.phone))


async def test_a_chase_reaches_the_officers_holding_the_request_and_the_entity_head(
    notify: Notify,
) -> None:
    officer, head, other_head = (f.official(email=None) for _ in range(3))
    for person in (officer, head, other_head):
        await notify.publish(person)
    await notify.publish(f.role(head.person_id, Role.entity_head, entity="MWI"))
    await notify.publish(f.role(other_head.person_id, Role.entity_head, entity="MOH"))
    _person, request = await _request(notify)
    ref = request.reference
    await notify.publish(c.RequestAssigned(reference=ref, entity="MWI", sector="MWI",
                                           officer_ids=[officer.person_id]))
    await statuses_become(notify, [DELIVERED], recipient_id=officer.person_id)
    await notify.publish(c.RequestChased(
        reference=ref, entity="MWI", sector="MWI", stage="first_response",
        due_at=datetime(2026, 11, 22, 7, tzinfo=UTC), note="مضى الموعد", chase=1))
    for person in (officer, head):
        rows = await statuses_become(notify, [DELIVERED] * (2 if person is officer else 1),
                                     recipient_id=person.person_id)
        assert "officer.chased" in [row.kind for row in rows]
        assert person.phone is not None
        assert any("تذكير" in text and ref in text
                   for text in notify.gateway.texts_to(person.phone))
    assert await notify.rows(recipient_id=other_head.person_id) == []


async def test_the_requester_hears_every_step_of_the_request(notify: Notify) -> None:
    person, request = await _request(notify)
    actor = uuid.uuid4()
    ref = request.reference
    steps: list[EventPayload] = [
        c.RequestAssigned(reference=ref, entity="MWI", sector="MWI", officer_ids=[actor]),
        c.RequestAccepted(reference=ref, classification="water.supply",
                          processing_working_days=5, actor_id=actor),
        c.RequestInfoRequested(reference=ref, question="ما رقم العداد؟", actor_id=actor),
        c.RequestExtended(reference=ref, extension_number=1, added_working_days=2,
                          reason="زيارة ميدانية", actor_id=actor),
        c.RequestResponded(reference=ref, actions_taken="فحص", solution="إصلاح",
                           actor_id=actor),
        c.RequestReopened(reference=ref, entity="MWI", sector="MWI", decision="لم تُحل",
                          actor_id=actor),
        c.RequestClosed(reference=ref, closing_code=ClosingCode.resolved,
                        closed_by=ClosedBy.requester, actor_id=person.citizen_id),
    ]
    for step in steps:
        await notify.publish(step, correlation_id=ref)
    rows = await statuses_become(notify, [DELIVERED] * 8, recipient_id=person.citizen_id)
    assert [row.kind for row in rows] == [
        "requester.received", "requester.assigned", "requester.accepted",
        "requester.info_requested", "requester.extended", "requester.responded",
        "requester.reopened", "requester.closed"]
    texts = notify.gateway.texts_to(person.phone)
    assert len(texts) == 8
    assert any("5 أيام عمل" in text for text in texts)  # the acceptance, with its deadline


async def test_merged_duplicates_are_told_and_then_hear_the_answer(notify: Notify) -> None:
    first_person, kept = await _request(notify)
    second_person, duplicate = await _request(notify)
    await notify.publish(c.RequestClosed(reference=duplicate.reference,
                                         closing_code=ClosingCode.duplicate,
                                         closed_by=ClosedBy.officer, actor_id=uuid.uuid4(),
                                         merged_into=kept.reference))
    await notify.publish(c.RequestResponded(reference=kept.reference, actions_taken="فحص",
                                            solution="إصلاح", actor_id=uuid.uuid4(),
                                            also_answers=[duplicate.reference]))
    rows = await statuses_become(notify, [DELIVERED] * 3, recipient_id=second_person.citizen_id)
    assert [row.kind for row in rows] == ["requester.received", "requester.closed",
                                          "requester.duplicate_answered"]
    told = [t for t in notify.gateway.texts_to(second_person.phone) if kept.reference in t]
    assert len(told) == 2  # joined to it, then its answer
    assert all("/rate/" not in text for text in told)  # the rating is the other's
    assert any("/rate/" in t for t in notify.gateway.texts_to(first_person.phone))


async def test_a_late_older_contact_change_does_not_undo_a_newer_one(notify: Notify) -> None:
    person = f.citizen(channel=NoticeChannel.sms)
    newer = c.CitizenContactChanged(citizen_id=person.citizen_id, phone=f.phone(),
                                    email=None, language=Language.en,
                                    notice_channel=NoticeChannel.sms)
    await notify.publish(person)
    notify.clock.advance(timedelta(minutes=1))
    newer_envelope = await notify.publish(newer)
    # The registration's own event, redelivered late with its original (older) instant.
    from shared.bus import OutgoingMessage
    from shared.events.envelope import new_envelope
    old = new_envelope(c.CitizenContactChanged(
        citizen_id=person.citizen_id, phone=person.phone, email=None, language=Language.ar,
        notice_channel=NoticeChannel.sms), producer="intake", clock=notify.clock)
    stale = old.model_copy(update={"occurred_at": newer_envelope.occurred_at
                                   - timedelta(seconds=30)})
    await notify.runtime.bus.publish([OutgoingMessage.from_envelope(stale)])
    await asyncio.sleep(0.3)
    request = f.submitted(person.citizen_id)
    await notify.publish(request)
    (row,) = await statuses_become(notify, [DELIVERED], reference=request.reference)
    assert row.address == newer.phone
    assert row.language == "en"


def _next(weekday: int, after: datetime, hour: int) -> datetime:
    """The next `weekday` (Monday 0) after `after` that is a working day or, for Friday, any."""
    day = after.astimezone(AMMAN).date() + timedelta(days=1)
    while day.weekday() != weekday or (weekday != 4 and not WorkingCalendar().is_working_day(day)):
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, 5), AMMAN).astimezone(UTC)


async def test_officers_get_one_digest_of_overdue_requests_per_working_day(
    notify: Notify,
) -> None:
    notify.clock.set(_next(4, notify.clock.now(), 9))  # a Friday morning: no digest today
    officer = f.official(email=None)
    await notify.publish(officer)
    _person, request = await _request(notify)
    await notify.publish(c.RequestAssigned(reference=request.reference, entity="MWI",
                                           sector="MWI", officer_ids=[officer.person_id]))
    await notify.publish(c.SlaBreached(reference=request.reference, clock=ClockKind.entity,
                                       entity="MWI", stage=SlaStage.first_response,
                                       due_at=notify.clock.now()))
    await statuses_become(notify, [DELIVERED], recipient_id=officer.person_id)
    await asyncio.sleep(0.5)
    assert [r.kind for r in await notify.rows(recipient_id=officer.person_id)].count(
        "officer.overdue_digest") == 0

    notify.clock.set(_next(6, notify.clock.now(), 9))  # the next working Sunday morning
    rows = await statuses_become(notify, [DELIVERED] * 2, recipient_id=officer.person_id)
    digest = next(row for row in rows if row.kind == "officer.overdue_digest")
    await asyncio.sleep(0.5)  # the digest loop runs again on the same day: nothing new
    assert len(await notify.rows(recipient_id=officer.person_id)) == 2
    assert officer.phone is not None  # official() always gives one
    assert request.reference in notify.gateway.texts_to(officer.phone)[-1]
    assert digest.priority == 2
