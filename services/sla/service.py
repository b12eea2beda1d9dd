"""The sla service's decisions: deadlines from lifecycle events, firing, and the rules.

- `apply_lifecycle_events`: keep each event as a fact of its request, derive the request's
  deadlines again (`deadlines.derive_deadlines`), store the difference and announce the
  deadlines that were set or moved (`sla.deadline_set`) and those whose stage ended
  (`sla.deadline_ended`), so that nobody shows a superseded deadline as current.
- `fire_due`: the scheduler's one transaction: claim what is due (oldest first, skipping what
  another replica holds), put its events in the outbox, mark it fired.
- The rules: a change of the holidays, of Ramadan or of the policy takes the next revision and
  is announced whole (`sla.rules_changed`) in the same transaction; the open deadlines follow
  (`catch_up`) in the scheduler's next round, so the CMU's request does not wait for them.

Functions are keyword-only, take the caller's session and never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla import repository
from services.sla.deadlines import (
    MICROSECOND,
    Deadlines,
    PolicyVersion,
    Rules,
    Timer,
    TimerAction,
    TimerState,
    derive_deadlines,
    fact_of,
)
from services.sla.exceptions import (
    AlreadyADayOff,
    DayOutOfRange,
    NotAHoliday,
    PolicyUnchanged,
    RamadanOverlaps,
    StalePolicyVersion,
)
from services.sla.models import requests, timers
from services.sla.recompute import move_open_deadlines
from shared.bus import Outbox, Received, ReceivedEvent
from shared.calendar import AMMAN, DayOverride, DayStatus, RamadanPeriod, WorkingCalendar
from shared.clock import Clock
from shared.errors import Text, on_field
from shared.events.catalog import (
    DirectoryRoleChanged,
    SlaBreached,
    SlaDeadlineEnded,
    SlaDeadlineSet,
    SlaEscalated,
    SlaPolicy,
    SlaRatingWindowExpired,
    SlaRulesChanged,
)
from shared.events.envelope import EventPayload
from shared.events.vocabulary import ClockKind, RequestKind, Role, SlaStage

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50  # `sla.escalated.recipient_ids` holds at most this many
CMU_SCOPE = "*"
# Overrides far in the past would rewrite history; far in the future, guesses.
OVERRIDE_PAST = timedelta(days=366)
OVERRIDE_FUTURE = timedelta(days=5 * 366)


# --- the rules ------------------------------------------------------------------------------------


def working_time_left(calendar: WorkingCalendar, *, now: datetime, due_at: datetime
                      ) -> timedelta:
    """The working time from `now` until a running deadline falls due; none once it is past."""
    return max(calendar.working_time_between(now, due_at), timedelta(0))


async def load_rules(session: AsyncSession, revision: int) -> Rules:
    versions = await repository.load_policy_versions(session)
    calendar = WorkingCalendar(
        versions[-1].policy.calendar,
        await repository.load_overrides(session),
        await repository.load_ramadan_periods(session),
    )
    return Rules(revision, calendar, versions)


def rules_event(rules: Rules) -> SlaRulesChanged:
    current = rules.current
    return SlaRulesChanged(
        revision=rules.revision,
        policy_version=current.version,
        policy=current.policy,
        holiday_overrides=list(rules.calendar.overrides.values()),
        ramadan_periods=list(rules.calendar.announced_ramadans),
    )


async def announce_rules_if_needed(session: AsyncSession, *, outbox: Outbox) -> bool:
    """Announce the rules once after the first start (the migration wrote version 1)."""
    if (await repository.read_rules(session)).announced_revision >= 1:
        return False
    state = await repository.lock_rules(session, exclusive=True)
    if state.announced_revision >= state.revision:
        return False  # another replica did it meanwhile
    rules = await load_rules(session, state.revision)
    await outbox.add(session, rules_event(rules))
    await repository.mark_announced(session, state.revision)
    return True


async def _rules_changed(
    session: AsyncSession, *, outbox: Outbox, at: datetime, revision: int, change: str,
    detail: Mapping[str, Any], by: UUID | None,
) -> int:
    await repository.record_change(session, revision=revision, change=change, detail=detail,
                                   changed_by=by, at=at)
    rules = await load_rules(session, revision)
    await outbox.add(session, rules_event(rules))
    log.info("sla rules changed", extra={"revision": revision, "change": change})
    return revision


def _check_override_day(day: date, now: datetime, *, field: str | None = None) -> None:
    """Refuses a day too far from today (a refusal names the body's `field`, if it holds it)."""
    today = now.astimezone(AMMAN).date()
    if not today - OVERRIDE_PAST <= day <= today + OVERRIDE_FUTURE:
        raise on_field(DayOutOfRange(Text(
            "يقبل التعديل لأيام من سنة مضت إلى خمس سنوات قادمة.",
            "Days from one year ago to five years ahead are accepted.",
        ), day=day.isoformat()), field)


async def add_holiday(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, day: date, name_ar: str,
    name_en: str, by: UUID | None,
) -> int:
    now = clock.now()
    _check_override_day(day, now, field="day")
    state = await repository.lock_rules(session, exclusive=True)
    rules = await load_rules(session, state.revision)
    if not rules.calendar.is_working_day(day):
        raise on_field(AlreadyADayOff(day=day.isoformat()), "day")
    await repository.save_override(
        session, DayOverride(day=day, status=DayStatus.holiday, name_ar=name_ar,
                             name_en=name_en), changed_by=by, at=now,
    )
    return await _rules_changed(
        session, outbox=outbox, at=now, revision=state.revision + 1, change="holiday_added",
        detail={"days": [day.isoformat()]}, by=by,
    )


async def remove_holiday(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, day: date, by: UUID | None
) -> int:
    now = clock.now()
    _check_override_day(day, now)
    state = await repository.lock_rules(session, exclusive=True)
    rules = await load_rules(session, state.revision)
    await _unset_holiday(session, rules.calendar, day, by=by, at=now)
    return await _rules_changed(
        session, outbox=outbox, at=now, revision=state.revision + 1, change="holiday_removed",
        detail={"days": [day.isoformat()]}, by=by,
    )


async def move_holiday(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, day: date, to: date,
    by: UUID | None,
) -> int:
    now = clock.now()
    _check_override_day(day, now)
    _check_override_day(to, now, field="to")
    state = await repository.lock_rules(session, exclusive=True)
    calendar = (await load_rules(session, state.revision)).calendar
    if not calendar.is_working_day(to):
        raise on_field(AlreadyADayOff(day=to.isoformat()), "to")
    holiday = await _unset_holiday(session, calendar, day, by=by, at=now)
    await repository.save_override(
        session, DayOverride(day=to, status=DayStatus.holiday, name_ar=holiday.name_ar,
                             name_en=holiday.name_en), changed_by=by, at=now,
    )
    return await _rules_changed(
        session, outbox=outbox, at=now, revision=state.revision + 1, change="holiday_moved",
        detail={"days": [day.isoformat(), to.isoformat()]}, by=by,
    )


async def _unset_holiday(
    session: AsyncSession, calendar: WorkingCalendar, day: date, *, by: UUID | None,
    at: datetime,
) -> DayOverride:
    """Make `day` a working day again; the holiday it was, for its names."""
    holiday = next((h for h in calendar.holidays(day.year) if h.day == day), None)
    if holiday is None:
        raise NotAHoliday(day=day.isoformat())
    official = WorkingCalendar(calendar.policy)  # the same day without the CMU's word on it
    if official.is_working_day(day):
        await repository.forget_override(session, day)
    else:
        await repository.save_override(
            session, DayOverride(day=day, status=DayStatus.working_day), changed_by=by, at=at
        )
    return DayOverride(day=day, status=DayStatus.holiday, name_ar=holiday.name_ar,
                       name_en=holiday.name_en)


async def announce_ramadan(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, period: RamadanPeriod,
    by: UUID | None,
) -> int:
    now = clock.now()
    _check_override_day(period.first_day, now, field="first_day")
    state = await repository.lock_rules(session, exclusive=True)
    calendar = (await load_rules(session, state.revision)).calendar
    # The Ramadan it corrects: the estimate (or an earlier announcement) of the same month.
    nearby = [p for year in (period.first_day.year - 1, period.first_day.year,
                             period.first_day.year + 1)
              for p in calendar.ramadan(year)
              if abs((p.first_day - period.first_day).days) <= 15]
    if any(p.first_day <= period.last_day and period.first_day <= p.last_day
           for p in calendar.announced_ramadans if p not in nearby):
        raise on_field(RamadanOverlaps(), "first_day")
    await repository.replace_ramadan_period(
        session, period, replaces=[p for p in nearby if p in calendar.announced_ramadans],
        changed_by=by, at=now,
    )
    first = min([period.first_day, *(p.first_day for p in nearby)])
    last = max([period.last_day, *(p.last_day for p in nearby)])
    return await _rules_changed(
        session, outbox=outbox, at=now, revision=state.revision + 1, change="ramadan_announced",
        detail={"days": [first.isoformat(), last.isoformat()]}, by=by,
    )


async def publish_policy(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, policy: SlaPolicy,
    based_on_version: int, applies_to_open: bool, reason: str | None, by: UUID | None,
) -> PolicyVersion:
    now = clock.now()
    state = await repository.lock_rules(session, exclusive=True)
    current = (await load_rules(session, state.revision)).current
    if based_on_version != current.version:
        raise StalePolicyVersion(current_version=current.version)
    if policy == current.policy:
        raise PolicyUnchanged(current_version=current.version)
    version = PolicyVersion(current.version + 1, now, applies_to_open, policy)
    await repository.add_policy_version(
        session, version=version.version, policy=policy, effective_from=now,
        applies_to_open=applies_to_open, reason=reason, created_by=by,
    )
    await _rules_changed(
        session, outbox=outbox, at=now, revision=state.revision + 1, change="policy_published",
        detail={
            "from_version": current.version,
            "to_version": version.version,
            "applies_to_open": applies_to_open,
            "calendar_changed": policy.calendar != current.policy.calendar,
            "day_length_from_us": current.policy.calendar.official_hours.length // MICROSECOND,
            "day_length_to_us": policy.calendar.official_hours.length // MICROSECOND,
        },
        by=by,
    )
    return version


# --- open deadlines follow the rules ----------------------------------------------------------


async def catch_up(session: AsyncSession, *, outbox: Outbox, now: datetime) -> int | None:
    """Bring open deadlines up to the latest rules; the revision reached, or None when there
    was nothing to do (another replica may have done it)."""
    state = await repository.read_rules(session)
    if state.recomputed_revision >= state.revision:
        return None
    # Waits for the handlers in flight; they then see the new rules.
    state = await repository.lock_rules(session, exclusive=True)
    if state.recomputed_revision >= state.revision:
        return None
    rules = await load_rules(session, state.revision)
    span: tuple[date, date] | None = None
    everything = False
    for change in await repository.changes_after(session, state.recomputed_revision):
        detail = change.detail
        if change.change == "policy_published":
            # New durations alone touch only new deadlines, unless applied to open ones too.
            everything = everything or detail["calendar_changed"] or detail["applies_to_open"]
            if detail["day_length_from_us"] != detail["day_length_to_us"]:
                await _keep_working_days_left(session, detail["day_length_from_us"],
                                              detail["day_length_to_us"])
            if detail["applies_to_open"]:
                await _move_to_version(session, rules, int(detail["to_version"]))
        else:
            days = [date.fromisoformat(d) for d in detail["days"]]
            span = (min(days), max(days)) if span is None else (
                min(span[0], *days), max(span[1], *days))
    moved = 0
    if everything or span is not None:
        moved = await move_open_deadlines(
            session, rules.calendar, outbox=outbox, now=now, days=None if everything else span,
        )
    await repository.mark_recomputed(session, state.revision)
    log.info("open deadlines follow the rules",
             extra={"revision": state.revision, "moved": moved})
    return state.revision


async def _keep_working_days_left(session: AsyncSession, from_us: int, to_us: int) -> None:
    """Official hours changed length: what is left stays the same number of working days."""
    await session.execute(
        update(timers)
        .where(timers.c.state.in_([TimerState.pending.value, TimerState.paused.value]))
        .values(budget_us=(timers.c.budget_us * (to_us / from_us)).cast(timers.c.budget_us.type))
    )


async def _move_to_version(session: AsyncSession, rules: Rules, version: int) -> None:
    """Open deadlines set under an older version take this one's durations."""
    target = next(v for v in rules.versions if v.version == version).policy
    kind = (select(requests.c.kind).where(requests.c.reference == timers.c.reference)
            .scalar_subquery())
    for older in rules.versions:
        if older.version >= version:
            continue
        deltas = _duration_changes(older.policy, target)
        branches = [
            (_selects(stage, action, clock, request_kind, kind), rules.working_days(days))
            for (stage, action, clock, request_kind), days in deltas.items() if days
        ]
        budget: Any = timers.c.budget_us
        if branches:
            budget = timers.c.budget_us + case(*branches, else_=0)
        await session.execute(
            update(timers)
            .where(timers.c.state.in_([TimerState.pending.value, TimerState.paused.value]),
                   timers.c.policy_version == older.version)
            .values(budget_us=budget, policy_version=version)
        )


def _selects(stage: SlaStage, action: TimerAction, clock: ClockKind,
             request_kind: RequestKind | None, kind: Any) -> Any:
    condition = ((timers.c.stage == stage.value) & (timers.c.action == action.value)
                 & (timers.c.clock == clock.value))
    if request_kind is not None:
        condition = condition & (kind == request_kind.value)
    return condition


def _duration_changes(
    old: SlaPolicy, new: SlaPolicy
) -> dict[tuple[SlaStage, TimerAction, ClockKind, RequestKind | None], int]:
    """How many working days each kind of timer gains (or loses) from `old` to `new`."""
    head = new.entity_head_after_working_days - old.entity_head_after_working_days
    minister = new.minister_after_working_days - old.minister_after_working_days
    first = new.first_response_working_days - old.first_response_working_days
    stage, entity, requester = SlaStage, ClockKind.entity, ClockKind.requester
    return {
        (stage.first_response, TimerAction.deadline, entity, None): first,
        (stage.first_response, TimerAction.escalation_1, entity, None): head,
        (stage.first_response, TimerAction.escalation_2, entity, None): minister,
        # A missed processing deadline climbs the ladder counted from that deadline.
        (stage.processing, TimerAction.escalation_1, entity, None): head - first,
        (stage.processing, TimerAction.escalation_2, entity, None): minister - first,
        (stage.processing, TimerAction.deadline, requester, RequestKind.inquiry):
            new.inquiry_working_days - old.inquiry_working_days,
        (stage.processing, TimerAction.deadline, requester, RequestKind.suggestion):
            new.suggestion_working_days - old.suggestion_working_days,
        (stage.rating_window, TimerAction.deadline, requester, None):
            new.rating_window_working_days - old.rating_window_working_days,
        (stage.review, TimerAction.deadline, requester, None):
            new.review_working_days - old.review_working_days,
    }


# --- lifecycle events ---------------------------------------------------------------------------


async def apply_lifecycle_events(session: AsyncSession, events: Sequence[ReceivedEvent]) -> None:
    """Derive the deadlines of each event's request again, with the rules held steady."""
    state = await repository.lock_rules(session)
    rules = await load_rules(session, state.revision)
    for event in events:
        await _apply(session, rules, event)


async def _apply(session: AsyncSession, rules: Rules, event: ReceivedEvent) -> None:
    reference, fact = fact_of(event.envelope, event.payload)
    request = await repository.lock_request(session, reference, at=fact.at)
    if not await repository.record_fact(session, reference, fact):
        return  # the same event again: its effect is there already
    if request.kind is None and fact.type != "request.submitted":
        log.info("lifecycle event before the request's submission; kept",
                 extra={"event_type": fact.type})
    if request.closed_at is not None and fact.at > request.closed_at:
        log.warning("lifecycle event after the request was closed; no deadline changes",
                    extra={"event_type": fact.type})
    derived = derive_deadlines(await repository.facts_of(session, reference), rules)
    await repository.update_request(
        session, reference, kind=derived.kind, entity=derived.entity, sector=derived.sector,
        closed_at=derived.closed_at, at=fact.at,
    )
    changes = await _store(session, reference, derived, at=fact.at)
    # Stamped with the fact's instant (receipt counts from `submitted_at`).
    await event.outbox.at(fact.at).add_each(session, [
        *((SlaDeadlineEnded(reference=reference, clock=ClockKind(row.clock), entity=row.entity,
                            stage=SlaStage(row.stage), due_at=row.due_at, ended_at=ended_at),
           reference)
          for row, ended_at in changes.ended),
        *((SlaDeadlineSet(reference=reference, clock=t.clock, entity=t.entity, stage=t.stage,
                          due_at=t.due_at), reference)
          for t in changes.set if t.due_at is not None),
    ])


@dataclass(frozen=True, slots=True)
class _Announcements:
    set: list[Timer]  # deadlines set or moved
    ended: list[tuple[Any, datetime]]  # (stored row, when its stage ended), each once


async def _store(session: AsyncSession, reference: str, derived: Deadlines,
                 *, at: datetime) -> _Announcements:
    """Make the stored timers what `derived` says (fired ones stay fired; each remembers when
    its stage ended); the deadlines set, moved or ended, to announce."""
    wanted, ends = derived.timers, derived.ends
    stored = {row.key: row for row in await repository.timers_of(session, reference, lock=True)}
    changed: dict[int, Timer] = {}
    dropped: list[int] = []
    ended_at: dict[int, datetime] = {}
    announce = _Announcements(set=[], ended=[])
    for key, row in stored.items():
        end = ends.get(key)
        if end is not None and row.ended_at != end:
            ended_at[row.id] = end
            if row.ended_at is None and row.action == TimerAction.deadline:
                announce.ended.append((row, end))
        if row.state == TimerState.fired:
            continue  # its event went out; nothing calls it back
        timer = wanted.get(key)
        if timer is None:
            if row.state != TimerState.cancelled:
                dropped.append(row.id)
            continue
        if _differs(row, timer):
            changed[row.id] = timer
            if _running_deadline(timer, ends) and (
                row.state != TimerState.pending or row.due_at != timer.due_at
            ):
                announce.set.append(timer)
    new = [timer for key, timer in wanted.items() if key not in stored]
    announce.set.extend(t for t in new if _running_deadline(t, ends))
    await repository.cancel_timers(session, dropped, at=at)
    await repository.update_timers(session, changed, at=at)
    await repository.insert_timers(session, reference, new, ends=ends, at=at)
    await repository.mark_ended(session, ended_at, at=at)
    return announce


def _running_deadline(timer: Timer, ends: Mapping[str, datetime]) -> bool:
    """A deadline the requester and officers should see: running, its stage not over (one
    that fell due before its stage ended keeps a timer only to fire)."""
    return (timer.action is TimerAction.deadline and timer.state is TimerState.pending
            and timer.key not in ends)


def _differs(row: Any, timer: Timer) -> bool:
    return (row.state, row.anchor_at, row.budget_us, row.due_at, row.entity, row.sector,
            row.policy_version) != (timer.state.value, timer.anchor_at, timer.budget_us,
                                    timer.due_at, timer.entity, timer.sector,
                                    timer.policy_version)


# --- the directory ----------------------------------------------------------------------------

_ESCALATION_ROLES = {Role.entity_head: "entity", Role.minister: "sector", Role.cmu_staff: None}


async def record_role_change(session: AsyncSession,
                             event: Received[DirectoryRoleChanged]) -> None:
    """Keep who is entity head, minister or CMU staff; other roles do not hear escalations."""
    change = event.payload
    if change.role not in _ESCALATION_ROLES:
        return
    scope_field = _ESCALATION_ROLES[change.role]
    scope = CMU_SCOPE if scope_field is None else getattr(change, scope_field)
    if scope is None:
        log.warning("role change without the scope it needs; ignored",
                    extra={"role": change.role.value})
        return
    await repository.record_role(session, person_id=change.person_id, role=change.role.value,
                                 scope=scope, granted=change.granted, at=event.at)


# --- firing ---------------------------------------------------------------------------------------


async def fire_due(session: AsyncSession, *, outbox: Outbox, now: datetime, limit: int,
                   fired: list[tuple[EventPayload, datetime]] | None = None) -> int | None:
    """Fire up to `limit` due timers, oldest first; how many fired. None, firing nothing, when
    the open deadlines have not caught up with the rules yet (their due instants may be stale).
    `fired`, when given, receives each event with its timer's due instant (for the metrics the
    caller records once the transaction has committed)."""
    state = await repository.lock_rules(session)
    if state.recomputed_revision < state.revision:
        return None
    due = await repository.claim_due(session, now=now, limit=limit)
    if not due:
        return 0
    escalations = [row for row in due if row.action != TimerAction.deadline]
    overdue_since = await repository.deadline_dues(session, {r.reference for r in escalations})
    recipients = await _recipients(session, escalations)
    events: list[tuple[EventPayload, str | None]] = []
    for row in due:
        event = _event_of(row, overdue_since, recipients)
        events.append((event, row.reference))
        if fired is not None:
            fired.append((event, row.due_at))
    await outbox.add_each(session, events)
    await repository.mark_fired(session, [row.id for row in due], at=now)
    return len(due)


def _deadline_key(key: str) -> str:
    return key.rsplit(":", 1)[0] + ":" + TimerAction.deadline


def _event_of(row: Any, overdue_since: Mapping[tuple[str, str], datetime],
              recipients: Mapping[int, list[UUID]]) -> EventPayload:
    if row.action == TimerAction.deadline:
        if row.stage == SlaStage.rating_window:
            return SlaRatingWindowExpired(reference=row.reference, due_at=row.due_at)
        return SlaBreached(reference=row.reference, clock=ClockKind(row.clock),
                           entity=row.entity, stage=SlaStage(row.stage), due_at=row.due_at)
    return SlaEscalated(
        reference=row.reference,
        level=1 if row.action == TimerAction.escalation_1 else 2,
        entity=row.entity,
        sector=row.sector,
        stage=SlaStage(row.stage),
        overdue_since=overdue_since.get((row.reference, _deadline_key(row.key)), row.due_at),
        recipient_ids=recipients.get(row.id, []),
    )


async def _recipients(session: AsyncSession, escalations: Sequence[Any]
                      ) -> dict[int, list[UUID]]:
    """Level 1: the entity's heads; level 2: the sector's ministers; and the CMU's staff when
    the policy says they hear of escalations."""
    if not escalations:
        return {}
    cmu_hears = (await repository.load_policy_versions(session))[-1].policy.cmu_hears_of_escalations
    people_in = await repository.holders(session, {
        Role.entity_head: {r.entity for r in escalations
                           if r.action == TimerAction.escalation_1},
        Role.minister: {r.sector for r in escalations if r.action == TimerAction.escalation_2},
        Role.cmu_staff: {CMU_SCOPE} if cmu_hears else set(),
    })
    cmu = people_in.get((Role.cmu_staff, CMU_SCOPE), [])
    found: dict[int, list[UUID]] = {}
    for row in escalations:
        first = (people_in.get((Role.entity_head, row.entity), [])
                 if row.action == TimerAction.escalation_1
                 else people_in.get((Role.minister, row.sector), []))
        people = list(dict.fromkeys([*first, *cmu]))
        if not first:
            log.warning("escalation with nobody in the role to hear it",
                        extra={"action": row.action, "stage": row.stage})
        if len(people) > MAX_RECIPIENTS:
            log.warning("escalation recipients cut to the event's limit",
                        extra={"found": len(people), "limit": MAX_RECIPIENTS})
        found[row.id] = people[:MAX_RECIPIENTS]
    return found


# --- reading ----------------------------------------------------------------------------------


async def purge_closed(session: AsyncSession, *, now: datetime, retention: timedelta,
                       limit: int = 1000) -> int:
    return await repository.purge_closed(session, closed_before=now - retention, limit=limit)
