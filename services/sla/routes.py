"""The sla service's API: the published policy, holidays and the calendar, a request's deadlines.

Reading the rules and asking the calendar is public (the portal and the app show them);
changing them is for the CMU's administrators, each change a new revision announced whole; a
request's deadlines are for the staff who may act for its entity (anyone else: 404).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla import repository, service
from services.sla.deadlines import Rules, TimerAction, TimerState
from services.sla.exceptions import DayOutOfRange, RangeTooLong
from services.sla.schemas import (
    CalendarDay,
    Deadline,
    HolidayCreate,
    HolidayMove,
    HolidayPublic,
    HolidaysPublic,
    PolicyVersionCreate,
    PolicyVersionPublic,
    RamadanList,
    RamadanPublic,
    RequestDeadlines,
    RulesChange,
    RulesPublic,
    TimerPublic,
    WorkingTime,
)
from shared.auth import Principal, Role
from shared.calendar import (
    AMMAN,
    FIRST_YEAR,
    LAST_YEAR,
    Holiday,
    RamadanPeriod,
    WorkingCalendar,
)
from shared.clock import Clock
from shared.dependencies import (
    ClockDep,
    IdempotencyKeyDep,
    OutboxDep,
    PrincipalDep,
    SessionDep,
    principal_in,
)
from shared.errors import NotFound, Text
from shared.events.vocabulary import ReferenceNumber

router = APIRouter(prefix="/api/v1", tags=["sla"])

MAX_DAYS_LISTED = 366
MAX_SPAN_MEASURED = timedelta(days=5 * 366)

Year = Annotated[
    int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="Defaults to this year.")
]
Day = Annotated[date, Path(description="A date, YYYY-MM-DD.")]
CmuAdminDep = Annotated[Principal, principal_in(Role.cmu_admin)]
PolicyReaderDep = Annotated[
    Principal, principal_in(Role.cmu_admin, Role.cmu_staff, Role.decision_maker)
]


async def _rules(session: AsyncSession) -> tuple[Rules, bool]:
    state = await repository.read_rules(session)
    rules = await service.load_rules(session, state.revision)
    return rules, state.recomputed_revision >= state.revision


def _subject(principal: Principal) -> UUID | None:
    try:
        return UUID(principal.subject)
    except ValueError:
        return None


def _holiday(holiday: Holiday) -> HolidayPublic:
    return HolidayPublic(day=holiday.day, name_ar=holiday.name_ar, name_en=holiday.name_en,
                         source=holiday.source, estimated=holiday.estimated)


def _this_year(clock: Clock) -> int:
    return clock.now().astimezone(AMMAN).year


# --- the policy ----------------------------------------------------------------------------------


@router.get("/sla/policy", summary="The SLA policy in force")
async def read_policy(session: SessionDep) -> PolicyVersionPublic:
    rules, _ = await _rules(session)
    current = rules.current
    row = (await repository.policy_history(session))[0]
    return PolicyVersionPublic(version=current.version, effective_from=current.effective_from,
                               applies_to_open=current.applies_to_open, reason=row.reason,
                               policy=current.policy)


@router.get("/sla/policy/versions", summary="Every version of the policy, newest first (CMU)")
async def list_policy_versions(session: SessionDep, principal: PolicyReaderDep
                               ) -> list[PolicyVersionPublic]:
    return [
        PolicyVersionPublic(version=row.version, effective_from=row.effective_from,
                            applies_to_open=row.applies_to_open, reason=row.reason,
                            policy=row.policy)
        for row in await repository.policy_history(session)
    ]


@router.post("/sla/policy/versions", status_code=201,
             summary="Publish a new version of the policy (CMU administrators)")
async def publish_policy_version(
    body: PolicyVersionCreate, session: SessionDep, clock: ClockDep, outbox: OutboxDep,
    principal: CmuAdminDep, idempotency: IdempotencyKeyDep, response: Response,
) -> PolicyVersionPublic:
    async def publish() -> PolicyVersionPublic:
        version = await service.publish_policy(
            session, outbox=outbox, clock=clock, policy=body.policy,
            based_on_version=body.based_on_version, applies_to_open=body.applies_to_open,
            reason=body.reason, by=_subject(principal),
        )
        return PolicyVersionPublic(version=version.version,
                                   effective_from=version.effective_from,
                                   applies_to_open=version.applies_to_open, reason=body.reason,
                                   policy=version.policy)

    return await idempotency.once(session, owner=principal.subject, request=body,
                                  response=response, result_type=PolicyVersionPublic,
                                  create=publish)


@router.get("/sla/rules", summary="The rules in force, whole (as sla.rules_changed carries them)")
async def read_rules(session: SessionDep) -> RulesPublic:
    rules, follow = await _rules(session)
    announced = service.rules_event(rules)
    return RulesPublic(open_deadlines_follow=follow, **announced.model_dump())


# --- a request's deadlines -----------------------------------------------------------------------


@router.get("/sla/requests/{reference}/deadlines",
            summary="A request's deadlines and escalations (staff of its entity)")
async def read_request_deadlines(
    reference: ReferenceNumber, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RequestDeadlines:
    """Each timer of the request; the running ones with the working time left from now."""
    request = await repository.find_request(session, reference)
    if request is None or not (
        principal.sees_all_entities
        or (request.entity is not None
            and principal.may_act_for_entity(request.entity, sector_id=request.sector))
    ):
        raise NotFound()  # another entity's request is not there, as far as they can tell
    rules, _ = await _rules(session)
    return RequestDeadlines(
        reference=reference, entity=request.entity, sector=request.sector,
        closed_at=request.closed_at,
        timers=[_timer(row, rules.calendar, clock.now())
                for row in await repository.timers_of(session, reference)],
    )


def _timer(row: Any, calendar: WorkingCalendar, now: datetime) -> TimerPublic:
    left = None
    if row.state == TimerState.pending.value and row.due_at is not None:
        left = service.working_time_left(calendar, now=now, due_at=row.due_at)
    return TimerPublic(
        clock=row.clock, stage=row.stage,
        escalation_level={TimerAction.escalation_1: 1,
                          TimerAction.escalation_2: 2}.get(row.action),
        entity=row.entity, state=row.state, due_at=row.due_at, fired_at=row.fired_at,
        working_seconds_left=None if left is None else int(left.total_seconds()),
        working_days_left=None if left is None else round(left / calendar.day_length, 2),
    )


# --- holidays ------------------------------------------------------------------------------------


@router.get("/holidays", summary="The days off of a year: official and the CMU's")
async def list_holidays(session: SessionDep, clock: ClockDep, year: Year = None
                        ) -> HolidaysPublic:
    rules, _ = await _rules(session)
    year = year or _this_year(clock)
    return HolidaysPublic(year=year, revision=rules.revision,
                          holidays=[_holiday(h) for h in rules.calendar.holidays(year)])


@router.post("/holidays", status_code=201, summary="Declare a day a holiday (CMU administrators)")
async def add_holiday(
    body: HolidayCreate, session: SessionDep, clock: ClockDep, outbox: OutboxDep,
    principal: CmuAdminDep, idempotency: IdempotencyKeyDep, response: Response,
) -> RulesChange:
    async def add() -> RulesChange:
        return RulesChange(revision=await service.add_holiday(
            session, outbox=outbox, clock=clock, day=body.day, name_ar=body.name_ar,
            name_en=body.name_en, by=_subject(principal),
        ))

    return await idempotency.once(session, owner=principal.subject, request=body,
                                  response=response, result_type=RulesChange, create=add)


@router.post("/holidays/{day}/move", summary="Move a holiday to another day (CMU administrators)")
async def move_holiday(
    day: Day, body: HolidayMove, session: SessionDep, clock: ClockDep, outbox: OutboxDep,
    principal: CmuAdminDep, idempotency: IdempotencyKeyDep, response: Response,
) -> RulesChange:
    async def move() -> RulesChange:
        return RulesChange(revision=await service.move_holiday(
            session, outbox=outbox, clock=clock, day=day, to=body.to, by=_subject(principal),
        ))

    return await idempotency.once(session, owner=principal.subject, request=body,
                                  response=response, result_type=RulesChange, create=move,
                                  status_code=200)


@router.delete("/holidays/{day}", summary="Make a holiday a working day (CMU administrators)")
async def remove_holiday(
    day: Day, session: SessionDep, clock: ClockDep, outbox: OutboxDep, principal: CmuAdminDep
) -> RulesChange:
    return RulesChange(revision=await service.remove_holiday(
        session, outbox=outbox, clock=clock, day=day, by=_subject(principal),
    ))


# --- the calendar ------------------------------------------------------------------------------


@router.get("/calendar/ramadan", summary="Ramadan of a year: announced, else estimated")
async def list_ramadan(session: SessionDep, clock: ClockDep, year: Year = None
                       ) -> RamadanList:
    rules, _ = await _rules(session)
    year = year or _this_year(clock)
    calendar = rules.calendar
    return RamadanList(year=year, periods=[
        RamadanPublic(first_day=p.first_day, last_day=p.last_day,
                      source="announced" if p in calendar.announced_ramadans else "estimated")
        for p in calendar.ramadan(year)
    ])


@router.post("/calendar/ramadan", status_code=201,
             summary="Announce Ramadan's first and last day (CMU administrators)")
async def announce_ramadan(
    body: RamadanPeriod, session: SessionDep, clock: ClockDep, outbox: OutboxDep,
    principal: CmuAdminDep, idempotency: IdempotencyKeyDep, response: Response,
) -> RulesChange:
    async def announce() -> RulesChange:
        return RulesChange(revision=await service.announce_ramadan(
            session, outbox=outbox, clock=clock, period=body, by=_subject(principal),
        ))

    return await idempotency.once(session, owner=principal.subject, request=body,
                                  response=response, result_type=RulesChange, create=announce)


@router.get("/calendar/days", summary="Working days and official hours, day by day")
async def list_days(
    session: SessionDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> list[CalendarDay]:
    if not (date(FIRST_YEAR, 1, 1) <= start <= end <= date(LAST_YEAR, 12, 31)):
        raise DayOutOfRange()
    if (end - start).days + 1 > MAX_DAYS_LISTED:
        raise RangeTooLong(Text(f"{MAX_DAYS_LISTED} يوماً على الأكثر.",
                                f"{MAX_DAYS_LISTED} days at most."))
    rules, _ = await _rules(session)
    return _days(rules.calendar, start, end)


def _days(calendar: WorkingCalendar, start: date, end: date) -> list[CalendarDay]:
    holidays = {h.day: h for year in range(start.year, end.year + 1)
                for h in calendar.holidays(year)}
    days = []
    day = start
    while day <= end:
        hours = calendar.official_hours_on(day)
        holiday = holidays.get(day)
        days.append(CalendarDay(
            day=day, working=hours is not None,
            opens_at=hours[0] if hours else None, closes_at=hours[1] if hours else None,
            ramadan=calendar.is_ramadan(day),
            holiday=_holiday(holiday) if holiday else None,
        ))
        day += timedelta(days=1)
    return days


@router.get("/calendar/deadline", summary="When N working days from an instant end")
async def compute_deadline(
    session: SessionDep,
    start: Annotated[AwareDatetime, Query(alias="from", description="An instant with its offset")],
    working_days: Annotated[int, Query(ge=1, le=250)],
) -> Deadline:
    _in_range(start)
    rules, _ = await _rules(session)
    return Deadline(start=start, working_days=working_days,
                    due_at=rules.calendar.add_working_days(start, working_days))


@router.get("/calendar/working-time", summary="The working time between two instants")
async def measure_working_time(
    session: SessionDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
) -> WorkingTime:
    _in_range(start)
    _in_range(end)
    if abs(end - start) > MAX_SPAN_MEASURED:
        raise RangeTooLong(Text("خمس سنوات على الأكثر.", "Five years at most."))
    rules, _ = await _rules(session)
    calendar = rules.calendar
    span = calendar.working_time_between(start, end)
    return WorkingTime(start=start, end=end, working_seconds=span.total_seconds(),
                       working_days=float(calendar.working_days_between(start, end)))


def _in_range(at: datetime) -> None:
    if not FIRST_YEAR <= at.astimezone(AMMAN).year <= LAST_YEAR:
        raise DayOutOfRange()
