"""The read model follows the event stream: each rule of docs/indicators.md, proved through the
real bus into the real database and read back through the API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.analytics import models
from services.analytics.rebuild import rebuild
from shared.bus import OutgoingMessage
from shared.events import catalog as c
from shared.events.envelope import new_envelope
from shared.events.vocabulary import (
    ClockKind,
    ClosedBy,
    ClosingCode,
    LegalGround,
    RequestKind,
    Role,
    SlaStage,
)
from tests.analytics.conftest import World
from tests.platform import eventually

OFFICER = uuid.uuid4()


def assigned(reference: str, entity: str = "MOH-HOSP", sector: str = "MOH") -> c.RequestAssigned:
    return c.RequestAssigned(reference=reference, entity=entity, sector=sector,
                             officer_ids=[OFFICER])


def accepted(reference: str) -> c.RequestAccepted:
    return c.RequestAccepted(reference=reference, classification="water",
                             processing_working_days=5, actor_id=OFFICER)


def responded(reference: str) -> c.RequestResponded:
    return c.RequestResponded(reference=reference, actions_taken="زيارة ميدانية",
                              solution="أعيد الضخ", actor_id=OFFICER)


def closed(reference: str, code: ClosingCode = ClosingCode.resolved) -> c.RequestClosed:
    return c.RequestClosed(reference=reference, closing_code=code, closed_by=ClosedBy.requester)


async def test_received_open_and_closed_follow_the_lifecycle(world: World) -> None:
    await world.seed_directory()
    for reference in ("JO-1", "JO-2", "JO-3"):
        await world.submit(reference)
    await world.publish(assigned("JO-1"), accepted("JO-1"), responded("JO-1"), closed("JO-1"))
    await world.settled()

    kpis = await world.kpis()
    assert (kpis["received"], kpis["open"], kpis["closed"]) == (3, 2, 1)
    assert kpis["by_status"]["received"] == 2
    assert kpis["answered"] == 1


async def test_only_the_resolved_closing_code_counts_as_resolved(world: World) -> None:
    await world.seed_directory()
    codes = [ClosingCode.resolved, ClosingCode.partly_resolved, ClosingCode.withdrawn,
             ClosingCode.duplicate]
    for index, code in enumerate(codes):
        reference = f"JO-{index}"
        await world.submit(reference)
        await world.publish(assigned(reference), closed(reference, code))
    await world.settled()

    kpis = await world.kpis()
    assert kpis["closed"] == 4
    assert kpis["resolved"] == 1
    assert kpis["resolved_pct"] == 25.0
    assert kpis["closing_codes"]["partly_resolved"] == 1


async def test_a_department_counts_under_its_entity(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1", entity="MOH-HOSP-ER")
    await world.settled()

    head = world.auth(Role.entity_head, entities=["MOH-HOSP"])
    assert (await world.kpis(head))["received"] == 1


async def test_a_triaged_request_becomes_its_entitys_receipt_once_placed(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1", entity=None, sector=None)
    await world.publish(c.RequestTriaged(reference="JO-1", reason=c.TriageReason.no_entity))
    await world.settled()
    head = world.auth(Role.entity_head, entities=["MOE-SCH"])
    assert (await world.kpis(head))["received"] == 0
    assert (await world.kpis())["by_status"]["triage"] == 1

    await world.publish(assigned("JO-1", "MOE-SCH", "MOE"))
    await world.settled()
    assert (await world.kpis(head))["received"] == 1
    assert (await world.kpis())["received"] == 1  # moved, not counted twice


async def test_a_rating_of_one_counts_in_the_share_of_dissatisfied(world: World) -> None:
    await world.seed_directory()
    for index, score in enumerate((1, 4, 5, 5)):
        reference = f"JO-{index}"
        await world.submit(reference)
        await world.publish(assigned(reference), responded(reference),
                            c.RequestRated(reference=reference, score=score))
    await world.settled()

    kpis = await world.kpis()
    assert kpis["ratings"] == 4
    assert kpis["satisfaction_mean"] == 3.75
    assert kpis["rating_1_pct"] == 25.0
    assert kpis["satisfaction_distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}


async def test_chased_requests_are_counted_once_each_against_their_entity(
        world: World) -> None:
    await world.seed_directory()
    due = world.clock.now()
    for reference, chases in (("JO-1", 3), ("JO-2", 1), ("JO-3", 0)):
        await world.submit(reference)
        await world.publish(assigned(reference), *(
            c.RequestChased(reference=reference, entity="MOH-HOSP", sector="MOH",
                            stage=SlaStage.first_response, due_at=due, chase=n)
            for n in range(1, chases + 1)))
    await world.settled()

    assert (await world.kpis())["chased"] == 2
    hospital = world.auth(Role.entity_head, entities=["MOH-HOSP"])
    assert (await world.kpis(hospital))["chased"] == 2


async def test_escalations_transfers_and_reopenings_are_counted(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1")
    now = world.clock.now()
    await world.publish(
        assigned("JO-1"),
        c.SlaEscalated(reference="JO-1", level=1, entity="MOH-HOSP", sector="MOH",
                       stage=SlaStage.first_response, overdue_since=now),
        c.SlaEscalated(reference="JO-1", level=2, entity="MOH-HOSP", sector="MOH",
                       stage=SlaStage.first_response, overdue_since=now),
        c.RequestTransferred(reference="JO-1", from_entity="MOH-HOSP", to_entity="MOH-LAB",
                             to_sector="MOH", reason="ليس من اختصاصنا", transfer_count=1,
                             actor_id=OFFICER),
        responded("JO-1"),
        c.RequestRated(reference="JO-1", score=1),
        c.RequestReviewOpened(reference="JO-1", entity="MOH-LAB", sector="MOH"),
        c.RequestReopened(reference="JO-1", entity="MOH-LAB", sector="MOH",
                          decision="يعاد للجهة", actor_id=OFFICER),
        closed("JO-1"),
    )
    await world.settled()

    kpis = await world.kpis()
    assert (kpis["escalated_level_1"], kpis["escalated_level_2"]) == (1, 1)
    assert kpis["transfers"] == 1
    assert kpis["reopened"] == 1
    assert kpis["reopen_rate_pct"] == 100.0
    # The transfer counts against the entity that passed the request on.
    hospital = world.auth(Role.entity_head, entities=["MOH-HOSP"])
    assert (await world.kpis(hospital))["transfers"] == 1
    lab = world.auth(Role.entity_head, entities=["MOH-LAB"])
    assert (await world.kpis(lab))["closed"] == 1


async def test_a_response_after_a_breach_is_not_within_the_deadline(world: World) -> None:
    await world.seed_directory()
    for reference in ("JO-1", "JO-2"):
        await world.submit(reference)
        await world.publish(assigned(reference), accepted(reference))
    await world.publish(
        c.SlaBreached(reference="JO-2", clock=ClockKind.entity, entity="MOH-HOSP",
                      stage=SlaStage.processing, due_at=world.clock.now()),
        responded("JO-1"), responded("JO-2"),
    )
    await world.settled()

    kpis = await world.kpis()
    assert kpis["within_deadline_pct"] == 50.0
    assert kpis["breaches"] == 1


async def test_times_are_working_time_without_the_pause_for_information(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1")  # Sunday 09:00
    await world.publish(assigned("JO-1"))
    world.clock.advance(timedelta(hours=2))  # 11:00: first response after 2 working hours
    await world.publish(c.RequestInfoRequested(reference="JO-1", question="ما رقم العداد؟",
                                               actor_id=OFFICER))
    world.clock.advance(timedelta(days=1))  # Monday 11:00: a whole working day paused
    await world.publish(c.RequestInfoProvided(reference="JO-1", answer="123"))
    world.clock.advance(timedelta(hours=3, minutes=30))  # 14:30
    await world.publish(responded("JO-1"), closed("JO-1"))
    await world.settled()

    async with world.runtime.sessionmaker() as session:
        row = (await session.execute(select(models.requests))).mappings().one()
    working_day_s = 7 * 3600
    assert abs(row["first_response_wd"] - 2 * 3600 / working_day_s) < 0.01
    # Sunday 09:00 → Monday 14:30 is 1 day + 5.5 h of working time, less 1 day paused.
    assert abs(row["resolution_wd"] - 5.5 * 3600 / working_day_s) < 0.01


async def test_an_inadmissible_request_is_rejected_and_not_open(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1")
    await world.publish(assigned("JO-1"), c.RequestRejected(
        reference="JO-1", legal_ground=LegalGround.before_court, reason="منظورة أمام القضاء",
        actor_id=OFFICER))
    await world.settled()

    kpis = await world.kpis()
    assert (kpis["inadmissible"], kpis["open"]) == (1, 0)


async def test_the_same_event_delivered_twice_is_applied_once(world: World) -> None:
    await world.seed_directory()
    event_id = uuid.uuid4()
    await world.submit("JO-1")
    await world.publish(assigned("JO-1"))
    await world.publish(closed("JO-1"), event_id=event_id)
    await world.publish(closed("JO-1"), event_id=event_id)
    await world.settled(world.published - 1)

    async def closed_once() -> None:
        kpis = await world.kpis()
        assert kpis["closed"] == 1

    await eventually(closed_once)
    async with world.runtime.sessionmaker() as session:
        logged = await session.scalar(select(func.count()).select_from(models.event_log))
    assert logged == world.published - 1


async def test_an_event_that_overtakes_its_submission_waits_for_it(world: World) -> None:
    await world.seed_directory()
    await world.publish(assigned("JO-9"))  # routing's event, before intake's (a retry did it)
    await world.settled(world.published - 1)
    await world.submit("JO-9")

    async def assigned_in_the_end() -> None:
        kpis = await world.kpis()
        assert kpis["by_status"]["assigned"] == 1

    await eventually(assigned_in_the_end)


async def test_the_event_log_keeps_no_free_text_and_no_person(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1")
    await world.publish(assigned("JO-1"), responded("JO-1"))
    await world.settled()

    async with world.runtime.sessionmaker() as session:
        logged = [row.facts for row in await session.execute(select(models.event_log))]
    text = repr(logged)
    for secret in ("انقطاع المياه", "لا تصل المياه", "أعيد الضخ", str(OFFICER),
                   "requester_id", "officer_ids", "ليلى الحسيني", "requester_name"):
        assert secret not in text


async def test_replaying_the_log_rebuilds_the_same_figures(world: World) -> None:
    await world.seed_directory()
    for index in range(5):
        reference = f"JO-{index}"
        await world.submit(reference, kind=RequestKind.inquiry if index % 2 else
                           RequestKind.complaint)
        await world.publish(assigned(reference), accepted(reference))
        if index < 3:
            await world.publish(responded(reference), closed(reference))
    await world.settled()
    before = await world.kpis()
    report_before = (await world.get("/api/v1/analytics/reports", group_by="entity,kind")).json()

    async with world.runtime.sessionmaker.begin() as session:
        await session.execute(models.rollup_day_entity.delete())  # damage the read model
    replayed = await rebuild(world.runtime.sessionmaker, batch_size=7)

    assert replayed == world.published
    after = await world.kpis()
    for volatile in ("as_of",):
        before.pop(volatile), after.pop(volatile)
    assert after == before
    report_after = (await world.get("/api/v1/analytics/reports", group_by="entity,kind")).json()
    assert report_after == report_before


def breached(reference: str, at: datetime, stage: SlaStage = SlaStage.first_response
             ) -> c.SlaBreached:
    return c.SlaBreached(reference=reference, clock=ClockKind.entity, entity="MOH-HOSP",
                         stage=stage, due_at=at)


def escalated(reference: str, level: int, at: datetime) -> c.SlaEscalated:
    return c.SlaEscalated(reference=reference, level=level, entity="MOH-HOSP", sector="MOH",
                          stage=SlaStage.first_response, overdue_since=at)


async def test_an_unanswered_request_escalated_to_the_minister_counts_against_the_entity(
    world: World,
) -> None:
    """The minister's case of issue 17: three requests, one answered twice (reopened after a
    rating of 1), one answered once, one never answered and escalated up to the minister."""
    await world.seed_directory()
    for reference in ("JO-1", "JO-2", "JO-3"):
        await world.submit(reference)
        await world.publish(assigned(reference))
    await world.publish(accepted("JO-1"), responded("JO-1"), accepted("JO-2"), responded("JO-2"),
                        c.RequestRated(reference="JO-1", score=1),
                        c.RequestReviewOpened(reference="JO-1", entity="MOH-HOSP", sector="MOH"),
                        c.RequestReopened(reference="JO-1", entity="MOH-HOSP", sector="MOH",
                                          decision="يعاد للجهة", actor_id=OFFICER))
    world.clock.advance(timedelta(days=1))
    now = world.clock.now()
    await world.publish(responded("JO-1"), breached("JO-3", now), escalated("JO-3", 1, now))
    world.clock.advance(timedelta(days=1))
    await world.publish(escalated("JO-3", 2, world.clock.now()))
    await world.settled()

    minister = world.auth(Role.minister, sectors=["MOH"])
    kpis = await world.kpis(minister)
    assert kpis["received"] == 3
    assert kpis["answered"] == 2  # JO-1 once, however many rounds
    assert kpis["response_rate_pct"] == 66.7
    assert kpis["within_deadline_pct"] == 66.7  # JO-3's missed deadline counts against
    assert kpis["breaches"] == 1
    assert (kpis["escalated_level_1"], kpis["escalated_level_2"]) == (1, 1)


async def test_satisfaction_counts_each_request_once_by_its_latest_rating(world: World) -> None:
    """Each answer round is rated on its own (`request.rated` again for the same reference): the
    new answer's rating replaces the earlier one, which stays in the reopen figures."""
    await world.seed_directory()
    await world.submit("JO-1")
    sunday = world.clock.now().date()
    await world.publish(assigned("JO-1"), accepted("JO-1"), responded("JO-1"),
                        c.RequestRated(reference="JO-1", score=1),
                        c.RequestReviewOpened(reference="JO-1", entity="MOH-HOSP", sector="MOH"),
                        c.RequestReopened(reference="JO-1", entity="MOH-HOSP", sector="MOH",
                                          decision="يعاد للجهة", actor_id=OFFICER))
    world.clock.advance(timedelta(days=2))
    await world.publish(responded("JO-1"), c.RequestRated(reference="JO-1", score=4),
                        closed("JO-1"))
    await world.settled()

    kpis = await world.kpis()
    assert kpis["ratings"] == 1
    assert kpis["satisfaction_mean"] == 4.0
    assert kpis["satisfaction_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert kpis["rating_1_pct"] == 0.0
    assert (kpis["reopened"], kpis["reopen_rate_pct"]) == (1, 100.0)
    # The day of the first rating no longer holds it: the request counts where it was rated last.
    first_day = await world.kpis(from_=sunday.isoformat(), to=sunday.isoformat())
    assert (first_day["ratings"], first_day["satisfaction_mean"]) == (0, None)
    assert first_day["reopened"] == 1
    report = (await world.get("/api/v1/analytics/reports", group_by="entity")).json()
    assert [(r["satisfaction_mean"], r["reopened"]) for r in report["rows"]] == [(4.0, 1)]


async def test_a_rating_delivered_after_a_newer_one_does_not_replace_it(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1")
    earlier = world.clock.now()
    await world.publish(assigned("JO-1"), responded("JO-1"))
    world.clock.advance(timedelta(hours=3))
    await world.publish(c.RequestRated(reference="JO-1", score=5))
    await world.settled()
    late = c.RequestRated(reference="JO-1", score=1)
    envelope_clock = type(world.clock)()
    envelope_clock.set(earlier)
    await world.bus.publish([OutgoingMessage.from_envelope(new_envelope(
        late, producer=c.PRODUCERS[c.EventType.request_rated], clock=envelope_clock,
        correlation_id="JO-1"))])
    world.published += 1
    await world.settled()

    kpis = await world.kpis()
    assert (kpis["ratings"], kpis["satisfaction_mean"]) == (1, 5.0)


async def test_only_the_entitys_own_clock_can_breach_against_it(world: World) -> None:
    """The requester's clock (the whole processing time) is not the entity's deadline."""
    await world.seed_directory()
    await world.submit("JO-1")
    await world.publish(assigned("JO-1"), accepted("JO-1"), c.SlaBreached(
        reference="JO-1", clock=ClockKind.requester, entity=None, stage=SlaStage.processing,
        due_at=world.clock.now()), responded("JO-1"))
    await world.settled()

    kpis = await world.kpis()
    assert (kpis["breaches"], kpis["within_deadline_pct"]) == (0, 100.0)


async def test_a_transfer_keeps_the_verdict_and_the_new_entity_answers_for_its_own_clock(
    world: World,
) -> None:
    await world.seed_directory()
    for reference in ("JO-1", "JO-2"):
        await world.submit(reference)
        await world.publish(assigned(reference))
    await world.publish(breached("JO-1", world.clock.now()))
    for reference in ("JO-1", "JO-2"):
        await world.publish(c.RequestTransferred(
            reference=reference, from_entity="MOH-HOSP", to_entity="MOH-LAB", to_sector="MOH",
            reason="ليس من اختصاصنا", transfer_count=1, actor_id=OFFICER))
    await world.publish(responded("JO-1"), responded("JO-2"))
    await world.settled()

    hospital = await world.kpis(world.auth(Role.entity_head, entities=["MOH-HOSP"]))
    lab = await world.kpis(world.auth(Role.entity_head, entities=["MOH-LAB"]))
    # JO-1 was judged once, against the hospital that let it go overdue; JO-2 for the lab.
    assert (hospital["deadline_missed"], hospital["deadline_met"]) == (1, 0)
    assert (lab["deadline_missed"], lab["deadline_met"]) == (0, 1)
    assert (await world.kpis())["within_deadline_pct"] == 50.0
