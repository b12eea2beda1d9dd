"""Every query of the analytics service: writing what a batch of facts changed, reading rollups.

Writes add increments to rollup rows with one upsert per table (`ON CONFLICT DO UPDATE SET
n = n + excluded.n`, the same on PostgreSQL and SQLite), so concurrent consumers never lose a
count. Reads of indicators touch rollups, `open_counts` and the small partial index of open
requests only; reports read the `requests` projection for one bounded period.

Never commits: the caller's transaction (the consumer's batch, or the route's session) does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Final
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics import models
from services.analytics.measures import (
    BUCKETS,
    COUNTERS,
    DURATION_EDGES_WD,
    RATINGS,
    Tally,
    closing_counter,
    first_response_counter,
    rating_counter,
    resolution_counter,
)
from services.analytics.models import CLOSED_STATUSES
from services.analytics.projection import Changes, Fact, RequestRow
from services.analytics.slices import Period, Scope, Slice
from shared.calendar import AMMAN
from shared.events.vocabulary import ClosingCode, RequestStatus

_OPEN_COUNTS_KEY: Final = ("sector", "entity", "governorate", "kind", "channel", "status")
ONLY_ROW: Final = 1  # the key of the one-row tables (freshness, working_rules)
ANY: Final = Slice()


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


# --- writing -----------------------------------------------------------------------------------


async def log_facts(session: AsyncSession, facts: Sequence[Fact]) -> None:
    if facts:
        await session.execute(models.event_log.insert(), [
            {"event_id": f.event_id, "event_type": f.type, "occurred_at": f.occurred_at,
             "reference": f.reference, "facts": f.data}
            for f in facts
        ])


async def load_requests(session: AsyncSession, references: Iterable[str]) -> dict[str, RequestRow]:
    wanted = sorted(set(references))
    if not wanted:
        return {}
    rows = (await session.execute(
        select(models.requests).where(models.requests.c.reference.in_(wanted))
    )).mappings()
    return {row["reference"]: RequestRow.from_mapping(row) for row in rows}


async def department_parents(session: AsyncSession) -> dict[str, str]:
    entities = models.entities
    rows = await session.execute(
        select(entities.c.code, entities.c.parent).where(entities.c.parent.is_not(None)))
    return {code: parent for code, parent in rows}


async def working_rules(session: AsyncSession) -> dict[str, Any] | None:
    rules = await session.scalar(select(models.working_rules.c.rules)
                                 .where(models.working_rules.c.id == ONLY_ROW))
    return dict(rules) if rules is not None else None


async def flush(session: AsyncSession, changes: Changes) -> None:
    """Write what a `Projector` did: rows, increments, names and the freshness watermark."""
    await _upsert_rows(session, models.requests, ["reference"],
                       [changes.rows[r].as_dict() for r in sorted(changes.touched)])
    for table in (models.rollup_hour_entity, models.rollup_day_entity, models.rollup_day_geo,
                  models.rollup_day_full):
        keys = [c.name for c in table.primary_key.columns]
        rows = []
        for (name, key), tally in changes.cubes.items():
            if name == table.name and any(tally.values()):
                rows.append({**dict(zip(keys, key, strict=True)),
                             **{c: tally[c] for c in COUNTERS}})
        await _add_counts(session, table, keys, list(COUNTERS), rows)
    by_status: dict[tuple[str, ...], int] = defaultdict(int)
    by_day: dict[tuple[str, str, date], int] = defaultdict(int)
    for (sector, entity, governorate, kind, channel, status, day), n in \
            changes.open_requests.items():
        by_status[(sector, entity, governorate, kind, channel, status)] += n
        by_day[(sector, entity, day)] += n
    await _add_counts(
        session, models.open_counts, list(_OPEN_COUNTS_KEY), ["n"],
        [{**dict(zip(_OPEN_COUNTS_KEY, key, strict=True)), "n": n}
         for key, n in by_status.items() if n])
    await _add_counts(
        session, models.open_by_day, ["sector", "entity", "day"], ["n"],
        [{"sector": sector, "entity": entity, "day": day, "n": n}
         for (sector, entity, day), n in by_day.items() if n])
    await _add_counts(session, models.notification_daily, ["day", "channel"], ["sent", "failed"],
                      [{"day": day, "channel": channel, "sent": t["sent"], "failed": t["failed"]}
                       for (day, channel), t in changes.notifications.items()])
    await _add_counts(session, models.integrity_daily, ["day"], ["forwarded", "acknowledged"],
                      [{"day": day, "forwarded": t["forwarded"],
                        "acknowledged": t["acknowledged"]}
                       for day, t in changes.integrity.items()])
    await _upsert_rows(session, models.sectors, ["code"], list(changes.sectors.values()))
    await _upsert_rows(session, models.entities, ["code"], list(changes.entities.values()))
    if changes.rules is not None:
        await _upsert_rows(session, models.working_rules, ["id"], [
            {"id": ONLY_ROW, "revision": changes.rules["revision"], "rules": changes.rules}])
    if changes.events_applied:
        await session.execute(_freshness_upsert(session), {
            "id": ONLY_ROW, "events_applied": changes.events_applied,
            "last_event_at": changes.last_event_at})


def _freshness_upsert(session: AsyncSession) -> Any:
    """Add the events applied and keep the newest event time, in one statement."""
    table = models.freshness
    insert = _insert(session, table)
    newest = table.c.last_event_at
    return insert.on_conflict_do_update(index_elements=["id"], set_={
        "events_applied": table.c.events_applied + insert.excluded.events_applied,
        "last_event_at": case(
            (or_(newest.is_(None), newest < insert.excluded.last_event_at),
             insert.excluded.last_event_at),
            else_=newest),
    })


async def _upsert_rows(session: AsyncSession, table: Table, keys: list[str],
                       rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = [c for c in rows[0] if c not in keys]
        await session.execute(_upsert(session, table, keys, columns, add=False), rows)


async def _add_counts(session: AsyncSession, table: Table, keys: list[str], counters: list[str],
                      rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_upsert(session, table, keys, counters, add=True), rows)


_UPSERTS: dict[tuple[str, str, tuple[str, ...], bool], Any] = {}


def _upsert(session: AsyncSession, table: Table, keys: list[str], columns: list[str], *,
            add: bool) -> Any:
    """`INSERT … ON CONFLICT DO UPDATE` setting `columns` (to the new value, or adding it).

    Built once per table and dialect: a rollup's has 47 columns, and building it (and its
    cache key) anew for every batch cost more than the database's work.
    """
    dialect = session.get_bind().dialect.name
    cache_key = (dialect, table.name, tuple(columns), add)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        insert = _insert(session, table)
        statement = insert.on_conflict_do_update(index_elements=keys, set_={
            c: table.c[c] + insert.excluded[c] if add else insert.excluded[c] for c in columns})
        _UPSERTS[cache_key] = statement
    return statement


async def reset_read_model(session: AsyncSession) -> None:
    """Empty everything derived from the event log (the start of a rebuild)."""
    for table in (models.requests, models.rollup_hour_entity, models.rollup_day_entity,
                  models.rollup_day_geo, models.rollup_day_full, models.open_counts,
                  models.open_by_day,
                  models.notification_daily, models.integrity_daily, models.sectors,
                  models.entities, models.freshness, models.working_rules):
        await session.execute(delete(table))


async def logged_facts(session: AsyncSession, *, after_seq: int, limit: int
                       ) -> list[tuple[int, Fact]]:
    log = models.event_log
    rows = await session.execute(
        select(log).where(log.c.seq > after_seq).order_by(log.c.seq).limit(limit))
    return [
        (row.seq, Fact(event_id=row.event_id, type=row.event_type, occurred_at=row.occurred_at,
                       reference=row.reference, data=dict(row.facts)))
        for row in rows
    ]


# --- reading rollups ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cube:
    table: Table
    grain: str
    dimensions: frozenset[str]


CUBES: Final = (
    Cube(models.rollup_hour_entity, "hour", frozenset({"sector", "entity"})),
    Cube(models.rollup_day_entity, "day", frozenset({"sector", "entity"})),
    Cube(models.rollup_day_geo, "day", frozenset({"sector", "governorate"})),
    Cube(models.rollup_day_full, "day",
         frozenset({"sector", "entity", "governorate", "kind", "channel"})),
)


def cube_for(needed: set[str], grain: str = "day") -> Cube:
    """The smallest cube of this grain that has every dimension asked about."""
    for cube in CUBES:
        if cube.grain == grain and needed <= cube.dimensions:
            return cube
    raise ValueError(f"no {grain} cube has {sorted(needed)}")


def _scope_dimensions(scope: Scope) -> set[str]:
    if scope.everything:
        return set()
    needed = set()
    if scope.entities:
        needed.add("entity")
    if scope.sectors:
        needed.add("sector")
    return needed or {"entity"}


def _scope_clause(table: Table, scope: Scope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    parts: list[ColumnElement[bool]] = []
    if scope.entities:
        parts.append(table.c.entity.in_(sorted(scope.entities)))
    if scope.sectors:
        parts.append(table.c.sector.in_(sorted(scope.sectors)))
    return or_(*parts) if parts else false()


def _slice_clauses(table: Table, where: Slice) -> list[ColumnElement[bool]]:
    return [table.c[name] == getattr(where, name) for name in sorted(where.dimensions())]


def _total(column: Any) -> Any:
    # One rollup row never holds 2^31 of anything; an int's sum adds in bigint, a bigint's in
    # numeric, several times slower over thousands of rows of 47 counters.
    return func.coalesce(func.sum(cast(column, Integer)), 0)


@cache
def _counter_totals(table: Table) -> tuple[Any, ...]:
    """`SUM` of every counter of a rollup, built once (47 expressions on every query added up)."""
    return tuple(_total(table.c[n]).label(n) for n in COUNTERS)


async def cube_tallies(
    session: AsyncSession, *, scope: Scope, period: Period, where: Slice = ANY,
    group_by: Sequence[str] = (), grain: str = "day",
) -> dict[tuple[Any, ...], Tally]:
    """Counters summed over the period, per group (`()` for the total)."""
    groups = [g for g in group_by if g != grain]
    cube = cube_for(set(groups) | where.dimensions() | _scope_dimensions(scope), grain)
    table = cube.table
    time = table.c[cube.grain]
    if grain == "hour":
        lower = datetime.combine(period.start, datetime.min.time(), AMMAN)
        upper = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), AMMAN)
        in_period = and_(time >= lower, time < upper)
    else:
        in_period = time.between(period.start, period.end)
    group_columns = [table.c[g] for g in group_by]
    statement: Select[Any] = (
        select(*group_columns, *_counter_totals(table))
        .where(in_period, _scope_clause(table, scope), *_slice_clauses(table, where))
        .group_by(*group_columns)
    )
    result: dict[tuple[Any, ...], Tally] = {}
    for row in (await session.execute(statement)).mappings():
        key = tuple(row[g] for g in group_by)
        result[key] = Tally({n: int(row[n]) for n in COUNTERS})
    return result


async def cube_total(session: AsyncSession, *, scope: Scope, period: Period,
                     where: Slice = ANY) -> Tally:
    return (await cube_tallies(session, scope=scope, period=period, where=where)).get((), Tally())


async def open_by_status(session: AsyncSession, *, scope: Scope, where: Slice = ANY,
                         group_by: Sequence[str] = ()) -> dict[tuple[Any, ...], dict[str, int]]:
    table = models.open_counts
    columns = [table.c[g] for g in group_by]
    rows = await session.execute(
        select(*columns, table.c.status, _total(table.c.n).label("n"))
        .where(_scope_clause(table, scope), *_slice_clauses(table, where))
        .group_by(*columns, table.c.status))
    result: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in rows.mappings():
        key = tuple(row[g] for g in group_by)
        if int(row["n"]):
            result.setdefault(key, {})[row["status"]] = int(row["n"])
    return result


def _open_requests(scope: Scope, where: Slice) -> ColumnElement[bool]:
    table = models.requests
    return and_(models.IS_OPEN, _scope_clause(table, scope),
                *_slice_clauses(table, where))


AGE_BUCKETS_DAYS: Final = (1, 3, 7, 14, 30)
"""Upper edges (whole days since the day of receipt) of the backlog's age buckets; the last is
open-ended."""


async def backlog_by_age(session: AsyncSession, *, scope: Scope, today: date,
                         where: Slice = ANY) -> list[int]:
    """Open requests per age bucket: whole days from the day of receipt to today (Amman)."""
    table = models.open_by_day
    sums = []
    newer: date | None = None
    for edge_days in [*AGE_BUCKETS_DAYS, None]:
        oldest = None if edge_days is None else today - timedelta(days=edge_days)
        bounds = [table.c.day < newer] if newer is not None else []
        if oldest is not None:
            bounds.append(table.c.day >= oldest)
        sums.append(_total(case((and_(true(), *bounds), table.c.n), else_=0)))
        newer = oldest
    row = (await session.execute(
        select(*sums).where(_scope_clause(table, scope), *_slice_clauses(table, where)))).one()
    return [int(value) for value in row]


async def oldest_open(session: AsyncSession, *, scope: Scope, limit: int,
                      where: Slice = ANY) -> list[dict[str, Any]]:
    table = models.requests
    rows = await session.execute(
        select(table.c.reference, table.c.entity, table.c.sector, table.c.kind,
               table.c.status, table.c.submitted_at, table.c.due_at, table.c.escalation_level)
        .where(_open_requests(scope, where))
        .order_by(table.c.submitted_at, table.c.reference)
        .limit(limit))
    return [dict(row) for row in rows.mappings()]


async def freshness(session: AsyncSession) -> tuple[int, datetime | None]:
    row = (await session.execute(
        select(models.freshness.c.events_applied, models.freshness.c.last_event_at)
        .where(models.freshness.c.id == ONLY_ROW))).first()
    return (int(row[0]), row[1]) if row else (0, None)


async def sector_names(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(select(models.sectors))
    return {row["code"]: dict(row) for row in rows.mappings()}


async def entity_names(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(select(models.entities))
    return {row["code"]: dict(row) for row in rows.mappings()}


async def notification_totals(session: AsyncSession, period: Period) -> dict[str, int]:
    table = models.notification_daily
    row = (await session.execute(
        select(func.coalesce(func.sum(table.c.sent), 0), func.coalesce(func.sum(table.c.failed), 0))
        .where(table.c.day.between(period.start, period.end)))).one()
    return {"sent": int(row[0]), "failed": int(row[1])}


async def integrity_totals(session: AsyncSession, period: Period) -> dict[str, int]:
    table = models.integrity_daily
    row = (await session.execute(
        select(func.coalesce(func.sum(table.c.forwarded), 0),
               func.coalesce(func.sum(table.c.acknowledged), 0))
        .where(table.c.day.between(period.start, period.end)))).one()
    return {"forwarded": int(row[0]), "acknowledged": int(row[1])}


# --- reports over the projection ---------------------------------------------------------------

NOT_CLOSED_BUCKET: Final = -1


def _bucket_of(column: Any) -> Any:
    """The duration bucket of a working-days column, as SQL (NULL stays NULL)."""
    whens = [(column < edge, literal(index)) for index, edge in enumerate(DURATION_EDGES_WD)]
    return case(*whens, else_=literal(len(DURATION_EDGES_WD)))


def processing_time_bucket() -> Any:
    table = models.requests
    return case(
        (table.c.resolution_wd.is_(None), literal(NOT_CLOSED_BUCKET)),
        else_=_bucket_of(table.c.resolution_wd),
    )


REPORT_DIMENSIONS: Final = {
    "governorate": models.requests.c.governorate,
    "city": models.requests.c.city,
    "status": models.requests.c.status,
    "closing_code": models.requests.c.closing_code,
    "entity": models.requests.c.entity,
    "sector": models.requests.c.sector,
    "kind": models.requests.c.kind,
    "channel": models.requests.c.channel,
    "day": models.requests.c.submitted_day,
}
"""Report group-by fields that are columns; `processing_time` and the periods are derived."""


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _report_counters() -> list[Any]:
    table = models.requests
    fr_bucket, res_bucket = _bucket_of(table.c.first_response_wd), _bucket_of(table.c.resolution_wd)
    closed = table.c.status == RequestStatus.closed.value
    counters = {
        "received": func.count(),
        "open": _count_if(table.c.status.not_in(CLOSED_STATUSES)),
        "first_responded": _count_if(table.c.first_response_at.is_not(None)),
        "answered": _count_if(or_(table.c.responded_at.is_not(None),
                                  table.c.status == RequestStatus.rejected.value)),
        "deadline_met": _count_if(table.c.on_time.is_(True)),
        "deadline_missed": _count_if(table.c.on_time.is_(False)),
        "closed": _count_if(closed),
        **{closing_counter(code): _count_if(and_(closed, table.c.closing_code == code.value))
           for code in ClosingCode},
        "inadmissible": _count_if(table.c.status == RequestStatus.rejected.value),
        "escalated_1": _count_if(table.c.escalation_level >= 1),
        "escalated_2": _count_if(table.c.escalation_level >= 2),
        "transferred": func.coalesce(func.sum(table.c.transfers), 0),
        "reopened": _count_if(table.c.reopened > 0),
        "chased": _count_if(table.c.chased > 0),
        "breached": _count_if(table.c.breached.is_(True)),
        "rated": _count_if(table.c.rating.is_not(None)),
        **{rating_counter(s): _count_if(table.c.rating == s) for s in RATINGS},
        **{first_response_counter(b): _count_if(and_(table.c.first_response_wd.is_not(None),
                                                     fr_bucket == b)) for b in range(BUCKETS)},
        **{resolution_counter(b): _count_if(and_(closed, res_bucket == b))
           for b in range(BUCKETS)},
    }
    return [expression.label(name) for name, expression in counters.items()]


async def report_groups(
    session: AsyncSession, *, scope: Scope, period: Period, where: Slice,
    group_by: Sequence[str],
) -> list[tuple[dict[str, Any], Tally]]:
    """Requests received in the period, grouped; each group's counters as they stand now."""
    table = models.requests
    columns = []
    for name in group_by:
        if name == "processing_time":
            columns.append(processing_time_bucket().label(name))
        else:
            columns.append(REPORT_DIMENSIONS[name].label(name))
    conditions = [table.c.submitted_day.between(period.start, period.end),
                  _scope_clause(table, scope), *_slice_clauses(table, where)]
    for name in ("city", "status", "closing_code"):
        if getattr(where, name) is not None:
            conditions.append(table.c[name] == getattr(where, name))
    if where.processing_time is not None:
        conditions.append(processing_time_bucket() == where.processing_time)
    statement = (select(*columns, *_report_counters()).where(*conditions)
                 .group_by(*columns).order_by(*columns))
    groups = []
    for row in (await session.execute(statement)).mappings():
        key = {name: row[name] for name in group_by}
        groups.append((key, Tally({n: int(row[n] or 0) for n in (*COUNTERS, "open")})))
    return groups


async def known_cities(session: AsyncSession, city: str) -> bool:
    row = (await session.execute(
        select(literal(1)).where(models.requests.c.city == city).limit(1))).first()
    return row is not None


# --- published periodic reports ----------------------------------------------------------------


async def claim_published_report(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Insert the report unless one for the same cadence, period and audience exists."""
    table = models.published_reports
    inserted = await session.execute(
        _insert(session, table).values(**row).on_conflict_do_nothing()
        .returning(table.c.id))
    return inserted.first() is not None


async def first_event_at(session: AsyncSession) -> datetime | None:
    """When the platform began, as analytics knows it: its first logged event."""
    log = models.event_log
    return await session.scalar(select(log.c.occurred_at).order_by(log.c.seq).limit(1))


async def published_keys(session: AsyncSession, starts: set[date]
                         ) -> set[tuple[str, date, str]]:
    table = models.published_reports
    rows = await session.execute(
        select(table.c.cadence, table.c.period_start, table.c.sector)
        .where(table.c.period_start.in_(sorted(starts))))
    return {(cadence, start, sector) for cadence, start, sector in rows}


async def published_reports(session: AsyncSession, *, sectors: frozenset[str] | None,
                            limit: int) -> list[dict[str, Any]]:
    table = models.published_reports
    statement = select(table.c.id, table.c.cadence, table.c.period_start, table.c.period_end,
                       table.c.sector, table.c.published_at)
    if sectors is not None:
        statement = statement.where(table.c.sector.in_(sorted(sectors)))
    rows = await session.execute(
        statement.order_by(table.c.period_start.desc(), table.c.sector).limit(limit))
    return [dict(row) for row in rows.mappings()]


async def published_report(session: AsyncSession, report_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(
        select(models.published_reports).where(models.published_reports.c.id == report_id)
    )).mappings().first()
    return dict(row) if row else None


def date_range(period: Period) -> list[date]:
    return [period.start + timedelta(days=i) for i in range(period.days)]

