"""A request's deadlines, derived from its lifecycle events (pure: no database, no bus).

The week used: Sunday 29 November to Thursday 3 December 2026, no holidays; official hours
08:00–15:00 in Amman.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.sla.deadlines import (
    Deadlines,
    PolicyVersion,
    Rules,
    Timer,
    TimerState,
    derive_deadlines,
)
from shared.calendar import AMMAN, CalendarPolicy, DayOverride, DayStatus, WorkingCalendar
from shared.events.catalog import SlaPolicy
from shared.events.vocabulary import ClockKind, RequestKind, SlaStage
from tests.sla.facts import ENTITY, OTHER_ENTITY, OTHER_SECTOR, SECTOR, Event, Story, amman

EPOCH = datetime(1970, 1, 1, tzinfo=AMMAN)
CALENDAR = WorkingCalendar(CalendarPolicy(ramadan_hours=None))
RULES = Rules(1, CALENDAR, (PolicyVersion(1, EPOCH, False, SlaPolicy()),))


def derive(*events: Event, rules: Rules = RULES) -> Deadlines:
    return derive_deadlines([e.fact for e in events], rules)


def due(deadlines: Deadlines, key: str) -> datetime:
    timer = deadlines.timers[key]
    assert timer.due_at is not None, f"{key} is {timer.state}"
    return timer.due_at.astimezone(AMMAN)


def test_assignment_starts_the_entity_clock_with_its_escalation_ladder() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 10)))
    assert due(deadlines, "entity:1:first_response:deadline") == amman(2026, 11, 30, 10)
    assert due(deadlines, "entity:1:first_response:escalation_1") == amman(2026, 11, 30, 10)
    assert due(deadlines, "entity:1:first_response:escalation_2") == amman(2026, 12, 1, 10)
    first = deadlines.timers["entity:1:first_response:escalation_1"]
    assert (first.clock, first.entity, first.sector) == (ClockKind.entity, ENTITY, SECTOR)
    assert (deadlines.entity, deadlines.sector) == (ENTITY, SECTOR)
    # A complaint's answer time is the officer's to set: nothing on the requester's clock yet.
    assert not [k for k in deadlines.timers if k.startswith("requester")]


def test_a_thursday_afternoon_assignment_escalates_on_sunday_not_friday() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 12, 3, 13)),
                       story.assigned(amman(2026, 12, 3, 14)))
    assert due(deadlines, "entity:1:first_response:escalation_1") == amman(2026, 12, 6, 14)
    assert due(deadlines, "entity:1:first_response:escalation_2") == amman(2026, 12, 7, 14)


def test_inquiries_and_suggestions_promise_their_answer_time_from_receipt() -> None:
    inquiry = Story(kind=RequestKind.inquiry)
    deadlines = derive(inquiry.submitted(amman(2026, 11, 29, 9)))
    assert due(deadlines, "requester:1:processing:deadline") == amman(2026, 12, 1, 9)
    suggestion = Story(kind=RequestKind.suggestion)
    deadlines = derive(suggestion.submitted(amman(2026, 11, 29, 9)))
    assert due(deadlines, "requester:1:processing:deadline") == amman(2026, 12, 8, 9)
    praise = Story(kind=RequestKind.praise)
    assert derive(praise.submitted(amman(2026, 11, 29, 9))).timers == {}


def test_acceptance_answers_the_first_response_and_sets_the_processing_time() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 10)),
                       story.accepted(amman(2026, 11, 29, 12), days=3))
    assert not [k for k in deadlines.timers if ":first_response:" in k]
    # Counted on the entity's clock, from when it came to hold the request.
    assert due(deadlines, "entity:1:processing:deadline") == amman(2026, 12, 2, 10)
    assert due(deadlines, "entity:1:processing:escalation_1") == amman(2026, 12, 2, 10)
    assert due(deadlines, "entity:1:processing:escalation_2") == amman(2026, 12, 3, 10)
    # The requester's promise for a complaint: the same time, counted from receipt.
    assert due(deadlines, "requester:1:processing:deadline") == amman(2026, 12, 2, 9)


def test_distribution_to_a_sub_liaison_officer_is_a_first_response() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 10)),
                       story.distributed(amman(2026, 11, 29, 11)))
    assert not [k for k in deadlines.timers if ":first_response:" in k]


def test_asking_for_information_pauses_both_clocks_until_the_answer() -> None:
    story = Story(kind=RequestKind.inquiry)
    asked = derive(story.submitted(amman(2026, 11, 29, 9)),
                   story.assigned(amman(2026, 11, 29, 9)),
                   story.info_requested(amman(2026, 11, 29, 11)))
    for key in ("entity:1:first_response:escalation_1", "requester:1:processing:deadline"):
        timer = asked.timers[key]
        assert timer.state is TimerState.paused
        assert timer.due_at is None
    answered = derive(story.submitted(amman(2026, 11, 29, 9)),
                      story.assigned(amman(2026, 11, 29, 9)),
                      story.info_requested(amman(2026, 11, 29, 11)),
                      story.info_provided(amman(2026, 12, 1, 10)))
    # Two working hours ran before the question; five remain from Tuesday 10:00.
    assert due(answered, "entity:1:first_response:escalation_1") == amman(2026, 12, 1, 15)
    assert due(answered, "requester:1:processing:deadline") == amman(2026, 12, 2, 15)


def test_a_response_stops_the_escalation_and_opens_the_rating_window() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 10)),
                       story.responded(amman(2026, 11, 29, 14)))
    assert list(deadlines.timers) == ["requester:1:rating_window:deadline"]
    assert due(deadlines, "requester:1:rating_window:deadline") == amman(2026, 11, 30, 14)
    rated = derive(story.submitted(amman(2026, 11, 29, 9)),
                   story.assigned(amman(2026, 11, 29, 10)),
                   story.responded(amman(2026, 11, 29, 14)),
                   story.rated(amman(2026, 11, 29, 15)))
    assert rated.timers == {}


def test_what_fell_due_before_a_late_response_still_fires() -> None:
    story = Story()
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 10)),
                       story.responded(amman(2026, 11, 30, 12)))
    assert due(deadlines, "entity:1:first_response:escalation_1") == amman(2026, 11, 30, 10)
    assert due(deadlines, "entity:1:first_response:deadline") == amman(2026, 11, 30, 10)
    assert "entity:1:first_response:escalation_2" not in deadlines.timers


def test_a_transfer_starts_a_new_entity_clock_while_the_requesters_runs_on() -> None:
    story = Story(kind=RequestKind.inquiry)
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 9)),
                       story.transferred(amman(2026, 11, 29, 11)))
    assert not [k for k in deadlines.timers if k.startswith("entity:1:")]
    assert due(deadlines, "entity:2:first_response:escalation_1") == amman(2026, 11, 30, 11)
    second = deadlines.timers["entity:2:first_response:escalation_2"]
    assert (second.entity, second.sector) == (OTHER_ENTITY, OTHER_SECTOR)
    assert due(deadlines, "requester:1:processing:deadline") == amman(2026, 12, 1, 9)
    assert (deadlines.entity, deadlines.sector) == (OTHER_ENTITY, OTHER_SECTOR)


def test_a_refusal_of_jurisdiction_ends_the_entitys_clock_until_the_next_assignment() -> None:
    story = Story()
    refused = derive(story.submitted(amman(2026, 11, 29, 9)),
                     story.assigned(amman(2026, 11, 29, 9)),
                     story.refused(amman(2026, 11, 29, 12)))
    assert refused.timers == {}
    assert refused.entity is None
    reassigned = derive(story.submitted(amman(2026, 11, 29, 9)),
                        story.assigned(amman(2026, 11, 29, 9)),
                        story.refused(amman(2026, 11, 29, 12)),
                        story.assigned(amman(2026, 11, 30, 9), OTHER_ENTITY, OTHER_SECTOR))
    assert due(reassigned, "entity:2:first_response:escalation_1") == amman(2026, 12, 1, 9)


def test_an_extension_moves_the_processing_deadlines_once_per_extension() -> None:
    story = Story()
    events = [story.submitted(amman(2026, 11, 29, 9)), story.assigned(amman(2026, 11, 29, 9)),
              story.accepted(amman(2026, 11, 29, 10), days=2)]
    extension = story.extended(amman(2026, 11, 30, 10), number=1, days=2)
    deadlines = derive(*events, extension)
    assert due(deadlines, "entity:1:processing:deadline") == amman(2026, 12, 3, 9)
    assert due(deadlines, "requester:1:processing:deadline") == amman(2026, 12, 3, 9)
    # The same extension announced again (another event id) counts once.
    again = story.extended(amman(2026, 11, 30, 10, 5), number=1, days=2)
    assert derive(*events, extension, again).timers == deadlines.timers


def test_closing_ends_everything_and_nothing_after_it_counts() -> None:
    story = Story(kind=RequestKind.inquiry)
    deadlines = derive(story.submitted(amman(2026, 11, 29, 9)),
                       story.assigned(amman(2026, 11, 29, 9)),
                       story.closed(amman(2026, 11, 29, 10)),
                       story.assigned(amman(2026, 11, 30, 9), OTHER_ENTITY, OTHER_SECTOR))
    assert deadlines.timers == {}
    assert deadlines.closed_at == amman(2026, 11, 29, 10)
    rejected = derive(story.submitted(amman(2026, 11, 29, 9)),
                      story.rejected(amman(2026, 11, 29, 10)))
    assert rejected.timers == {}


def test_a_rating_of_one_opens_the_cmu_review_and_a_reopening_a_new_round() -> None:
    story = Story()
    events = [story.submitted(amman(2026, 11, 29, 9)), story.assigned(amman(2026, 11, 29, 9)),
              story.accepted(amman(2026, 11, 29, 10), days=3),
              story.responded(amman(2026, 11, 30, 9)), story.rated(amman(2026, 11, 30, 10), 1),
              story.review_opened(amman(2026, 11, 30, 10))]
    review = derive(*events)
    assert list(review.timers) == ["requester:1:review:deadline"]
    assert due(review, "requester:1:review:deadline") == amman(2026, 12, 2, 10)
    reopened = derive(*events, story.reopened(amman(2026, 12, 1, 9)))
    # Back to the entity with the processing time it set before, from the reopening.
    assert due(reopened, "entity:2:processing:deadline") == amman(2026, 12, 4, 9) + timedelta(
        days=2)  # Friday and Saturday are not worked: Sunday 6 December
    assert "requester:1:review:deadline" not in reopened.timers


def test_the_answer_after_a_reopening_has_its_own_rating_window_which_its_rating_ends() -> None:
    story = Story()
    events = [story.submitted(amman(2026, 11, 29, 9)), story.assigned(amman(2026, 11, 29, 9)),
              story.accepted(amman(2026, 11, 29, 10), days=3),
              story.responded(amman(2026, 11, 30, 9)), story.rated(amman(2026, 11, 30, 10), 1),
              story.review_opened(amman(2026, 11, 30, 10)), story.reopened(amman(2026, 12, 1, 9)),
              story.responded(amman(2026, 12, 2, 9), round=2)]
    answered_again = derive(*events)
    assert list(answered_again.timers) == ["requester:2:rating_window:deadline"]
    assert due(answered_again, "requester:2:rating_window:deadline") == amman(2026, 12, 3, 9)
    # The requester rates it in time: nothing is left to expire and close it by itself.
    assert derive(*events, story.rated(amman(2026, 12, 2, 11), 5, round=2)).timers == {}


def test_a_policy_version_published_later_keeps_open_deadlines_unless_applied_to_them() -> None:
    story = Story()
    later = amman(2026, 11, 29, 12)
    slower = SlaPolicy(entity_head_after_working_days=2, minister_after_working_days=3)
    events = (story.submitted(amman(2026, 11, 29, 9)), story.assigned(amman(2026, 11, 29, 10)))
    kept = derive(*events, rules=Rules(2, CALENDAR, (*RULES.versions,
                                                     PolicyVersion(2, later, False, slower))))
    assert due(kept, "entity:1:first_response:escalation_1") == amman(2026, 11, 30, 10)
    assert kept.timers["entity:1:first_response:escalation_1"].policy_version == 1
    applied = derive(*events, rules=Rules(2, CALENDAR, (*RULES.versions,
                                                        PolicyVersion(2, later, True, slower))))
    assert due(applied, "entity:1:first_response:escalation_1") == amman(2026, 12, 1, 10)
    assert applied.timers["entity:1:first_response:escalation_1"].policy_version == 2


def test_a_holiday_moves_the_deadlines_that_run_over_it() -> None:
    story = Story()
    events = (story.submitted(amman(2026, 11, 29, 9)), story.assigned(amman(2026, 11, 29, 10)))
    holiday = WorkingCalendar(CalendarPolicy(ramadan_hours=None), overrides=[
        DayOverride(day=date(2026, 11, 30), status=DayStatus.holiday)
    ])
    deadlines = derive(*events, rules=Rules(2, holiday, RULES.versions))
    assert due(deadlines, "entity:1:first_response:escalation_1") == amman(2026, 12, 1, 10)


# --- properties ----------------------------------------------------------------------------


def _life(story: Story, start: datetime, steps: list[str]) -> list[Event]:
    """A plausible life: events one to seven working hours apart, in the order given."""
    at = start
    events = [story.submitted(at)]
    extensions = 0
    for step in steps:
        at = CALENDAR.add_working_time(at, timedelta(hours=random.Random(at.timestamp()).randint(
            1, 7)))
        if step == "extended":
            extensions += 1
            if extensions > 2:
                continue
            events.append(story.extended(at, number=extensions))
        else:
            events.append(getattr(story, step)(at))
    return events


STEPS = st.lists(st.sampled_from([
    "assigned", "transferred", "distributed", "accepted", "info_requested", "info_provided",
    "extended", "responded", "rated", "review_opened", "reopened", "refused", "closed",
]), max_size=10)


@settings(max_examples=100, deadline=None)
@given(steps=STEPS, kind=st.sampled_from([RequestKind.complaint, RequestKind.inquiry]),
       seed=st.randoms(use_true_random=False))
def test_events_in_any_order_or_repeated_give_the_same_deadlines(
    steps: list[str], kind: RequestKind, seed: random.Random
) -> None:
    events = _life(Story(kind=kind), amman(2026, 11, 29, 9), steps)
    in_order = derive(*events)
    shuffled = list(events)
    seed.shuffle(shuffled)
    repeated = shuffled + [seed.choice(events) for _ in range(3)]
    assert derive_deadlines([e.fact for e in repeated], RULES) == in_order


@settings(max_examples=100, deadline=None)
@given(steps=STEPS)
def test_a_running_deadline_is_due_when_its_clock_has_run_the_budget(steps: list[str]) -> None:
    events = _life(Story(), amman(2026, 11, 29, 9), steps)
    for timer in derive(*events).timers.values():
        if timer.state is TimerState.pending:
            assert timer.due_at == CALENDAR.add_working_time(
                timer.anchor_at, timedelta(microseconds=timer.budget_us))
            assert timer.budget_us > 0
        else:
            assert timer.due_at is None
        assert _well_formed(timer)


def _well_formed(timer: Timer) -> bool:
    clock, _round, stage, action = timer.key.split(":")
    return (clock == timer.clock and stage == timer.stage and action == timer.action
            and (timer.entity is None) == (clock == ClockKind.requester)
            and timer.stage in SlaStage)
