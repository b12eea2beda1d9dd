"""outbox_pipeline: events through the transactional outbox → RabbitMQ → consumer with inbox.

The bench process plays the services' request handlers: each transaction writes its events into
the outbox. A worker process (`bench/apps/outbox_worker.py`) plays a service worker: the relay
claims rows (`FOR UPDATE SKIP LOCKED`), publishes them with pipelined confirms and deletes them;
the consumer applies them in batches with the inbox. Lag is measured per event from its
`occurred_at` (written in the producing transaction) to the consumer's handler.

- closed loop: producers write as fast as they can (transactions of 50 events) for a window;
  the figure is the rate the consumer applied events in that window (what the pipeline sustains),
  compared with bare aiormq's throughput;
- open loop: 500 events per second (100 transactions of 5, so that the producing side's own
  CPU does not crowd the 2-core machine), the figure is the lag p50/p99.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.apps.outbox_worker import effects, metadata, outbox
from bench.fixtures import scratch_schema
from bench.harness import (
    REPO_ROOT,
    BenchContext,
    CpuMeter,
    Figures,
    LatencySummary,
    Result,
    open_loop,
    stop_process,
)
from bench.scenarios import scenario
from shared.bus import Outbox, RetryPolicy
from shared.bus.rabbitmq import delete_declared
from shared.clock import SystemClock
from shared.db import create_engine, create_sessionmaker
from shared.events.catalog import NotificationSent

DESCRIPTION = ("Events written in producing transactions into the outbox, relayed to RabbitMQ "
               "with confirms by a worker process, consumed in batches with the inbox.")
TRANSACTION_EVENTS = 50
OPEN_LOOP_RATE = 500.0
OPEN_LOOP_EVENTS_PER_TRANSACTION = 5
IN_FLIGHT = 2_000

# What the scenario hands its two loops, all on the producer's database:
Produce = Callable[[int], Awaitable[None]]  # one transaction of that many events
EffectsBetween = Callable[[float, float], Awaitable[list[float]]]  # lags (ms) consumed then
TotalEffects = Callable[[], Awaitable[int]]  # events applied so far
Drained = Callable[[int, float], Awaitable[float]]  # seconds until that many, at most the limit


def _event() -> NotificationSent:
    return NotificationSent(notification_id=uuid.uuid4(), source_event_id=uuid.uuid4(),
                            channel="sms", template="bench.event", status="accepted", attempts=1)


@asynccontextmanager
async def _worker(ctx: BenchContext, url: str, schema: str, namespace: str,
                  chain: str = "off") -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.apps.outbox_worker", url, schema, ctx.amqp_url, namespace,
        chain, cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise RuntimeError(f"outbox worker did not start: {line!r}")
    try:
        yield proc
    finally:
        await stop_process(proc, grace_s=30)
        await _delete_queues(ctx, namespace)


async def _delete_queues(ctx: BenchContext, namespace: str) -> None:
    await delete_declared(ctx.amqp_url, namespace, [f"{namespace}.bench.pipeline"],
                          retry_delays_ms=RetryPolicy().delays_ms)


@scenario("outbox_pipeline", baseline="bare_amqp", description=DESCRIPTION)
async def outbox_pipeline(ctx: BenchContext) -> list[Result]:
    url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    async with scratch_schema(ctx, "bench_outbox", create=True) as schema:
        engine = create_engine(url, schema=schema, application_name="bkh-bench-producer",
                               pool_size=8)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        sessionmaker = create_sessionmaker(engine)
        producer = Outbox(outbox, producer="bench", clock=SystemClock())

        async def produce(count: int) -> None:
            async with sessionmaker.begin() as session:
                await producer.add_many(session, [_event() for _ in range(count)])

        async def effects_between(start: float, end: float) -> list[float]:
            async with sessionmaker() as session:
                rows = await session.execute(select(effects.c.lag_ms).where(
                    effects.c.consumed_at >= start, effects.c.consumed_at < end))
                return [row.lag_ms for row in rows]

        async def total_effects() -> int:
            async with sessionmaker() as session:
                return int((await session.execute(
                    select(func.count()).select_from(effects))).scalar_one())

        async def drained(expected: int, limit_s: float) -> float:
            started = time.monotonic()
            while time.monotonic() - started < limit_s:  # noqa: ASYNC110 - polling the database
                if await total_effects() >= expected:
                    break
                await asyncio.sleep(0.05)
            return time.monotonic() - started

        try:
            async with _worker(ctx, url, schema, namespace) as worker:
                ctx.log("  warm-up")
                for _ in range(ctx.pick(20, 5)):
                    await produce(TRANSACTION_EVENTS)
                await drained(ctx.pick(20, 5) * TRANSACTION_EVENTS, 30)
                closed = await _closed_loop(ctx, produce, effects_between, total_effects,
                                            drained, worker.pid)
                open_ = await _open_loop(ctx, produce, effects_between, total_effects, drained)
        finally:
            await engine.dispose()
    return [closed, open_]


async def _closed_loop(ctx: BenchContext, produce: Produce, effects_between: EffectsBetween,
                       total_effects: TotalEffects, drained: Drained,
                       worker_pid: int) -> Result:
    window_s = ctx.pick(20.0, 6.0)
    concurrency = 4
    before = await total_effects()
    produced = 0
    applied = before
    meter = CpuMeter({"producer": os.getpid(), "relay+consumer": worker_pid}).start()
    start_wall = time.time()
    deadline = time.monotonic() + window_s

    async def watch_applied() -> None:
        nonlocal applied
        while time.monotonic() < deadline:
            applied = await total_effects()
            await asyncio.sleep(0.02)

    async def writer() -> None:
        # Closed over the whole pipeline: a producer waits while IN_FLIGHT events are not yet
        # applied, so the rate measured is what relay + broker + consumer sustain, not how
        # fast the producers can fill a table.
        nonlocal produced
        while time.monotonic() < deadline:
            if before + produced - applied >= IN_FLIGHT:
                await asyncio.sleep(0.005)
                continue
            await produce(TRANSACTION_EVENTS)
            produced += TRANSACTION_EVENTS

    ctx.log(f"  closed loop: {concurrency} producers × {TRANSACTION_EVENTS}-event "
            f"transactions, at most {IN_FLIGHT} events in flight, for {window_s:.0f} s")
    await asyncio.gather(watch_applied(), *(writer() for _ in range(concurrency)))
    end_wall = time.time()
    cpu = meter.stop()
    drain_s = await drained(before + produced, 120)
    # The first second is the pipeline filling up; the rate is what it applied after that.
    lags = await effects_between(start_wall + 1, end_wall)
    span = end_wall - start_wall - 1
    latency = LatencySummary.of(v / 1000 for v in lags)
    backlog_events = before + produced - await total_effects()
    figures = Figures(throughput_per_s=len(lags) / span, count=len(lags), errors=backlog_events,
                      duration_s=span, p50_ms=latency.p50_ms, p90_ms=latency.p90_ms,
                      p99_ms=latency.p99_ms, max_ms=latency.max_ms)
    return Result(
        name="outbox_pipeline", description=DESCRIPTION, mode="closed-loop", figures=figures,
        params={"producers": concurrency, "events_per_transaction": TRANSACTION_EVENTS,
                "max_in_flight": IN_FLIGHT, "window_s": window_s,
                "event_bytes": "≈450 (JSON envelope)"},
        extra={"produced_per_s": round(produced / (end_wall - start_wall), 1),
               "drain_after_window_s": round(drain_s, 2), "cpu": cpu},
        notes=["throughput = events the consumer applied per second during the window; "
               "latency = lag from the producing transaction to the handler",
               "errors = events not applied after the drain limit (lost or stuck)"])


async def _open_loop(ctx: BenchContext, produce: Produce, effects_between: EffectsBetween,
                     total_effects: TotalEffects, drained: Drained) -> Result:
    duration_s = ctx.pick(20.0, 6.0)
    before = await total_effects()
    per_transaction = OPEN_LOOP_EVENTS_PER_TRANSACTION
    ctx.log(f"  open loop: {OPEN_LOOP_RATE:.0f} events/s in {per_transaction}-event "
            f"transactions for {duration_s:.0f} s")
    start_wall = time.time()
    stats = await open_loop(lambda: produce(per_transaction),
                            OPEN_LOOP_RATE / per_transaction, duration_s)
    end_wall = time.time()
    await drained(before + stats.completed * per_transaction, 60)
    lags = await effects_between(start_wall, end_wall + 60)
    latency = LatencySummary.of(v / 1000 for v in lags)
    figures = Figures(
        throughput_per_s=len(lags) / (end_wall - start_wall), count=len(lags),
        errors=stats.completed * per_transaction - len(lags) + stats.errors,
        duration_s=end_wall - start_wall,
        p50_ms=latency.p50_ms, p90_ms=latency.p90_ms, p99_ms=latency.p99_ms,
        max_ms=latency.max_ms, target_rate_per_s=OPEN_LOOP_RATE,
        achieved_rate_per_s=stats.achieved_rate_per_s * per_transaction,
        late_sends=stats.late_sends)
    return Result(
        name="outbox_pipeline_lag", description=DESCRIPTION, mode="open-loop", figures=figures,
        params={"rate_per_s": OPEN_LOOP_RATE, "events_per_transaction": per_transaction},
        extra={"producer_commit_ms": {"p50": stats.latency.p50_ms,
                                      "p99": stats.latency.p99_ms}},
        notes=["latency = lag from the producing transaction's clock reading to the consumer's "
               "handler; the limit is p99 ≤ 250 ms at 500 events/s"])


CHAIN_RATE = 100.0
CHAIN_DESCRIPTION = ("An event a consumer causes (as routing's `request.assigned` after "
                     "`request.submitted`), from its cause's handler to its own handler: "
                     "written through the handler's `event.outbox`, which wakes the "
                     "relay at commit, against an outbox without the wake-up (consumers before "
                     "issue 19), which waits for the relay's poll (0.5 s, the services' default).")


@scenario("outbox_chain", description=CHAIN_DESCRIPTION)
async def outbox_chain(ctx: BenchContext) -> list[Result]:
    """Interleaved pairs (poll, then wake), each its own worker process at 100 events/s."""
    url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    pairs, duration_s = ctx.pick(5, 2), ctx.pick(10.0, 4.0)
    p99s: dict[str, list[float]] = {"poll": [], "wake": []}
    lags_of: dict[str, list[float]] = {"poll": [], "wake": []}
    for pair in range(pairs):
        for chain in ("poll", "wake"):
            namespace = f"bench-{uuid.uuid4().hex[:8]}"
            async with scratch_schema(ctx, "bench_chain", create=True) as schema:
                engine = create_engine(url, schema=schema, application_name="bkh-bench-chain",
                                       pool_size=4)
                try:
                    async with engine.begin() as connection:
                        await connection.run_sync(metadata.create_all)
                    sessionmaker = create_sessionmaker(engine)
                    producer = Outbox(outbox, producer="bench", clock=SystemClock())

                    async def produce(
                        session_maker: async_sessionmaker[AsyncSession] = sessionmaker,
                        out: Outbox = producer,
                    ) -> None:
                        async with session_maker.begin() as session:
                            await out.add(session, _event())

                    async with _worker(ctx, url, schema, namespace, chain):
                        ctx.log(f"  pair {pair + 1}/{pairs}: {chain}, {CHAIN_RATE:.0f}/s, "
                                f"{duration_s:.0f} s")
                        stats = await open_loop(produce, CHAIN_RATE, duration_s)
                        expected = stats.completed
                        deadline = time.monotonic() + 30
                        while time.monotonic() < deadline:  # noqa: ASYNC110 - polling the db
                            async with sessionmaker() as session:
                                done = int((await session.execute(
                                    select(func.count()).select_from(effects)
                                    .where(effects.c.hop == 2))).scalar_one())
                            if done >= expected:
                                break
                            await asyncio.sleep(0.1)
                        # The hop: from the cause's handler to the caused event's handler.
                        cause = effects.alias("cause")
                        async with sessionmaker() as session:
                            lags = [row.hop_ms for row in await session.execute(
                                select(((effects.c.consumed_at - cause.c.consumed_at) * 1000)
                                       .label("hop_ms"))
                                .join(cause, cause.c.event_id == effects.c.cause)
                                .where(effects.c.hop == 2))]
                finally:
                    await engine.dispose()
            summary = LatencySummary.of(v / 1000 for v in lags)
            assert summary.p99_ms is not None, f"no caused event arrived ({chain})"
            p99s[chain].append(round(summary.p99_ms, 1))
            lags_of[chain] += lags
    results = []
    for chain in ("poll", "wake"):
        latency = LatencySummary.of(v / 1000 for v in lags_of[chain])
        median_p99 = statistics.median(p99s[chain])
        results.append(Result(
            name=f"outbox_chain.{chain}", description=CHAIN_DESCRIPTION, mode="open-loop",
            figures=Figures(
                throughput_per_s=CHAIN_RATE, count=len(lags_of[chain]), errors=0,
                duration_s=duration_s * pairs, p50_ms=latency.p50_ms, p90_ms=latency.p90_ms,
                p99_ms=median_p99, max_ms=latency.max_ms, target_rate_per_s=CHAIN_RATE),
            params={"rate_per_s": CHAIN_RATE, "pairs": pairs, "window_s": duration_s,
                    "relay_poll_s": 0.5},
            extra={"p99_ms_per_pair": p99s[chain]},
            notes=[f"p99 = the median of the {pairs} pairs' p99 (spread "
                   f"{min(p99s[chain])}–{max(p99s[chain])} ms); p50/p90/max over all pairs",
                   "latency = from the cause's handler to the caused event's handler (the "
                   "cause's transaction commits, the relay publishes, the consumer applies)"]))
    wake, poll = (statistics.median(p99s[c]) for c in ("wake", "poll"))
    results[1].baseline = results[0].name
    results[1].notes.append(f"caused events' p99 with the wake-up ÷ without: "
                            f"{wake / poll:.2f} (median pairs)")
    return results
