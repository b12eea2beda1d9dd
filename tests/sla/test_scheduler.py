"""The deadline scheduler on real PostgreSQL (and SQLite): exactly once across replicas, overdue
timers at once and oldest first, nothing on a stale due instant, awake when the clock moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.sla import service
from services.sla.models import outbox as outbox_table
from services.sla.models import rules_state, timers
from services.sla.scheduler import DeadlineScheduler
from shared.bus import Outbox
from shared.clock import SimulatedClock
from shared.db import create_sessionmaker
from shared.events.catalog import SlaBreached, SlaEscalated, SlaRulesChanged
from shared.events.envelope import decode_envelope, parse_payload
from tests.platform import eventually
from tests.sla.conftest import migrated
from tests.sla.facts import amman

START = amman(2027, 9, 5, 9)


@pytest.fixture
async def engine(postgres_url: str, pg_schema: str) -> AsyncIterator[AsyncEngine]:
    async with migrated(postgres_url, pg_schema) as engine:
        yield engine


def clock_at(at: datetime) -> SimulatedClock:
    clock = SimulatedClock()
    clock.set(at)
    return clock


def scheduler(engine: AsyncEngine, clock: SimulatedClock, **options: Any) -> DeadlineScheduler:
    return DeadlineScheduler(
        sessionmaker=create_sessionmaker(engine),
        outbox=Outbox(outbox_table, producer="sla", clock=clock), clock=clock, **options,
    )


async def add_timers(engine: AsyncEngine, dues: list[datetime], *, action: str = "deadline"
                     ) -> list[str]:
    references = [f"BKH-{uuid.uuid4().hex[:10]}" for _ in dues]
    async with engine.begin() as connection:
        await connection.execute(timers.insert(), [
            {"reference": ref, "key": f"entity:1:first_response:{action}", "clock": "entity",
             "stage": "first_response", "action": action, "entity": "MOH-HOSP",
             "sector": "MOH", "policy_version": 1, "anchor_at": due - timedelta(days=1),
             "budget_us": 7 * 3600 * 10**6, "due_at": due, "state": "pending",
             "updated_at": due}
            for ref, due in zip(references, dues, strict=True)
        ])
    return references


async def published(engine: AsyncEngine, *, rules: bool = False) -> list[Any]:
    """What the scheduler put in the outbox, in order (the rules' announcement if asked)."""
    async with engine.connect() as connection:
        bodies = (await connection.execute(
            select(outbox_table.c.body).order_by(outbox_table.c.id))).scalars()
        events = [parse_payload(decode_envelope(body)) for body in bodies]
    return [e for e in events if rules or not isinstance(e, SlaRulesChanged)]


async def count_fired(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(
            select(func.count()).select_from(timers).where(timers.c.state == "fired")
        )).scalar_one())


async def test_after_downtime_overdue_timers_fire_at_once_oldest_first(
    engine: AsyncEngine,
) -> None:
    clock = clock_at(START)
    dues = [START - timedelta(hours=h) for h in (1, 30, 5, 200, 2)] + [START + timedelta(days=1)]
    references = await add_timers(engine, dues)
    oldest_first = [ref for _, ref in sorted(zip(dues, references, strict=True))][:5]
    worker = scheduler(engine, clock, batch_size=2)
    breaches, lateness = _fired_metrics()
    assert [await worker.run_round() for _ in range(4)] == [2, 2, 1, 0]
    events = await published(engine)
    assert [e.reference for e in events] == oldest_first
    assert all(isinstance(e, SlaBreached) for e in events)
    assert [e.due_at for e in events] == sorted(dues)[:5]
    # ... and the metrics an operator's alerts read say so, lateness included (1 h to 200 h).
    assert _fired_metrics()[0] == breaches + 5
    assert _fired_metrics()[1] >= lateness + (1 + 2 + 5 + 30 + 200) * 3600


def _fired_metrics() -> tuple[float, float]:
    """(breaches fired, total lateness in seconds) as Prometheus reports them in this process."""
    breaches = REGISTRY.get_sample_value(
        "bkh_sla_timers_fired_total", {"event": "sla.breached", "level": ""}) or 0.0
    lateness = REGISTRY.get_sample_value("bkh_sla_firing_lateness_seconds_sum") or 0.0
    return breaches, lateness


async def test_two_replicas_fire_every_timer_exactly_once(
    postgres_url: str, pg_schema: str, engine: AsyncEngine
) -> None:
    clock = clock_at(START)
    references = await add_timers(
        engine, [START - timedelta(seconds=n) for n in range(2000)])
    async with migrated(postgres_url, pg_schema) as other_engine:
        replicas = [scheduler(engine, clock, batch_size=100),
                    scheduler(other_engine, clock, batch_size=100)]

        async def drain(replica: DeadlineScheduler) -> int:
            total = 0
            while fired := await replica.run_round():
                total += fired
            return total

        shares = await asyncio.gather(*(drain(r) for r in replicas))
    assert sum(shares) == 2000
    assert min(shares) > 0, f"one replica did all the work: {shares}"
    fired = [e.reference for e in await published(engine)]
    assert sorted(fired) == sorted(references)
    assert await count_fired(engine) == 2000


async def test_a_round_that_does_not_commit_fires_nothing(engine: AsyncEngine) -> None:
    clock = clock_at(START)
    await add_timers(engine, [START - timedelta(minutes=1)])
    worker = scheduler(engine, clock)

    async def fire_then_crash() -> None:
        async with worker.sessionmaker.begin() as session:
            assert await service.fire_due(session, outbox=worker.outbox, now=clock.now(),
                                          limit=10) == 1
            raise RuntimeError("crash before the commit")

    with pytest.raises(RuntimeError, match="crash"):
        await fire_then_crash()
    assert await published(engine) == []
    assert await worker.run_round() == 1
    assert len(await published(engine)) == 1


async def test_nothing_fires_while_open_deadlines_lag_a_change_of_the_rules(
    engine: AsyncEngine,
) -> None:
    clock = clock_at(START)
    await add_timers(engine, [START - timedelta(minutes=1)])
    async with engine.begin() as connection:
        await connection.execute(update(rules_state).values(revision=2, recomputed_revision=1))
    async with AsyncSession(engine) as session, session.begin():
        fired = await service.fire_due(session, outbox=Outbox(outbox_table, producer="sla",
                                                              clock=clock),
                                       now=clock.now(), limit=10)
    assert fired is None
    assert await count_fired(engine) == 0


async def test_moving_the_simulated_clock_wakes_the_scheduler(engine: AsyncEngine) -> None:
    clock = clock_at(START)
    await add_timers(engine, [START + timedelta(days=1)], action="escalation_1")
    worker = scheduler(engine, clock, poll_interval_s=60)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(_announced(engine))  # the first round announces the rules
        clock.advance(timedelta(days=1))

        async def fired() -> None:
            assert await count_fired(engine) == 1

        await eventually(fired, timeout_s=5)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    (escalated,) = [e for e in await published(engine) if isinstance(e, SlaEscalated)]
    assert escalated.level == 1
    assert escalated.recipient_ids == []  # nobody holds the role in this empty directory


async def test_the_embedded_mode_fires_on_sqlite(tmp_path: Path) -> None:
    async with migrated(f"sqlite+aiosqlite:///{tmp_path}/sla.db", "sla") as sqlite:
        clock = clock_at(START)
        await add_timers(sqlite, [START - timedelta(hours=h) for h in (3, 1, 2)])
        worker = scheduler(sqlite, clock)
        assert await worker.run_round() == 3
        assert await worker.run_round() == 0
        events = await published(sqlite, rules=True)
        assert [type(e).__name__ for e in events] == ["SlaRulesChanged"] + ["SlaBreached"] * 3
        assert [e.due_at for e in events[1:]] == sorted(e.due_at for e in events[1:])


def _announced(engine: AsyncEngine) -> Any:
    async def check() -> None:
        async with engine.connect() as connection:
            state = (await connection.execute(select(rules_state))).one()
        assert state.announced_revision == 1

    return check
