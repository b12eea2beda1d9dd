"""sla_timers: SLA's durable timers on PostgreSQL with a million of them open.

SLA's schema is migrated into a scratch schema and filled with 1,000,000 open timers (quick:
100,000) due weeks ahead, as a real day would leave them. Then:

- poll: the scheduler's claim query (the very statement, compiled from the repository), idle,
  timed with 10,000 and with 1,000,000 timers open; its plan (EXPLAIN ANALYZE, BUFFERS) with a
  batch due, in the notes: it reads the head of the partial index only;
- lateness: a scheduler process (`DeadlineScheduler`, SystemClock, one replica, batches of 500)
  fires 4,000 timers due 200 a second; lateness = the instant its event entered the outbox
  minus the timer's due instant (limit: p99 ≤ 1 s);
- burst: 20,000 timers due in the same instant (the end of a working day); drained = the last
  event's instant minus that instant (limit: ≤ 20 s); compared with pgbench claiming the same way;
- recompute: the CMU declares tomorrow a holiday and the open deadlines catch up
  (`service.catch_up`: one set-based statement that also writes the `sla.deadline_set` of each
  moved deadline into the outbox); every one of the million is moved (limit: ≤ 2 min); a sample
  is checked against `WorkingCalendar`.

The scheduler process is this module: `python -m bench.scenarios.sla_timers scheduler URL SCHEMA`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy.engine import make_url

from bench.harness import (
    REPO_ROOT,
    BenchContext,
    CpuMeter,
    Figures,
    LatencySummary,
    Result,
    plain_postgres_dsn,
    stop_process,
)
from bench.scenarios import scenario
from services.sla import repository, service
from services.sla.main import DEFINITION
from services.sla.models import outbox as outbox_table
from services.sla.scheduler import DeadlineScheduler
from shared.bus import Outbox
from shared.calendar import AMMAN
from shared.clock import SystemClock
from shared.db import create_engine, create_sessionmaker
from shared.runtime import migrate_to_head

DESCRIPTION = ("SLA's durable timers on PostgreSQL with 1,000,000 open: the poll query, firing "
               "lateness at 200 due/s, a burst of 20,000 due at once, and the set-based "
               "recompute of every open deadline after a holiday is declared.")
DAY_US = 7 * 3600 * 10**6
ACTIONS = ("deadline", "escalation_1", "escalation_2")
LATENESS_RATE = 200.0


def _url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@scenario("sla_timers", baseline="sla_pgbench_claim", description=DESCRIPTION)
async def sla_timers(ctx: BenchContext) -> list[Result]:
    open_timers = ctx.pick(1_000_000, 100_000)
    schema = f"bench_sla_{uuid.uuid4().hex[:8]}"
    settings = DEFINITION.load_settings(environment="test", database_url=_url(ctx.postgres_dsn),
                                        database_schema=schema)
    connection = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
    try:
        await migrate_to_head(DEFINITION, settings)
        await connection.execute(f'SET search_path TO "{schema}"')
        t0 = SystemClock().now()
        await _directory(connection, t0)
        ctx.log("  10,000 open timers")
        await _open_timers(connection, t0, first=1, count=10_000)
        await connection.execute("VACUUM ANALYZE timers")
        small = await _poll_latencies(connection, t0)
        small_plan = await _plan(connection, t0)
        ctx.log(f"  {open_timers:,} open timers")
        await _open_timers(connection, t0, first=10_001, count=open_timers - 10_000)
        await connection.execute("VACUUM ANALYZE timers")
        large = await _poll_latencies(connection, t0)
        large_plan = await _plan(connection, t0)
        results = [
            _poll_result("sla_poll_10k_open", small, 10_000, small_plan, baseline=""),
            _poll_result(f"sla_poll_{open_timers // 1000}k_open", large, open_timers,
                         large_plan, baseline="sla_poll_10k_open"),
        ]

        async with _scheduler(ctx, settings.database_url, schema) as pid:
            results.append(await _lateness(ctx, connection, pid))
            burst, plan = await _burst(ctx, connection, pid)
            results.append(burst)
        results[1].notes.append("plan of the claim with a batch due, 1,000,000 open:\n"
                                + plan)
        results.append(await _recompute(ctx, connection, settings.database_url, schema,
                                        open_timers))
        return results
    finally:
        await connection.execute("RESET search_path")
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


# --- the data ------------------------------------------------------------------------------------


async def _directory(connection: asyncpg.Connection, t0: datetime) -> None:
    await connection.executemany(
        "INSERT INTO directory_roles (person_id, role, scope, granted, changed_at) "
        "VALUES ($1, $2, $3, true, $4)",
        [(uuid.uuid4(), "entity_head", "MOH-HOSP", t0), (uuid.uuid4(), "minister", "MOH", t0),
         (uuid.uuid4(), "cmu_staff", "*", t0)])


async def _open_timers(connection: asyncpg.Connection, t0: datetime, *, first: int,
                       count: int) -> None:
    """Timers running since the last three days, 5 to 14 working days to go."""
    await connection.execute(
        """INSERT INTO timers (reference, key, clock, stage, action, entity, sector,
                               policy_version, anchor_at, budget_us, due_at, state, updated_at)
           SELECT 'BKH-O' || g, 'entity:1:first_response:' || a.action, 'entity',
                  'first_response', a.action, 'MOH-HOSP', 'MOH', 1,
                  $1::timestamptz - (g % 259200) * interval '1 second',
                  (5 + g % 10) * $2::bigint,
                  $1::timestamptz + interval '20 days' + (g % 864000) * interval '1 second',
                  'pending', $1::timestamptz
           FROM generate_series($3::bigint, $4::bigint) AS g
           CROSS JOIN LATERAL (SELECT ($5::text[])[g % 3 + 1] AS action) AS a""",
        t0, DAY_US, first, first + count - 1, list(ACTIONS))


async def _due_timers(connection: asyncpg.Connection, prefix: str,
                      dues: list[datetime]) -> None:
    await connection.copy_records_to_table("timers", columns=[
        "reference", "key", "clock", "stage", "action", "entity", "sector", "policy_version",
        "anchor_at", "budget_us", "due_at", "state", "updated_at"], records=[
        (f"{prefix}{n}", f"entity:1:first_response:{ACTIONS[n % 3]}", "entity",
         "first_response", ACTIONS[n % 3], "MOH-HOSP", "MOH", 1, due - timedelta(days=1),
         DAY_US, due, "pending", due - timedelta(days=1))
        for n, due in enumerate(dues)])


def _claim_sql(limit: int) -> str:
    statement = repository.claim_query(datetime.now(AMMAN), limit)
    # The asyncpg dialect found by its URL name, as create_engine finds it (its class is untyped).
    dialect = make_url("postgresql+asyncpg://").get_dialect()()
    return str(statement.compile(dialect=dialect))


# --- poll ----------------------------------------------------------------------------------------


async def _poll_latencies(connection: asyncpg.Connection, t0: datetime) -> list[float]:
    sql = _claim_sql(500)
    latencies = []
    for _ in range(300):
        started = time.perf_counter()
        async with connection.transaction():
            await connection.fetch(sql, t0, 500)
        latencies.append(time.perf_counter() - started)
    return latencies[50:]  # the first ones prepare and warm up


async def _plan(connection: asyncpg.Connection, now: datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim at `now`, in a transaction undone afterwards
    (the claim locks what it returns)."""
    undone = connection.transaction()
    await undone.start()
    try:
        rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
                                      + _claim_sql(500), now, 500)
    finally:
        await undone.rollback()
    return "\n".join(row[0] for row in rows)


def _buffers(plan: str) -> int:
    """Shared buffers the execution touched (the top node's count)."""
    for line in plan.splitlines():
        if "Buffers:" in line and "Planning" not in line:
            return sum(int(part.split("=")[1]) for part in line.split(":")[1].split()
                       if "=" in part)
    return 0


def _poll_result(name: str, latencies: list[float], open_timers: int, plan: str, *,
                 baseline: str) -> Result:
    summary = LatencySummary.of(latencies)
    figures = Figures(throughput_per_s=len(latencies) / sum(latencies), count=len(latencies),
                      errors=0, duration_s=sum(latencies), p50_ms=summary.p50_ms,
                      p90_ms=summary.p90_ms, p99_ms=summary.p99_ms, max_ms=summary.max_ms)
    return Result(
        name=name, description="The scheduler's claim query when nothing is due (its idle "
        "poll), one at a time, in its own transaction.", mode="closed-loop", figures=figures,
        params={"open_timers": open_timers}, baseline=baseline or "",
        compare_on="p50_ms" if baseline else None,
        extra={"buffers_touched": _buffers(plan)},
        notes=[f"plan of the idle claim, {open_timers:,} open:\n{plan}"] + (
            ["ratio = median latency with this many open / with 10,000 open; the buffers "
             "touched say the same without the noise of a shared machine"] if baseline else []))


# --- the scheduler process -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _scheduler(ctx: BenchContext, url: str, schema: str) -> AsyncIterator[int]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.scenarios.sla_timers", "scheduler", url, schema,
        cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if line.strip() != b"ready":
        process.kill()
        raise RuntimeError(f"the scheduler process did not start: {line!r}")
    try:
        yield process.pid
    finally:
        await stop_process(process, grace_s=30)


async def _scheduler_main(url: str, schema: str) -> None:
    engine = create_engine(url, schema=schema, application_name="bkh-bench-sla-scheduler",
                           pool_size=2)
    clock = SystemClock()
    scheduler = DeadlineScheduler(
        sessionmaker=create_sessionmaker(engine),
        outbox=Outbox(outbox_table, producer="sla", clock=clock), clock=clock,
        batch_size=500, poll_interval_s=0.5)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    running = asyncio.create_task(scheduler.run())
    print("ready", flush=True)
    await stop.wait()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await engine.dispose()


async def _fired(connection: asyncpg.Connection, prefix: str) -> list[tuple[datetime, datetime]]:
    """(due, instant its event entered the outbox) of the fired timers named `prefix…`."""
    rows = await connection.fetch(
        "SELECT t.due_at, o.created_at FROM timers t JOIN outbox o "
        "ON o.correlation_id = t.reference AND o.event_type <> 'sla.deadline_set' "
        "WHERE t.reference LIKE $1 AND t.state = 'fired'", prefix + "%")
    return [(row["due_at"], row["created_at"]) for row in rows]


async def _until_fired(connection: asyncpg.Connection, prefix: str, count: int,
                       limit_s: float) -> list[tuple[datetime, datetime]]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        fired = await connection.fetchval(
            "SELECT count(*) FROM timers WHERE reference LIKE $1 AND state = 'fired'",
            prefix + "%")
        if fired >= count:
            break
        await asyncio.sleep(0.2)
    return await _fired(connection, prefix)


async def _lateness(ctx: BenchContext, connection: asyncpg.Connection, pid: int) -> Result:
    count = ctx.pick(4_000, 1_000)
    start = datetime.now(AMMAN) + timedelta(seconds=3)
    dues = [start + timedelta(seconds=n / LATENESS_RATE) for n in range(count)]
    await _due_timers(connection, "BKH-L", dues)
    window = count / LATENESS_RATE
    ctx.log(f"  lateness: {count:,} timers due {LATENESS_RATE:g}/s over {window:.0f} s")
    meter = CpuMeter({"scheduler": pid}).start()
    fired = await _until_fired(connection, "BKH-L", count, window + 30)
    cpu = meter.stop()
    late = [(made - due).total_seconds() for due, made in fired]
    summary = LatencySummary.of(late)
    figures = Figures(throughput_per_s=len(fired) / window, count=len(fired),
                      errors=count - len(fired), duration_s=window, p50_ms=summary.p50_ms,
                      p90_ms=summary.p90_ms, p99_ms=summary.p99_ms, max_ms=summary.max_ms,
                      target_rate_per_s=LATENESS_RATE,
                      achieved_rate_per_s=len(fired) / window, late_sends=0)
    return Result(
        name="sla_firing_lateness", description="Timers due at 200/s, 1,000,000 others open, "
        "fired by one scheduler process.", mode="open-loop", figures=figures,
        params={"due_per_s": LATENESS_RATE, "batch": 500, "replicas": 1},
        extra={"cpu": cpu},
        notes=["latency = lateness: the instant the timer's event entered the outbox minus its "
               "due instant; the limit is p99 ≤ 1 s", "errors = timers not fired"])


async def _burst(ctx: BenchContext, connection: asyncpg.Connection, pid: int
                 ) -> tuple[Result, str]:
    count = ctx.pick(20_000, 5_000)
    due = datetime.now(AMMAN) + timedelta(seconds=8)
    await _due_timers(connection, "BKH-X", [due] * count)
    await connection.execute("ANALYZE timers")
    plan = await _plan(connection, due)  # what the claim does when a batch is due
    ctx.log(f"  burst: {count:,} timers due at once")
    meter = CpuMeter({"scheduler": pid}).start()
    fired = await _until_fired(connection, "BKH-X", count,
                               (due - datetime.now(AMMAN)).total_seconds() + 120)
    cpu = meter.stop()
    drained = max((made for _, made in fired), default=due) - due
    late = [(made - d).total_seconds() for d, made in fired]
    summary = LatencySummary.of(late)
    seconds = max(drained.total_seconds(), 1e-6)
    figures = Figures(throughput_per_s=len(fired) / seconds, count=len(fired),
                      errors=count - len(fired), duration_s=seconds, p50_ms=summary.p50_ms,
                      p90_ms=summary.p90_ms, p99_ms=summary.p99_ms, max_ms=summary.max_ms)
    return Result(
        name="sla_end_of_day_burst", description="Timers due in the same instant, 1,000,000 "
        "others open, drained by one scheduler process (batches of 500: claim, events into the "
        "outbox, marked fired).", mode="closed-loop", figures=figures,
        params={"due_at_once": count, "batch": 500, "replicas": 1},
        extra={"drained_s": round(seconds, 2), "cpu": cpu},
        notes=["throughput = timers fired per second until the last; duration = drained "
               "(limit ≤ 20 s); latency = each timer's lateness",
               "ratio: against pgbench's bare claim-and-update, which writes no events"],
    ), plan


# --- recompute -----------------------------------------------------------------------------------


async def _recompute(ctx: BenchContext, connection: asyncpg.Connection, url: str, schema: str,
                     open_timers: int) -> Result:
    engine = create_engine(url, schema=schema, application_name="bkh-bench-sla", pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    clock = SystemClock()
    outbox = Outbox(outbox_table, producer="sla", clock=clock)
    try:
        async with sessionmaker.begin() as session:
            calendar = (await service.load_rules(session, 1)).calendar
            tomorrow = clock.now().astimezone(AMMAN).date() + timedelta(days=1)
            while not calendar.is_working_day(tomorrow):
                tomorrow += timedelta(days=1)
            await service.add_holiday(session, outbox=outbox, clock=clock, day=tomorrow,
                                      name_ar="عطلة", name_en="Day off", by=None)
        before = await connection.fetchval("SELECT count(*) FROM outbox")
        ctx.log(f"  recompute: {tomorrow} declared a holiday; open deadlines catch up")
        meter = CpuMeter({}).start()
        started = time.perf_counter()
        async with sessionmaker.begin() as session:
            revision = await service.catch_up(session, outbox=outbox, now=clock.now())
        seconds = time.perf_counter() - started
        cpu = meter.stop()
        async with sessionmaker() as session:
            rules = await service.load_rules(session, 2)
        moved = await connection.fetchval(
            "SELECT count(*) FROM timers WHERE reference LIKE 'BKH-O%' AND updated_at > $1",
            datetime.now(AMMAN) - timedelta(seconds=seconds + 5))
        announced = await connection.fetchval("SELECT count(*) FROM outbox") - before
        sample = await connection.fetch(
            "SELECT anchor_at, budget_us, due_at FROM timers WHERE reference = ANY($1::text[])",
            [f"BKH-O{random.randint(1, open_timers)}" for _ in range(200)])
        wrong = sum(1 for row in sample if row["due_at"] != rules.calendar.add_working_time(
            row["anchor_at"], timedelta(microseconds=row["budget_us"])))
    finally:
        await engine.dispose()
    figures = Figures(throughput_per_s=moved / seconds, count=moved, errors=wrong + (
        0 if revision == 2 else 1), duration_s=seconds, p50_ms=None, p90_ms=None, p99_ms=None,
        max_ms=seconds * 1000)
    return Result(
        name="sla_holiday_recompute", description="A holiday declared for tomorrow: every open "
        "deadline running over it moves in one set-based statement, and each moved deadline's "
        "sla.deadline_set is written to the outbox in the same statement.", mode="closed-loop",
        figures=figures, params={"open_timers": open_timers},
        extra={"announced": announced, "sample_checked": len(sample), "cpu": cpu},
        notes=["throughput = deadlines moved per second; duration = the whole transaction "
               "(limit ≤ 120 s); errors = sampled due instants that differ from "
               "WorkingCalendar.add_working_time",
               "ratio: against pgbench's claim-and-update rows per second"])


if __name__ == "__main__" and sys.argv[1:2] == ["scheduler"]:
    try:
        import uvloop

        uvloop.run(_scheduler_main(*sys.argv[2:4]))
    except ImportError:
        asyncio.run(_scheduler_main(*sys.argv[2:4]))
