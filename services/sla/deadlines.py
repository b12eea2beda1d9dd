"""A request's deadlines, derived from its lifecycle events: a pure function, no I/O.

`derive_deadlines(facts, rules)` replays what happened to a request in the order it happened and
says which timers should exist, and when each is due. SLA stores every lifecycle event it
receives and derives again on each one, so events that arrive late, out of order or twice give
the same deadlines as events that arrive in order (the tests prove it on permutations).

The model
    - A clock measures working time. The requester's clock starts at receipt and never resets;
      an entity's clock starts when the entity comes to hold the request (assignment, transfer,
      reopening: each holding is a new round). Asking the requester for information stops both
      until the answer; the rating window and the CMU's review have clocks of their own.
    - A deadline is a reading on a clock: "first response within 1 working day" is the entity
      clock reading one working day. Its due instant follows from the clock's running stretches,
      so a pause moves it, an extension raises the reading, and a holiday moves the instant.
    - Each stage has a deadline (sla.breached when missed) and, for the entity's first response
      and processing, an escalation ladder: the entity head when the policy's
      `entity_head_after_working_days` pass without a response, the sector's minister after
      `minister_after_working_days`; a missed processing deadline climbs the same ladder,
      counted from that deadline.
    - What answers a stage ends its timers at that instant: those due by then stay (they fire,
      late if SLA was down); the others are dropped. Closing ends everything. Every end is
      kept (`Deadlines.ends`), so that the service can announce that a deadline stopped running.
    - The policy that counts is the one in force when the stage began (`Rules.policy_at`),
      unless a later version was published for open deadlines too.

What it must never do: read a clock, the database or the bus, or fire anything. It answers
"what should be", and the service reconciles that with what is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from shared.calendar import WorkingCalendar
from shared.events import catalog as c
from shared.events.catalog import EventType, SlaPolicy
from shared.events.envelope import Envelope, EventPayload
from shared.events.vocabulary import ClockKind, RequestKind, SlaStage


class TimerState(StrEnum):
    pending = "pending"  # running: fires at due_at
    paused = "paused"  # waiting for the requester: no due_at until the clocks resume
    fired = "fired"  # its event is in the outbox; it never fires again
    cancelled = "cancelled"  # answered or closed before it was due


class TimerAction(StrEnum):
    """What a timer does when it fires."""

    deadline = "deadline"  # sla.breached (sla.rating_window_expired for the rating window)
    escalation_1 = "escalation_1"  # sla.escalated level 1: the entity head
    escalation_2 = "escalation_2"  # sla.escalated level 2: the sector's minister


LIFECYCLE_EVENTS: tuple[type[EventPayload], ...] = (
    c.RequestSubmitted,
    c.RequestAssigned,
    c.RequestTransferred,
    c.RequestDistributed,
    c.RequestAccepted,
    c.RequestInfoRequested,
    c.RequestInfoProvided,
    c.RequestExtended,
    c.RequestResponded,
    c.RequestRated,
    c.RequestReviewOpened,
    c.RequestReopened,
    c.RequestJurisdictionRefused,
    c.RequestClosed,
    c.RequestRejected,
)
"""The events deadlines are derived from; at one instant, they apply in this order."""

_RANK = {payload.event_type: rank for rank, payload in enumerate(LIFECYCLE_EVENTS)}
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Fact:
    """One lifecycle event, reduced to what deadlines need."""

    event_id: UUID
    type: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


_FIELDS: Mapping[str, tuple[str, ...]] = {
    EventType.request_submitted: ("kind",),
    EventType.request_assigned: ("entity", "sector"),
    EventType.request_distributed: ("entity", "sector"),
    EventType.request_accepted: ("processing_working_days",),
    EventType.request_jurisdiction_refused: ("from_entity",),
    EventType.request_transferred: ("to_entity", "to_sector"),
    EventType.request_extended: ("extension_number", "added_working_days"),
    EventType.request_rated: ("score",),
    EventType.request_review_opened: ("entity", "sector"),
    EventType.request_reopened: ("entity", "sector"),
}


def fact_of(envelope: Envelope, payload: EventPayload) -> tuple[str, Fact]:
    """The request a lifecycle event is about, and the fact it contributes; receipt counts
    from `submitted_at`, the rest from when they occurred."""
    values = payload.model_dump(mode="json")
    data = {name: values[name] for name in _FIELDS.get(envelope.type, ())}
    at = getattr(payload, "submitted_at", None) or envelope.occurred_at
    return str(values["reference"]), Fact(envelope.id, envelope.type, at, data)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int
    effective_from: datetime
    applies_to_open: bool
    policy: SlaPolicy


@dataclass(frozen=True)
class Rules:
    """Everything deadlines are computed with: the calendar and the policy's versions."""

    revision: int
    calendar: WorkingCalendar
    versions: tuple[PolicyVersion, ...]  # ascending

    @property
    def current(self) -> PolicyVersion:
        return self.versions[-1]

    def policy_at(self, at: datetime) -> PolicyVersion:
        """The version in force at `at`, or a later one the CMU applied to open deadlines."""
        chosen = self.versions[0]
        for candidate in self.versions:
            if candidate.effective_from <= at or candidate.applies_to_open:
                chosen = candidate
        return chosen

    def working_days(self, days: int) -> int:
        """Microseconds of working time in `days` working days."""
        return days * (self.calendar.day_length // MICROSECOND)


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer as it should be stored."""

    key: str
    clock: ClockKind
    stage: SlaStage
    action: TimerAction
    entity: str | None
    sector: str | None
    policy_version: int
    state: TimerState  # pending or paused
    anchor_at: datetime
    budget_us: int
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Deadlines:
    """What a request's facts say: its timers and what SLA keeps of the request itself."""

    timers: Mapping[str, Timer]
    kind: str | None
    entity: str | None
    sector: str | None
    closed_at: datetime | None
    # When each deadline whose stage is over ended (answered, its holding ended, or closed),
    # whether or not it still has a timer (one that fell due before its end still fires).
    ends: Mapping[str, datetime] = field(default_factory=dict)


def derive_deadlines(facts: Iterable[Fact], rules: Rules) -> Deadlines:
    replay = _Replay(rules)
    unique = {fact.event_id: fact for fact in facts}  # the same event twice happened once
    # Nothing happens to a request before its receipt, whatever the producers' clocks say.
    for fact in sorted(unique.values(), key=_order):
        replay.apply(fact)
    return replay.result()


def _order(fact: Fact) -> tuple[bool, datetime, int, str]:
    return (fact.type != EventType.request_submitted, fact.at, _RANK.get(fact.type, 99),
            str(fact.event_id))


# --- the replay ----------------------------------------------------------------------------------


@dataclass
class _Pause:
    since: datetime
    until: datetime | None = None


@dataclass
class _Clock:
    """Working time from `start`, except during the request's pauses (when `pausable`)."""

    start: datetime
    pauses: list[_Pause]


@dataclass
class _Deadline:
    key: str
    clock_kind: ClockKind
    clock: _Clock
    stage: SlaStage
    action: TimerAction
    reading_us: int  # due when the clock reads this much
    policy_version: int
    round: _Round | None = None  # an entity's holding: its entity, sector and extensions
    extendable: bool = False
    ends_at: datetime | None = None  # answered (or closed) at this instant


@dataclass
class _Round:
    number: int
    entity: str
    sector: str
    clock: _Clock
    extensions_us: int = 0
    responded: bool = False


class _Replay:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.calendar = rules.calendar
        self.deadlines: dict[str, _Deadline] = {}
        self.pauses: list[_Pause] = []
        self.kind: str | None = None
        self.requester: _Clock | None = None
        self.round: _Round | None = None
        self.rounds = 0
        self.responses = 0
        self.reviews = 0
        self.processing_days: int | None = None
        self.requester_extensions_us = 0
        self.extensions_seen: set[int] = set()
        self.closed_at: datetime | None = None

    # -- facts --

    def apply(self, fact: Fact) -> None:
        if self.closed_at is not None:
            return  # nothing reopens a closed request
        handler = getattr(self, "_on_" + fact.type.removeprefix("request."), None)
        if handler is not None:
            handler(fact)

    def _on_submitted(self, fact: Fact) -> None:
        if self.requester is not None:
            return
        self.kind = str(fact.data["kind"])
        self.requester = _Clock(fact.at, self.pauses)
        version = self.rules.policy_at(fact.at)
        answer_days = self._answer_days(version)
        if answer_days is not None:
            self._requester_processing(answer_days, version)

    def _on_assigned(self, fact: Fact) -> None:
        entity, sector = str(fact.data["entity"]), str(fact.data["sector"])
        if self.round is not None and self.round.entity == entity:
            self.round.sector = sector  # the same holder again (other officers): same clock
            return
        self._new_round(fact.at, entity, sector, first_response=True)

    def _on_transferred(self, fact: Fact) -> None:
        self._new_round(fact.at, str(fact.data["to_entity"]), str(fact.data["to_sector"]),
                        first_response=True)

    def _on_distributed(self, fact: Fact) -> None:
        self._end_stage(SlaStage.first_response, fact.at)

    def _on_accepted(self, fact: Fact) -> None:
        self._end_stage(SlaStage.first_response, fact.at)
        self.processing_days = int(fact.data["processing_working_days"])
        version = self.rules.policy_at(fact.at)
        if self.round is not None:
            self._entity_processing(self.round, self.processing_days, version)
        if self.kind == RequestKind.complaint:
            self._requester_processing(self.processing_days, version)

    def _on_jurisdiction_refused(self, fact: Fact) -> None:
        self._end_round(fact.at)

    def _on_info_requested(self, fact: Fact) -> None:
        if not self.pauses or self.pauses[-1].until is not None:
            self.pauses.append(_Pause(fact.at))

    def _on_info_provided(self, fact: Fact) -> None:
        if self.pauses and self.pauses[-1].until is None and fact.at >= self.pauses[-1].since:
            self.pauses[-1].until = fact.at

    def _on_extended(self, fact: Fact) -> None:
        number = int(fact.data["extension_number"])
        if number in self.extensions_seen:
            return
        self.extensions_seen.add(number)
        added = self.rules.working_days(int(fact.data["added_working_days"]))
        self.requester_extensions_us += added
        if self.round is not None:
            self.round.extensions_us += added

    def _on_responded(self, fact: Fact) -> None:
        for stage in (SlaStage.first_response, SlaStage.processing):
            self._end_stage(stage, fact.at)
        self.responses += 1
        version = self.rules.policy_at(fact.at)
        self._add(_Deadline(
            f"requester:{self.responses}:rating_window:deadline", ClockKind.requester,
            _Clock(fact.at, []), SlaStage.rating_window, TimerAction.deadline,
            self.rules.working_days(version.policy.rating_window_working_days), version.version,
        ))

    def _on_rated(self, fact: Fact) -> None:
        self._end_stage(SlaStage.rating_window, fact.at)

    def _on_review_opened(self, fact: Fact) -> None:
        self._end_stage(SlaStage.rating_window, fact.at)
        self.reviews += 1
        version = self.rules.policy_at(fact.at)
        self._add(_Deadline(
            f"requester:{self.reviews}:review:deadline", ClockKind.requester,
            _Clock(fact.at, []), SlaStage.review, TimerAction.deadline,
            self.rules.working_days(version.policy.review_working_days), version.version,
        ))

    def _on_reopened(self, fact: Fact) -> None:
        self._end_stage(SlaStage.review, fact.at)
        version = self.rules.policy_at(fact.at)
        # Back to the entity with the processing time set before, or the kind's fixed one; a
        # request never accepted must first be responded to again.
        days = self.processing_days or self._answer_days(version)
        entity_round = self._new_round(
            fact.at, str(fact.data["entity"]), str(fact.data["sector"]),
            first_response=days is None,
        )
        if days is not None:
            self._entity_processing(entity_round, days, version)

    def _on_closed(self, fact: Fact) -> None:
        for deadline in self.deadlines.values():
            self._end(deadline, fact.at)
        self.closed_at = fact.at

    _on_rejected = _on_closed

    # -- stages --

    def _answer_days(self, version: PolicyVersion) -> int | None:
        """The fixed answer time of inquiries and suggestions (complaints: the officer's)."""
        if self.kind == RequestKind.inquiry:
            return version.policy.inquiry_working_days
        if self.kind == RequestKind.suggestion:
            return version.policy.suggestion_working_days
        return None

    def _new_round(self, at: datetime, entity: str, sector: str, *, first_response: bool
                   ) -> _Round:
        self._end_round(at)
        self.rounds += 1
        entity_round = _Round(self.rounds, entity, sector, _Clock(at, self.pauses))
        self.round = entity_round
        if first_response:
            version = self.rules.policy_at(at)
            policy = version.policy
            for action, days in (
                (TimerAction.deadline, policy.first_response_working_days),
                (TimerAction.escalation_1, policy.entity_head_after_working_days),
                (TimerAction.escalation_2, policy.minister_after_working_days),
            ):
                self._add(_Deadline(
                    f"entity:{entity_round.number}:first_response:{action}", ClockKind.entity,
                    entity_round.clock, SlaStage.first_response, action,
                    self.rules.working_days(days), version.version, round=entity_round,
                ))
        return entity_round

    def _entity_processing(self, entity_round: _Round, days: int, version: PolicyVersion
                           ) -> None:
        policy = version.policy
        for action, extra_days in (
            (TimerAction.deadline, 0),
            (TimerAction.escalation_1,
             policy.entity_head_after_working_days - policy.first_response_working_days),
            (TimerAction.escalation_2,
             policy.minister_after_working_days - policy.first_response_working_days),
        ):
            self._add(_Deadline(
                f"entity:{entity_round.number}:processing:{action}", ClockKind.entity,
                entity_round.clock, SlaStage.processing, action,
                self.rules.working_days(days + extra_days), version.version,
                round=entity_round, extendable=True,
            ))

    def _requester_processing(self, days: int, version: PolicyVersion) -> None:
        key = "requester:1:processing:deadline"
        if self.requester is None or key in self.deadlines:
            return  # the requester's clock never resets: set once
        self._add(_Deadline(
            key, ClockKind.requester, self.requester, SlaStage.processing,
            TimerAction.deadline, self.rules.working_days(days), version.version,
            extendable=True,
        ))

    def _add(self, deadline: _Deadline) -> None:
        self.deadlines[deadline.key] = deadline

    def _end(self, deadline: _Deadline, at: datetime) -> None:
        if deadline.ends_at is None:
            deadline.ends_at = at

    def _end_stage(self, stage: SlaStage, at: datetime) -> None:
        for deadline in self.deadlines.values():
            if deadline.stage is stage and (deadline.round is None or deadline.round is self.round):
                self._end(deadline, at)

    def _end_round(self, at: datetime) -> None:
        if self.round is None:
            return
        for deadline in self.deadlines.values():
            if deadline.round is self.round:
                self._end(deadline, at)
        self.round = None

    # -- result --

    def result(self) -> Deadlines:
        timers: dict[str, Timer] = {}
        for deadline in self.deadlines.values():
            timer = self._timer(deadline)
            # Answered in time: dropped. Due before it was answered: it stays and fires.
            if deadline.ends_at is not None and (
                timer.due_at is None or timer.due_at > deadline.ends_at
            ):
                continue
            timers[deadline.key] = timer
        holder = self.round
        return Deadlines(
            timers=timers,
            kind=self.kind,
            entity=holder.entity if holder else None,
            sector=holder.sector if holder else None,
            closed_at=self.closed_at,
            ends={key: deadline.ends_at for key, deadline in self.deadlines.items()
                  if deadline.ends_at is not None},
        )

    def _timer(self, deadline: _Deadline) -> Timer:
        reading = deadline.reading_us
        if deadline.extendable:
            reading += (deadline.round.extensions_us if deadline.round
                        else self.requester_extensions_us)
        state, anchor, budget, due = self._resolve(deadline.clock, reading)
        entity_round = deadline.round
        return Timer(
            key=deadline.key,
            clock=deadline.clock_kind,
            stage=deadline.stage,
            action=deadline.action,
            entity=entity_round.entity if entity_round else None,
            sector=entity_round.sector if entity_round else None,
            policy_version=deadline.policy_version,
            state=state,
            anchor_at=anchor,
            budget_us=budget,
            due_at=due,
        )

    def _resolve(self, clock: _Clock, reading_us: int
                 ) -> tuple[TimerState, datetime, int, datetime | None]:
        """Where on the clock's running stretches the reading falls: (state, anchor, budget,
        due). A stretch that ended (a pause began) before the reading keeps it paused."""
        read = 0
        cursor: datetime | None = clock.start
        for pause in clock.pauses:
            assert cursor is not None
            if pause.until is not None and pause.until <= cursor:
                continue
            if pause.since > cursor:
                stretch = self.calendar.working_time_between(cursor, pause.since) // MICROSECOND
                if reading_us - read <= stretch:
                    return self._running(cursor, reading_us - read)
                read += stretch
            if pause.until is None:
                return TimerState.paused, max(cursor, pause.since), reading_us - read, None
            cursor = max(cursor, pause.until)
        assert cursor is not None
        return self._running(cursor, reading_us - read)

    def _running(self, anchor: datetime, budget_us: int
                 ) -> tuple[TimerState, datetime, int, datetime | None]:
        due = self.calendar.add_working_time(anchor, budget_us * MICROSECOND)
        return TimerState.pending, anchor, budget_us, due
