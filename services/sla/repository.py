"""Every query of the sla service. Functions take the caller's session and never commit.

Locking order, the same everywhere so that nobody waits on a circle: the rules row first
(shared by event handlers and the scheduler, exclusive for a change of the rules and for the
recomputation that follows it), then a request's row, then its timers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services.sla.deadlines import Fact, PolicyVersion, Timer, TimerState
from services.sla.models import (
    directory_roles,
    holiday_overrides,
    policy_versions,
    ramadan_periods,
    request_events,
    requests,
    rules_changes,
    rules_state,
    timers,
)
from shared.calendar import DayOverride, DayStatus, RamadanPeriod
from shared.events.catalog import SlaPolicy

# Spelled out, not bound: a prepared statement's generic plan cannot match a parameter to the
# partial index's `state = 'pending'`, and would scan every timer instead.
PENDING = timers.c.state == literal_column("'pending'")


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _among(session: AsyncSession, column: Any, values: Collection[Any]) -> Any:
    """`column IN values`; on PostgreSQL one array parameter (`= ANY`), so a batch of 500
    is one bind, not 500 to expand and send."""
    if session.get_bind().dialect.name == "postgresql":
        element = BigInteger() if isinstance(column.type, BigInteger) else String()
        return column == any_(bindparam(None, list(values),
                                        type_=postgresql.ARRAY(element)))
    return column.in_(list(values))


# --- the rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesState:
    revision: int
    announced_revision: int
    recomputed_revision: int


async def lock_rules(session: AsyncSession, *, exclusive: bool = False) -> RulesState:
    """Read the rules' revision, holding it: shared (handlers, scheduler) or exclusive."""
    query = select(rules_state).where(rules_state.c.id == 1)
    query = query.with_for_update() if exclusive else query.with_for_update(read=True)
    return _state((await session.execute(query)).one())


async def read_rules(session: AsyncSession) -> RulesState:
    """The rules' revision, without holding anything (to see whether there is work)."""
    return _state((await session.execute(select(rules_state).where(rules_state.c.id == 1))).one())


def _state(row: Any) -> RulesState:
    return RulesState(row.revision, row.announced_revision, row.recomputed_revision)


async def record_change(
    session: AsyncSession, *, revision: int, change: str, detail: Mapping[str, Any],
    changed_by: UUID | None, at: datetime,
) -> None:
    """The next revision, announced by the caller in the same transaction."""
    await session.execute(rules_changes.insert().values(
        revision=revision, change=change, detail=dict(detail), changed_by=changed_by,
        changed_at=at,
    ))
    await session.execute(
        update(rules_state).where(rules_state.c.id == 1).values(
            revision=revision, announced_revision=revision
        )
    )


async def mark_announced(session: AsyncSession, revision: int) -> None:
    await session.execute(
        update(rules_state).where(rules_state.c.id == 1).values(announced_revision=revision)
    )


async def mark_recomputed(session: AsyncSession, revision: int) -> None:
    await session.execute(
        update(rules_state).where(rules_state.c.id == 1).values(recomputed_revision=revision)
    )


async def changes_after(session: AsyncSession, revision: int) -> list[Any]:
    query = (select(rules_changes.c.revision, rules_changes.c.change, rules_changes.c.detail)
             .where(rules_changes.c.revision > revision).order_by(rules_changes.c.revision))
    return list((await session.execute(query)).all())


async def load_policy_versions(session: AsyncSession) -> tuple[PolicyVersion, ...]:
    rows = await session.execute(select(policy_versions).order_by(policy_versions.c.version))
    return tuple(
        PolicyVersion(
            version=row.version,
            effective_from=row.effective_from,
            applies_to_open=row.applies_to_open,
            policy=SlaPolicy.model_validate(row.policy),
        )
        for row in rows
    )


async def policy_history(session: AsyncSession) -> list[Any]:
    return list((await session.execute(
        select(policy_versions).order_by(policy_versions.c.version.desc())
    )).all())


async def add_policy_version(
    session: AsyncSession, *, version: int, policy: SlaPolicy, effective_from: datetime,
    applies_to_open: bool, reason: str | None, created_by: UUID | None,
) -> None:
    await session.execute(policy_versions.insert().values(
        version=version, policy=policy.model_dump(mode="json"), effective_from=effective_from,
        applies_to_open=applies_to_open, reason=reason, created_by=created_by,
    ))


async def load_overrides(session: AsyncSession) -> list[DayOverride]:
    rows = await session.execute(select(holiday_overrides).order_by(holiday_overrides.c.day))
    return [
        DayOverride(day=row.day, status=DayStatus(row.status), name_ar=row.name_ar,
                    name_en=row.name_en)
        for row in rows
    ]


async def save_override(
    session: AsyncSession, override: DayOverride, *, changed_by: UUID | None, at: datetime
) -> None:
    values = {"status": override.status.value, "name_ar": override.name_ar,
              "name_en": override.name_en, "changed_by": changed_by, "changed_at": at}
    statement = _insert(session, holiday_overrides).values(day=override.day, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["day"], set_=values)
    )


async def forget_override(session: AsyncSession, day: date) -> None:
    await session.execute(delete(holiday_overrides).where(holiday_overrides.c.day == day))


async def load_ramadan_periods(session: AsyncSession) -> list[RamadanPeriod]:
    rows = await session.execute(select(ramadan_periods).order_by(ramadan_periods.c.first_day))
    return [RamadanPeriod(first_day=row.first_day, last_day=row.last_day) for row in rows]


async def replace_ramadan_period(
    session: AsyncSession, period: RamadanPeriod, *, replaces: Iterable[RamadanPeriod],
    changed_by: UUID | None, at: datetime,
) -> None:
    starts = [p.first_day for p in replaces]
    if starts:
        await session.execute(
            delete(ramadan_periods).where(ramadan_periods.c.first_day.in_(starts))
        )
    await session.execute(ramadan_periods.insert().values(
        first_day=period.first_day, last_day=period.last_day, changed_by=changed_by,
        changed_at=at,
    ))


# --- requests and their events ------------------------------------------------------------------


async def lock_request(session: AsyncSession, reference: str, *, at: datetime) -> Any:
    """The request's row, created on first sight and held until the transaction ends."""
    await session.execute(
        _insert(session, requests).values(reference=reference, updated_at=at)
        .on_conflict_do_nothing()
    )
    query = select(requests).where(requests.c.reference == reference).with_for_update()
    return (await session.execute(query)).one()


async def record_fact(session: AsyncSession, reference: str, fact: Fact) -> bool:
    """Keep the fact; False when it was kept before (the same event again)."""
    result = await session.execute(
        _insert(session, request_events).values(
            event_id=fact.event_id, reference=reference, type=fact.type,
            occurred_at=fact.at, data=dict(fact.data),
        ).on_conflict_do_nothing().returning(request_events.c.event_id)
    )
    return result.first() is not None


async def facts_of(session: AsyncSession, reference: str) -> list[Fact]:
    rows = await session.execute(
        select(request_events).where(request_events.c.reference == reference)
    )
    return [Fact(row.event_id, row.type, row.occurred_at, row.data) for row in rows]


async def update_request(
    session: AsyncSession, reference: str, *, kind: str | None, entity: str | None,
    sector: str | None, closed_at: datetime | None, at: datetime,
) -> None:
    await session.execute(
        update(requests).where(requests.c.reference == reference).values(
            kind=kind, entity=entity, sector=sector, closed_at=closed_at, updated_at=at
        )
    )


async def find_request(session: AsyncSession, reference: str) -> Any | None:
    query = select(requests).where(requests.c.reference == reference)
    return (await session.execute(query)).one_or_none()


async def purge_closed(session: AsyncSession, *, closed_before: datetime, limit: int) -> int:
    """Forget requests closed before `closed_before` (a batch of at most `limit`)."""
    doomed = (await session.execute(
        select(requests.c.reference).where(requests.c.closed_at < closed_before).limit(limit)
    )).scalars().all()
    if doomed:
        for table in (timers, request_events, requests):
            await session.execute(
                delete(table).where(_among(session, table.c.reference, doomed))
            )
    return len(doomed)


# --- timers ---------------------------------------------------------------------------------------


async def timers_of(session: AsyncSession, reference: str, *, lock: bool = False
                    ) -> list[Any]:
    query: Select[Any] = (select(timers).where(timers.c.reference == reference)
                          .order_by(timers.c.id))
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).all())


def _timer_values(timer: Timer) -> dict[str, Any]:
    return {
        "clock": timer.clock.value, "stage": timer.stage.value, "action": timer.action.value,
        "entity": timer.entity, "sector": timer.sector, "policy_version": timer.policy_version,
        "anchor_at": timer.anchor_at, "budget_us": timer.budget_us, "due_at": timer.due_at,
        "state": timer.state.value,
    }


async def insert_timers(session: AsyncSession, reference: str, new: Sequence[Timer],
                        *, ends: Mapping[str, datetime], at: datetime) -> None:
    if new:
        await session.execute(timers.insert(), [
            {"reference": reference, "key": t.key, "updated_at": at,
             "ended_at": ends.get(t.key), **_timer_values(t)}
            for t in new
        ])


async def update_timers(session: AsyncSession, changed: Mapping[int, Timer], *, at: datetime
                        ) -> None:
    for timer_id, timer in changed.items():
        await session.execute(
            update(timers).where(timers.c.id == timer_id)
            .values(updated_at=at, **_timer_values(timer))
        )


async def mark_ended(session: AsyncSession, ended_at: Mapping[int, datetime], *,
                     at: datetime) -> None:
    for timer_id, end in ended_at.items():
        await session.execute(
            update(timers).where(timers.c.id == timer_id).values(ended_at=end, updated_at=at)
        )


async def cancel_timers(session: AsyncSession, ids: Collection[int], *, at: datetime) -> None:
    if ids:
        await session.execute(
            update(timers).where(_among(session, timers.c.id, ids))
            .values(state=TimerState.cancelled.value, updated_at=at)
        )


def claim_query(now: datetime, limit: int) -> Select[Any]:
    """The oldest pending timers due by `now`, locked; rows another replica holds are skipped.
    It reads the head of the partial index only (the benchmark shows its plan)."""
    return (
        select(timers)
        .where(PENDING, timers.c.due_at <= now)
        .order_by(timers.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Any]:
    return list((await session.execute(claim_query(now, limit))).all())


async def mark_fired(session: AsyncSession, ids: Collection[int], *, at: datetime) -> None:
    await session.execute(
        update(timers).where(_among(session, timers.c.id, ids))
        .values(state=TimerState.fired.value, fired_at=at, updated_at=at)
    )


async def next_due(session: AsyncSession) -> datetime | None:
    query = select(func.min(timers.c.due_at)).where(PENDING)
    due: datetime | None = (await session.execute(query)).scalar()
    return due


async def deadline_dues(session: AsyncSession, references: Collection[str]
                        ) -> dict[tuple[str, str], datetime]:
    """The due instants of these requests' deadline timers, by (reference, key)."""
    if not references:
        return {}
    query = select(timers.c.reference, timers.c.key, timers.c.due_at).where(
        _among(session, timers.c.reference, references),
        timers.c.action == literal_column("'deadline'"),
        timers.c.due_at.is_not(None),
    )
    return {(row.reference, row.key): row.due_at for row in await session.execute(query)}


def open_timers(bounds: tuple[datetime, datetime] | None) -> Any:
    """Pending timers; with `bounds`, those whose running stretch (from anchor to due)
    overlaps [start, end)."""
    if bounds is None:
        return PENDING
    start, end = bounds
    return and_(PENDING, timers.c.anchor_at < end, timers.c.due_at > start)


async def open_timer_span(session: AsyncSession, where: Any
                          ) -> tuple[datetime, datetime, int] | None:
    """(earliest anchor, latest anchor, largest budget) of the timers `where` selects."""
    row = (await session.execute(
        select(func.min(timers.c.anchor_at), func.max(timers.c.anchor_at),
               func.max(timers.c.budget_us)).where(where)
    )).one()
    if row[0] is None:
        return None
    return row[0], row[1], int(row[2])


# --- the directory --------------------------------------------------------------------------------


async def record_role(
    session: AsyncSession, *, person_id: UUID, role: str, scope: str, granted: bool,
    at: datetime,
) -> None:
    """Keep the newest word on (person, role, scope); an older one arriving late changes nothing."""
    values = {"granted": granted, "changed_at": at}
    statement = _insert(session, directory_roles).values(
        person_id=person_id, role=role, scope=scope, **values
    )
    await session.execute(statement.on_conflict_do_update(
        index_elements=["person_id", "role", "scope"],
        set_=values,
        where=directory_roles.c.changed_at <= at,
    ))


async def holders(session: AsyncSession, wanted: Mapping[str, Collection[str]]
                  ) -> dict[tuple[str, str], list[UUID]]:
    """Who holds each role for each of its scopes (`{role: scopes}`), in a stable order."""
    asked = [and_(directory_roles.c.role == role, _among(session, directory_roles.c.scope, scopes))
             for role, scopes in wanted.items() if scopes]
    if not asked:
        return {}
    query = (
        select(directory_roles.c.role, directory_roles.c.scope, directory_roles.c.person_id)
        .where(or_(*asked), directory_roles.c.granted.is_(True))
        .order_by(directory_roles.c.changed_at, directory_roles.c.person_id)
    )
    found: dict[tuple[str, str], list[UUID]] = {}
    for row in await session.execute(query):
        found.setdefault((row.role, row.scope), []).append(row.person_id)
    return found
