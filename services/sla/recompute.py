"""Moving open deadlines when the calendar changes, in one set-based pass.

Every pending timer keeps where its working time runs from (`anchor_at`) and how much of it is
left (`budget_us`), so its due instant under new rules is `calendar.add_working_time(anchor,
budget)` — nothing else about the request is needed. A holiday declared for next week moves
every deadline whose running stretch covers that day, and announces each moved deadline
(`sla.deadline_set`).

On PostgreSQL it is one statement: the calendar's working days over the span involved are
written to a temporary table (by `WorkingCalendar`, the one truth of what a working day is),
and a single UPDATE does the same positional arithmetic as `WorkingCalendar.add_working_time`
for every affected timer, writing the announcements into the outbox as it goes. On SQLite (the
embedded mode, a handful of open requests) each timer is recomputed here, through the calendar
itself. `tests/sla/test_recompute.py` holds the two to the same answers.

What it must never do: move a timer that is not pending (paused ones have no due instant; fired
ones never fire again), or announce a deadline that did not move or whose stage has ended (its
timer only waits to fire).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla import repository
from services.sla.deadlines import MICROSECOND, TimerAction
from services.sla.models import timers
from shared.bus import Outbox
from shared.calendar import AMMAN, WorkingCalendar
from shared.events.catalog import EventType, SlaDeadlineSet
from shared.events.vocabulary import ClockKind, SlaStage

_WORKING_DAYS = "sla_working_days"


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, Amman's days, as UTC instants."""
    return (datetime.combine(first, time(0), AMMAN).astimezone(UTC),
            datetime.combine(last + timedelta(days=1), time(0), AMMAN).astimezone(UTC))


async def move_open_deadlines(
    session: AsyncSession, calendar: WorkingCalendar, *, outbox: Outbox, now: datetime,
    days: tuple[date, date] | None,
) -> int:
    """Recompute the pending timers whose running stretch covers `days` (all when None);
    returns how many moved."""
    bounds = None if days is None else day_bounds(*days)
    if session.get_bind().dialect.name == "postgresql":
        return await _in_the_database(session, calendar, bounds=bounds, now=now)
    return await _one_by_one(session, calendar, outbox=outbox, where=repository.open_timers(bounds))


async def _one_by_one(
    session: AsyncSession, calendar: WorkingCalendar, *, outbox: Outbox, where: Any
) -> int:
    rows = (await session.execute(
        select(timers.c.id, timers.c.reference, timers.c.clock, timers.c.entity,
               timers.c.stage, timers.c.action, timers.c.anchor_at, timers.c.budget_us,
               timers.c.due_at, timers.c.ended_at).where(where)
    )).all()
    moved: list[dict[str, Any]] = []
    announcements: list[tuple[SlaDeadlineSet, str]] = []
    for row in rows:
        left = max(0, row.budget_us) * MICROSECOND
        due = calendar.add_working_time(row.anchor_at, left)
        if due == row.due_at:
            continue
        moved.append({"timer_id": row.id, "new_due": due})
        if row.action == TimerAction.deadline and row.ended_at is None:
            announcements.append((SlaDeadlineSet(
                reference=row.reference, clock=ClockKind(row.clock), entity=row.entity,
                stage=SlaStage(row.stage), due_at=due,
            ), row.reference))
    if moved:
        await session.execute(
            update(timers).where(timers.c.id == bindparam("timer_id"))
            .values(due_at=bindparam("new_due")),
            moved,
        )
        await outbox.add_each(session, announcements)
    return len(moved)


async def _in_the_database(
    session: AsyncSession, calendar: WorkingCalendar, *,
    bounds: tuple[datetime, datetime] | None, now: datetime,
) -> int:
    span = await repository.open_timer_span(session, repository.open_timers(bounds))
    if span is None:
        return 0
    earliest_anchor, latest_anchor, largest_budget = span
    # Every due instant lies between the first anchor's day and where the latest anchor with
    # the largest budget ends (both grow with either), so these working days are all it needs.
    first = earliest_anchor.astimezone(AMMAN).date()
    last = calendar.add_working_time(
        latest_anchor, max(0, largest_budget) * MICROSECOND
    ).astimezone(AMMAN).date()
    await _write_working_days(session, calendar, first, last)

    # The same selection as `repository.open_timers(bounds)`, spelled for this statement.
    where = "t.state = 'pending'"
    parameters: dict[str, Any] = {
        "nominal": calendar.day_length // MICROSECOND, "now": now,
        "event_type": str(EventType.sla_deadline_set),
        "event_version": SlaDeadlineSet.event_version, "action": str(TimerAction.deadline),
    }
    if bounds is not None:
        where += (" AND t.anchor_at < CAST(:span_end AS timestamptz)"
                  " AND t.due_at > CAST(:span_start AS timestamptz)")
        parameters.update(span_start=bounds[0], span_end=bounds[1])
    moved = await session.execute(text(_MOVE.replace("{where}", where)), parameters)
    return int(moved.scalar_one())


# WorkingCalendar.add_working_time, set-based: the anchor's position (s, the first working day
# that closes after it; o, the working time already run that day on the normal day's scale),
# whole days and the rest (p), and the rest placed on the target day (e) at that day's length,
# rounded up to the microsecond. The moved deadlines are announced as the envelopes
# `shared.events` builds (tests/sla/test_recompute.py parses them back).
_MOVE = f"""
WITH k AS (
    SELECT CAST(:nominal AS bigint) AS n, CAST(:now AS timestamptz) AS now
), computed AS (
    SELECT t.id,
           CASE WHEN t.budget_us <= 0 THEN greatest(t.anchor_at, s.opens)
                ELSE e.opens + div(p.rest::numeric * e.length_us + k.n - 1, k.n)::bigint
                               * interval '1 microsecond'
           END AS due_at
    FROM timers AS t
    CROSS JOIN k
    CROSS JOIN LATERAL (
        SELECT w.ordinal, w.opens, w.length_us FROM {_WORKING_DAYS} AS w
        WHERE w.closes > t.anchor_at ORDER BY w.closes LIMIT 1
    ) AS s
    CROSS JOIN LATERAL (
        SELECT CASE WHEN t.anchor_at <= s.opens THEN 0
                    ELSE div(extract(epoch FROM t.anchor_at - s.opens) * 1000000 * k.n,
                             s.length_us)::bigint
               END AS offset_us
    ) AS o
    CROSS JOIN LATERAL (
        SELECT (o.offset_us + t.budget_us - 1) / k.n AS whole_days,
               (o.offset_us + t.budget_us - 1) % k.n + 1 AS rest
    ) AS p
    LEFT JOIN {_WORKING_DAYS} AS e ON e.ordinal = s.ordinal + p.whole_days
    WHERE {{where}}
), moved AS (
    UPDATE timers AS t SET due_at = c.due_at, updated_at = k.now
    FROM computed AS c CROSS JOIN k
    WHERE t.id = c.id AND c.due_at IS NOT NULL AND t.due_at IS DISTINCT FROM c.due_at
    RETURNING t.reference, t.clock, t.entity, t.stage, t.action, t.due_at, t.ended_at
), announced AS (
    SELECT gen_random_uuid() AS event_id, m.* FROM moved AS m
    WHERE m.action = CAST(:action AS text) AND m.ended_at IS NULL
), written AS (
    INSERT INTO outbox (event_id, event_type, correlation_id, body, created_at)
    SELECT a.event_id, CAST(:event_type AS text), a.reference,
           convert_to(json_build_object(
               'id', a.event_id, 'type', CAST(:event_type AS text),
               'version', CAST(:event_version AS integer), 'occurred_at', k.now,
               'producer', 'sla', 'correlation_id', a.reference,
               'payload', json_build_object(
                   'reference', a.reference, 'clock', a.clock, 'entity', a.entity,
                   'stage', a.stage, 'due_at', a.due_at)
           )::text, 'UTF8'),
           k.now
    FROM announced AS a CROSS JOIN k
)
SELECT count(*) FROM moved
"""


async def _write_working_days(
    session: AsyncSession, calendar: WorkingCalendar, first: date, last: date
) -> None:
    """The working days from `first` to `last` (a day either side), numbered in order."""
    await session.execute(text(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_WORKING_DAYS} ("
        "ordinal integer PRIMARY KEY, opens timestamptz NOT NULL, "
        "closes timestamptz NOT NULL UNIQUE, length_us bigint NOT NULL) ON COMMIT DROP"
    ))
    await session.execute(text(f"TRUNCATE {_WORKING_DAYS}"))
    rows: list[dict[str, Any]] = []
    day = first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        hours = calendar.official_hours_on(day)
        if hours is not None:
            opens, closes = hours
            rows.append({"ordinal": len(rows), "opens": opens, "closes": closes,
                         "length_us": (closes - opens) // MICROSECOND})
        day += timedelta(days=1)
    await session.execute(
        text(f"INSERT INTO {_WORKING_DAYS} (ordinal, opens, closes, length_us) "
             "VALUES (:ordinal, :opens, :closes, :length_us)"),
        rows,
    )
