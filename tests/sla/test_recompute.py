"""Open deadlines follow a changed calendar in one set-based pass, to the same microsecond as the
calendar itself says, on PostgreSQL (one statement) and on SQLite (the embedded mode).

The timers are spread over 2027–2028 so that their working time crosses Ramadan (shorter hours,
announced a day later than estimated), Eid and Independence Day, CMU holidays and weekends.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.sla.models import outbox as outbox_table
from services.sla.models import timers
from services.sla.recompute import move_open_deadlines
from shared.bus import Outbox
from shared.calendar import (
    CalendarPolicy,
    DayOverride,
    DayStatus,
    OfficialHours,
    RamadanPeriod,
    WorkingCalendar,
)
from shared.events.catalog import SlaDeadlineSet
from shared.events.envelope import decode_envelope, parse_payload
from tests.sla.conftest import migrated
from tests.sla.facts import amman

NOW = amman(2027, 1, 3, 9)
CALENDAR = WorkingCalendar(
    CalendarPolicy(ramadan_hours=OfficialHours(opens=time(9, 30), closes=time(14))),
    overrides=[
        DayOverride(day=date(2027, 3, 14), status=DayStatus.holiday),
        DayOverride(day=date(2027, 9, 12), status=DayStatus.holiday),
        DayOverride(day=date(2028, 5, 25), status=DayStatus.working_day),
    ],
    ramadan=[RamadanPeriod(first_day=date(2027, 2, 9), last_day=date(2027, 3, 9))],
)
DAY_US = CALENDAR.day_length // timedelta(microseconds=1)
STATES = ["pending"] * 8 + ["paused", "fired", "cancelled"]
ACTIONS = ["deadline", "escalation_1", "escalation_2"]


def timer_rows(count: int, seed: int = 5) -> list[dict[str, Any]]:
    chance = random.Random(seed)
    start = datetime(2027, 1, 3, tzinfo=UTC).timestamp()
    rows = []
    for n in range(count):
        anchor = datetime.fromtimestamp(
            start + chance.uniform(0, 700 * 86_400), UTC
        ) + timedelta(microseconds=chance.randrange(10**6))
        budget = chance.choice([
            chance.randrange(1, 40 * DAY_US),          # anywhere in a day
            chance.randrange(1, 12) * DAY_US,           # whole days
            chance.randrange(-DAY_US, 1),               # overdue after a policy change
        ])
        state = chance.choice(STATES)
        rows.append({
            "reference": f"BKH-{n:06d}", "key": f"entity:1:first_response:{ACTIONS[n % 3]}",
            "clock": "entity", "stage": "first_response", "action": ACTIONS[n % 3],
            "entity": "MOH-HOSP", "sector": "MOH", "policy_version": 1, "anchor_at": anchor,
            "budget_us": budget, "state": state,
            "due_at": None if state == "paused" else anchor - timedelta(days=1),
            "fired_at": anchor if state == "fired" else None, "updated_at": NOW,
        })
    return rows


def expected_due(row: dict[str, Any]) -> datetime:
    return CALENDAR.add_working_time(row["anchor_at"], max(0, row["budget_us"]) *
                                     timedelta(microseconds=1))


@pytest.fixture
async def postgres(postgres_url: str, pg_schema: str) -> AsyncIterator[AsyncEngine]:
    async with migrated(postgres_url, pg_schema) as engine:
        yield engine


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated(f"sqlite+aiosqlite:///{tmp_path}/sla.db", "sla") as engine:
        yield engine


@pytest.fixture(params=["postgres", "sqlite"])
async def either(request: pytest.FixtureRequest, postgres_url: str, pg_schema: str,
                 tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = postgres_url if request.param == "postgres" else f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with migrated(url, pg_schema) as engine:
        yield engine


async def recompute(
    engine: AsyncEngine, rows: list[dict[str, Any]], days: tuple[date, date] | None = None,
) -> tuple[int, dict[str, Any], list[bytes]]:
    """Store `rows`, move them under CALENDAR; (moved, timers by reference, outbox bodies)."""
    outbox = Outbox(outbox_table, producer="sla", clock=_At(NOW))
    async with engine.begin() as connection:
        await connection.execute(timers.insert(), rows)
    async with AsyncSession(engine) as session, session.begin():
        moved = await move_open_deadlines(session, CALENDAR, outbox=outbox, now=NOW, days=days)
    async with engine.connect() as connection:
        stored = {row.reference: row for row in await connection.execute(select(timers))}
        bodies = list((await connection.execute(select(outbox_table.c.body))).scalars())
    return moved, stored, bodies


class _At:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def test_postgresql_moves_every_pending_timer_as_the_calendar_says(
    postgres: AsyncEngine,
) -> None:
    rows = timer_rows(1500)
    moved, stored, bodies = await recompute(postgres, rows)
    pending = [row for row in rows if row["state"] == "pending"]
    assert moved == len(pending)
    for row in rows:
        timer = stored[row["reference"]]
        if row["state"] == "pending":
            assert timer.due_at == expected_due(row), (row["anchor_at"], row["budget_us"])
        else:
            assert timer.due_at == row["due_at"]  # paused, fired, cancelled: untouched

    # Each moved deadline is announced with an envelope the kernel reads like its own.
    deadlines = {row["reference"]: row for row in pending if row["action"] == "deadline"}
    assert len(bodies) == len(deadlines)
    for body in bodies:
        envelope = decode_envelope(body)
        payload = parse_payload(envelope)
        assert isinstance(payload, SlaDeadlineSet)
        assert (envelope.producer, envelope.correlation_id) == ("sla", payload.reference)
        assert envelope.occurred_at == NOW
        assert payload.due_at == stored[payload.reference].due_at
        assert (payload.clock, payload.entity, payload.stage) == (
            "entity", "MOH-HOSP", "first_response")
        del deadlines[payload.reference]
    assert deadlines == {}


async def test_sqlite_moves_them_to_the_same_instants(sqlite: AsyncEngine) -> None:
    rows = timer_rows(300)
    moved, stored, bodies = await recompute(sqlite, rows)
    assert moved == sum(1 for row in rows if row["state"] == "pending")
    for row in rows:
        if row["state"] == "pending":
            assert stored[row["reference"]].due_at == expected_due(row)
    assert len(bodies) == sum(1 for row in rows
                              if row["state"] == "pending" and row["action"] == "deadline")


async def test_only_timers_running_over_the_changed_days_move(either: AsyncEngine) -> None:
    engine = either
    rows = [row for row in timer_rows(400) if row["state"] == "pending"]
    # As if stored before: every due instant right under the calendar, except the change.
    for row in rows:
        row["due_at"] = expected_due(row)
    changed = date(2027, 9, 12)
    covering = {row["reference"] for row in rows
                if row["anchor_at"] < amman(2027, 9, 13) and row["due_at"] > amman(2027, 9, 12)}
    for row in rows:
        if row["reference"] in covering:
            row["due_at"] -= timedelta(hours=1)  # stale: the holiday was not counted yet
    moved, stored, _ = await recompute(engine, rows, days=(changed, changed))
    assert moved == len(covering) > 0
    for row in rows:
        assert stored[row["reference"]].due_at == expected_due(row)


async def test_a_deadline_whose_stage_ended_moves_but_is_not_announced_again(
    either: AsyncEngine,
) -> None:
    """It waits only to fire its breach: announcing it would show it as current again."""
    (deadline,) = timer_rows(1)  # stored before the holiday: due too early now
    running = {**deadline, "reference": "BKH-RUNNING", "state": "pending", "due_at": NOW,
               "ended_at": None}
    ended = {**running, "reference": "BKH-ENDED", "ended_at": NOW}
    moved, stored, bodies = await recompute(either, [running, ended])
    assert moved == 2
    assert stored["BKH-ENDED"].due_at == expected_due(ended)
    (body,) = bodies
    payload = parse_payload(decode_envelope(body))
    assert isinstance(payload, SlaDeadlineSet)
    assert payload.reference == "BKH-RUNNING"
