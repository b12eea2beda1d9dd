"""Deadlines from lifecycle events that arrive through RabbitMQ into SLA's own queue.

Each test plays routing and intake (publishing their events on the bus), moves SLA's simulated
clock through the working days of 5–9 September 2027, and listens to what SLA says.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.sla.repository import next_due
from shared.bus import OutgoingMessage
from shared.events.catalog import EventType, SlaBreached, SlaDeadlineSet, SlaEscalated
from shared.events.vocabulary import ClockKind, RequestKind, Role, SlaStage
from tests.platform import eventually
from tests.sla.conftest import World
from tests.sla.facts import ENTITY, SECTOR, Story, amman, role_changed

HEAD, MINISTER, CMU = (uuid.UUID(int=n) for n in (1, 2, 3))


async def directory(world: World) -> None:
    """Routing announces who heads the entity, who is the sector's minister, who is CMU staff."""
    at = amman(2027, 9, 1, 9)
    await world.publish(role_changed(HEAD, Role.entity_head, at, entity=ENTITY),
                        role_changed(MINISTER, Role.minister, at, sector=SECTOR),
                        role_changed(CMU, Role.cmu_staff, at))


async def escalations(world: World, reference: str, count: int) -> list[SlaEscalated]:
    async def heard() -> list[SlaEscalated]:
        found = world.heard(EventType.sla_escalated, reference)
        assert len(found) >= count, f"{len(found)} escalations of {count}"
        return found

    return await eventually(heard)


async def test_an_assignment_sets_the_first_response_deadline_and_announces_it(
    world: World,
) -> None:
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9, 30)))
    found = await world.until_timers(story.reference, "entity:1:first_response:deadline",
                                     "entity:1:first_response:escalation_2")
    assert found["entity:1:first_response:escalation_2"].state == "pending"

    deadline = await one_heard(world, EventType.sla_deadline_set, story.reference)
    assert isinstance(deadline, SlaDeadlineSet)
    assert (deadline.clock, deadline.entity, deadline.stage) == (
        ClockKind.entity, ENTITY, SlaStage.first_response)
    assert deadline.due_at == amman(2027, 9, 6, 9, 30)


async def test_no_response_for_a_working_day_tells_the_entity_head_then_the_minister(
    world: World,
) -> None:
    await directory(world)
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_1")
    world.clock.set(amman(2027, 9, 6, 8, 59))
    await _a_scheduler_round(world)
    assert world.heard(EventType.sla_escalated, story.reference) == []

    world.clock.set(amman(2027, 9, 6, 9))
    (first,) = await escalations(world, story.reference, 1)
    assert first.level == 1
    assert (first.entity, first.sector, first.stage) == (ENTITY, SECTOR, SlaStage.first_response)
    assert first.recipient_ids == [HEAD, CMU]  # the CMU hears of escalations by default
    assert first.overdue_since == amman(2027, 9, 6, 9)
    breached = await one_heard(world, EventType.sla_breached, story.reference)
    assert isinstance(breached, SlaBreached)
    assert breached.stage is SlaStage.first_response

    world.clock.set(amman(2027, 9, 7, 9))
    _, second = await escalations(world, story.reference, 2)
    assert second.level == 2
    assert second.recipient_ids == [MINISTER, CMU]
    assert second.overdue_since == amman(2027, 9, 6, 9)


async def test_a_thursday_assignment_escalates_on_sunday_not_on_friday(world: World) -> None:
    await directory(world)
    story = Story()
    world.clock.set(amman(2027, 9, 9, 14))
    await world.publish(story.submitted(amman(2027, 9, 9, 13)),
                        story.assigned(amman(2027, 9, 9, 14)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_1")
    world.clock.set(amman(2027, 9, 11, 23))  # Saturday night
    await _a_scheduler_round(world)
    assert world.heard(EventType.sla_escalated, story.reference) == []
    world.clock.set(amman(2027, 9, 12, 14))  # Sunday 14:00
    (first,) = await escalations(world, story.reference, 1)
    assert first.level == 1


async def test_a_paused_request_does_not_escalate(world: World) -> None:
    await directory(world)
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)),
                        story.info_requested(amman(2027, 9, 5, 10)))

    async def paused() -> None:
        found = await world.timers(story.reference)
        timer = found.get("entity:1:first_response:escalation_1")
        assert timer is not None
        assert timer.state == "paused"

    await eventually(paused)
    world.clock.set(amman(2027, 9, 9, 14))
    await _a_scheduler_round(world)
    assert world.heard(EventType.sla_escalated, story.reference) == []
    # The answer comes on Thursday at 14:00: six working hours of the day remain.
    await world.publish(story.info_provided(amman(2027, 9, 9, 14)))

    async def resumed() -> None:
        timer = (await world.timers(story.reference))["entity:1:first_response:escalation_1"]
        assert timer.due_at == amman(2027, 9, 12, 13)

    await eventually(resumed)


async def test_a_response_stops_the_escalation_and_no_rating_closes_a_day_later(
    world: World,
) -> None:
    await directory(world)
    story = Story(kind=RequestKind.inquiry)
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)),
                        story.responded(amman(2027, 9, 5, 12)))
    await world.until_timers(story.reference, "requester:1:rating_window:deadline")
    world.clock.set(amman(2027, 9, 6, 11, 59))
    await _a_scheduler_round(world)
    assert world.heard(EventType.sla_rating_window_expired, story.reference) == []
    world.clock.set(amman(2027, 9, 6, 12))
    expired = await one_heard(world, EventType.sla_rating_window_expired, story.reference)
    assert expired.due_at == amman(2027, 9, 6, 12)
    world.clock.set(amman(2027, 9, 8, 12))
    await _a_scheduler_round(world)
    assert world.heard(EventType.sla_escalated, story.reference) == []
    assert world.heard(EventType.sla_breached, story.reference) == []


async def test_each_deadline_whose_stage_is_over_is_announced_ended_once(world: World) -> None:
    """So that the requester's list shows only live deadlines, through a reopening too."""
    story = Story()
    await world.publish(
        story.submitted(amman(2027, 9, 5, 9)), story.assigned(amman(2027, 9, 5, 9)),
        story.accepted(amman(2027, 9, 5, 10), days=3),
        story.responded(amman(2027, 9, 6, 9)), story.rated(amman(2027, 9, 6, 10), 1),
        story.review_opened(amman(2027, 9, 6, 10)), story.reopened(amman(2027, 9, 7, 9)),
        story.responded(amman(2027, 9, 8, 9), round=2),
    )
    await world.until_timers(story.reference, "requester:2:rating_window:deadline")
    entity, requester = ClockKind.entity, ClockKind.requester
    ended = [
        (entity, SlaStage.first_response, amman(2027, 9, 5, 10)),  # accepted
        (entity, SlaStage.processing, amman(2027, 9, 6, 9)),  # the first answer
        (requester, SlaStage.processing, amman(2027, 9, 6, 9)),
        (requester, SlaStage.rating_window, amman(2027, 9, 6, 10)),  # rated 1
        (requester, SlaStage.review, amman(2027, 9, 7, 9)),  # reopened
        (entity, SlaStage.processing, amman(2027, 9, 8, 9)),  # the second answer
    ]

    def heard_ended() -> list[tuple[ClockKind, SlaStage, Any]]:
        return sorted((e.clock, e.stage, e.ended_at)
                      for e in world.heard(EventType.sla_deadline_ended, story.reference))

    async def announced() -> None:
        assert heard_ended() == sorted(ended)

    await eventually(announced)
    # Live now, and so shown: the second answer's rating window alone.
    live = await world.timers(story.reference)
    assert [key for key, row in live.items()
            if row.action == "deadline" and row.state == "pending" and row.ended_at is None
            ] == ["requester:2:rating_window:deadline"]

    await world.publish(story.rated(amman(2027, 9, 8, 10), 5, round=2),
                        story.closed(amman(2027, 9, 8, 10)))
    ended.append((requester, SlaStage.rating_window, amman(2027, 9, 8, 10)))
    await eventually(announced)
    assert all(e.entity == (ENTITY if e.clock is entity else None)
               for e in world.heard(EventType.sla_deadline_ended, story.reference))


async def test_events_out_of_order_and_twice_give_the_same_deadlines(world: World) -> None:
    await directory(world)
    story = Story()
    submitted = story.submitted(amman(2027, 9, 5, 9))
    assigned = story.assigned(amman(2027, 9, 5, 9))
    responded = story.responded(amman(2027, 9, 5, 11))
    # The response overtakes the assignment, and everything comes twice.
    for event in (responded, submitted, responded, assigned, submitted, assigned):
        await world.publish(event)
    await world.until_timers(story.reference, "requester:1:rating_window:deadline")
    world.clock.set(amman(2027, 9, 8, 9))
    await one_heard(world, EventType.sla_rating_window_expired, story.reference)
    found = await world.timers(story.reference)
    # The first response was answered before it was due: no timer of it ever ran.
    assert {key: row.state for key, row in found.items()} == {
        "requester:1:rating_window:deadline": "fired"}
    assert world.heard(EventType.sla_escalated, story.reference) == []


async def test_a_message_that_is_not_an_event_is_dead_lettered(world: World) -> None:
    queue = world.bus.queue_name("sla", "lifecycle")
    await world.bus.publish([OutgoingMessage(routing_key=EventType.request_assigned,
                                             body=b'{"not": "an envelope"}',
                                             message_id=str(uuid.uuid4()))])

    async def dead() -> list[tuple[bytes, str]]:
        found = await world.bus.dead_letters(queue)
        assert found, "nothing dead-lettered yet"
        return found

    ((body, reason),) = await eventually(dead)
    assert body == b'{"not": "an envelope"}'
    assert "not an event envelope" in reason


async def test_an_event_for_a_request_sla_never_saw_submitted_still_sets_deadlines(
    world: World,
) -> None:
    story = Story()
    await world.publish(story.assigned(amman(2027, 9, 5, 9)))
    found = await world.until_timers(story.reference, "entity:1:first_response:escalation_1")
    assert found["entity:1:first_response:escalation_1"].due_at == amman(2027, 9, 6, 9)


async def test_a_role_taken_away_no_longer_hears_escalations(world: World) -> None:
    await directory(world)
    later = amman(2027, 9, 2, 9)
    await world.publish(role_changed(HEAD, Role.entity_head, later, entity=ENTITY,
                                     granted=False))
    # An older word arriving late changes nothing.
    await world.publish(role_changed(HEAD, Role.entity_head, amman(2027, 9, 1, 8),
                                     entity=ENTITY))
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_1")
    world.clock.set(amman(2027, 9, 6, 9) + timedelta(minutes=1))
    (first,) = await escalations(world, story.reference, 1)
    assert first.recipient_ids == [CMU]


async def _a_scheduler_round(world: World) -> None:
    """Wait until nothing due by now is still pending (the scheduler has caught up)."""
    now = world.clock.now()

    async def looked() -> None:
        async with world.runtime.sessionmaker() as session:
            due = await next_due(session)
        assert due is None or due > now, "something due is still pending"

    await eventually(looked)


async def one_heard(world: World, event_type: str, reference: str) -> Any:
    async def heard() -> Any:
        found = world.heard(event_type, reference)
        assert len(found) == 1, found
        return found[0]

    return await eventually(heard)
