"""analytics: indicator queries at national scale while submissions flow (issue 8's targets).

With the prepared dataset (10,000,000 requests; 200,000 with --quick; see
`bench/scenarios/analytics_dataset.py`, made here when missing) analytics runs as it is deployed:
an API process (uvicorn, `BKH_RUN_WORKERS=false`) and a worker process (`python -m services work
analytics`) consuming from RabbitMQ. The bench process plays intake, publishing
`request.submitted` at 200/s, and watches the dashboard's live feed meanwhile.

Results:
- `analytics.kpis`: GET /api/v1/analytics/kpis (the last 30 days of the dataset; the CMU's,
  a minister's and an entity head's scope in turn), open loop at 20/s while 200 submissions/s
  flow; target p95 ≤ 50 ms (the p95 is in the details).
- `analytics.dashboard`: GET /api/v1/analytics/dashboard (everything the board shows), 5/s.
- `analytics.submissions`: the 200/s flow itself, with the freshness (publish → the figures
  on an open live feed include the event) p50/p95/max; target ≤ 5 s.
- `analytics.raw_aggregate` and `analytics.rollup_aggregate`: the same 30-day headline from
  the raw request rows and from the rollups, directly on PostgreSQL; ratio = rollup / raw p50
  (target ≤ 0.01, i.e. at least 100× faster).
- `analytics.month_export`: a month's report as XLSX by entity and governorate; target ≤ 2 s.

The flow adds a few thousand requests to the prepared dataset per run (prefixed BENCH-), which
changes nothing measurable at 10 million.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.fixtures import service_worker, token_issuer
from bench.harness import (
    BenchContext,
    CpuMeter,
    Figures,
    LatencySummary,
    Result,
    Target,
    make_http_client,
    open_loop,
    percentile,
    plain_postgres_dsn,
    uvicorn_server,
)
from bench.scenarios import scenario
from bench.scenarios.analytics_dataset import (
    FULL_REQUESTS,
    QUICK_REQUESTS,
    ensure_dataset,
    schema_for,
)
from services.analytics.measures import COUNTERS
from shared.auth import TokenIssuer
from shared.bus import OutgoingMessage, RabbitMQBus
from shared.bus.rabbitmq import delete_declared
from shared.clock import SystemClock
from shared.events.catalog import RequestSubmitted
from shared.events.envelope import new_envelope
from shared.events.vocabulary import Channel, RequestKind, Role

DESCRIPTION = ("Analytics on a national-scale dataset: indicator queries under a 200/s "
               "submission flow, live-feed freshness, rollups vs raw rows, a month's export.")
SUBMISSIONS_PER_S = 200.0
KPI_QUERIES_PER_S = 20.0
DASHBOARD_QUERIES_PER_S = 5.0
RETRY_DELAYS_MS = (1_000, 10_000, 60_000, 300_000)  # the service's defaults

RAW_HEADLINE = """
SELECT count(*) FILTER (WHERE submitted_day BETWEEN $1 AND $2) AS received,
       count(*) FILTER (WHERE responded_at >= $3 AND responded_at < $4) AS responded,
       count(*) FILTER (WHERE on_time AND responded_at >= $3 AND responded_at < $4) AS on_time,
       count(*) FILTER (WHERE status = 'closed' AND closed_at >= $3 AND closed_at < $4)
         AS closed,
       count(*) FILTER (WHERE closing_code = 'resolved' AND closed_at >= $3 AND closed_at < $4)
         AS resolved,
       avg(rating) FILTER (WHERE rating IS NOT NULL AND closed_at >= $3 AND closed_at < $4)
         AS satisfaction,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_wd)
         FILTER (WHERE status = 'closed' AND closed_at >= $3 AND closed_at < $4) AS resolution
FROM requests
"""
ROLLUP_HEADLINE = (f"SELECT {', '.join(f'sum({c})' for c in COUNTERS)} FROM rollup_day_entity "
                   "WHERE day BETWEEN $1 AND $2")


def _bearer(issuer: TokenIssuer, role: Role, **scope: list[str]) -> dict[str, str]:
    token = issuer.issue(f"bench-{role.value}", role, lifetime=timedelta(hours=1),
                         entity_ids=scope.get("entities", ()), sector_ids=scope.get("sectors", ()))
    return {"Authorization": f"Bearer {token}"}


async def _biggest(dsn: str, schema: str) -> tuple[str, str]:
    connection = await asyncpg.connect(plain_postgres_dsn(dsn),
                                       server_settings={"search_path": schema})
    try:
        row = await connection.fetchrow(
            "SELECT entity, sector FROM rollup_day_entity WHERE entity <> '' "
            "GROUP BY entity, sector ORDER BY sum(received) DESC LIMIT 1")
    finally:
        await connection.close()
    assert row is not None
    return row["entity"], row["sector"]


async def _time_queries(dsn: str, schema: str, sql: str, args: tuple[Any, ...], runs: int
                        ) -> list[float]:
    connection = await asyncpg.connect(plain_postgres_dsn(dsn),
                                       server_settings={"search_path": schema})
    try:
        await connection.fetch(sql, *args)  # warm: plan and cache
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            await connection.fetch(sql, *args)
            timings.append(time.perf_counter() - started)
        return timings
    finally:
        await connection.close()


def _figures(latencies_s: list[float], duration_s: float) -> Figures:
    summary = LatencySummary.of(latencies_s)
    return Figures(throughput_per_s=len(latencies_s) / duration_s if duration_s else 0.0,
                   count=len(latencies_s), errors=0, duration_s=duration_s,
                   p50_ms=summary.p50_ms, p90_ms=summary.p90_ms, p99_ms=summary.p99_ms,
                   max_ms=summary.max_ms)


def _p95_ms(latencies_s: list[float]) -> float | None:
    values = sorted(latencies_s)
    return round(percentile(values, 95) * 1000, 2) if values else None


class Freshness:
    """Publish instants of events, and when an open live feed first counted each."""

    def __init__(self) -> None:
        self.published: list[tuple[datetime, float]] = []
        self.seen: list[float] = []
        self._next = 0

    def record(self, occurred_at: datetime) -> None:
        self.published.append((occurred_at, time.monotonic()))

    def counted_up_to(self, last_event_at: datetime) -> None:
        now = time.monotonic()
        while self._next < len(self.published) and self.published[self._next][0] <= \
                last_event_at:
            self.seen.append(now - self.published[self._next][1])
            self._next += 1


async def _follow_live(base_url: str, headers: dict[str, str], freshness: Freshness) -> None:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=None) as client,
        client.stream("GET", "/api/v1/analytics/live", headers=headers) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])["headline"]["last_event_at"]
                if last:
                    freshness.counted_up_to(datetime.fromisoformat(last))


@contextlib.asynccontextmanager
async def _publisher(ctx: BenchContext, namespace: str) -> AsyncIterator[RabbitMQBus]:
    bus = RabbitMQBus(ctx.amqp_url, namespace=namespace, connection_name=f"{namespace}-intake")
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
        await delete_declared(ctx.amqp_url, namespace, [f"{namespace}.analytics.projections"],
                              retry_delays_ms=RETRY_DELAYS_MS)


@scenario("analytics", description=DESCRIPTION)
async def analytics(ctx: BenchContext) -> list[Result]:
    requests = ctx.pick(FULL_REQUESTS, QUICK_REQUESTS)
    started = time.monotonic()
    dataset = await ensure_dataset(ctx.postgres_dsn, requests, ctx.log)
    prepared_s = round(time.monotonic() - started, 1)
    schema = schema_for(requests)
    end: date = dataset["end_day"]
    period = {"from": (end - timedelta(days=29)).isoformat(), "to": end.isoformat()}
    month_end = end.replace(day=1) - timedelta(days=1)
    month = {"from": month_end.replace(day=1).isoformat(), "to": month_end.isoformat()}
    entity, sector = await _biggest(ctx.postgres_dsn, schema)
    namespace = f"bench-analytics-{uuid.uuid4().hex[:8]}"
    database_url = "postgresql+asyncpg://" + plain_postgres_dsn(ctx.postgres_dsn).split("://", 1)[1]
    env = {
        "BKH_ENVIRONMENT": "test", "BKH_DATABASE_URL": database_url,
        "BKH_DATABASE_SCHEMA": schema, "BKH_AMQP_URL": ctx.amqp_url,
        "BKH_BUS_NAMESPACE": namespace, "BKH_REPORT_SCHEDULE_ENABLED": "false",
        "BKH_EXPORTS_PER_MINUTE": "10000", "BKH_LOG_LEVEL": "WARNING",
    }
    issuer = token_issuer()
    scopes = [_bearer(issuer, Role.cmu_staff), _bearer(issuer, Role.minister, sectors=[sector]),
              _bearer(issuer, Role.entity_head, entities=[entity])]
    common = {"dataset_requests": requests, "dataset_end_day": end.isoformat(),
              "dataset_prepared_s": dataset["seconds"], "dataset_ready_after_s": prepared_s}
    results: list[Result] = []

    # The publisher first, so that it leaves last: the worker's queue is deleted once the
    # worker is gone (deleted under a live consumer, a robust channel may declare it again).
    async with (
        _publisher(ctx, namespace) as bus,
        service_worker("analytics", env) as worker,
        uvicorn_server("services.analytics.main:create_app",
                       env={**env, "BKH_RUN_WORKERS": "false"}, ready_path="/readyz",
                       extra_args=["--factory"]) as server,
    ):
        client = make_http_client(ctx.http_client, server.base_url, max_connections=32)
        query = "&".join(f"{k}={v}" for k, v in period.items())
        turn = 0

        async def kpis() -> None:
            nonlocal turn
            turn += 1
            response = await client.request("GET", f"/api/v1/analytics/kpis?{query}",
                                            headers=scopes[turn % len(scopes)])
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        async def board() -> None:
            response = await client.request("GET", "/api/v1/analytics/dashboard",
                                            headers=scopes[0])
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        freshness = Freshness()
        clock = SystemClock()
        sequence = 0

        async def submit() -> None:
            nonlocal sequence
            sequence += 1
            payload = RequestSubmitted(
                reference=f"BENCH-{namespace[-8:]}-{sequence}", kind=RequestKind.complaint,
                entity=entity, sector=sector, governorate="JO-AM", channel=Channel.mobile_app,
                subject="bench", description="bench", requester_id=uuid.uuid4(),
                submitted_at=clock.now())
            envelope = new_envelope(payload, producer="intake", clock=clock,
                                    correlation_id=payload.reference)
            freshness.record(envelope.occurred_at)
            await bus.publish([OutgoingMessage.from_envelope(envelope)])

        # Warm the service's caches and pools as a board in use would have them.
        for _ in range(10):
            await kpis()
            await board()
        live = asyncio.create_task(_follow_live(server.base_url, scopes[0], freshness))
        duration, warmup = ctx.pick(30.0, 10.0), ctx.pick(5.0, 2.0)
        meter = CpuMeter({"generator": os.getpid(), "server": server.pid,
                          "worker": worker.pid}).start()
        flow, kpi_stats, board_stats = await asyncio.gather(
            open_loop(submit, SUBMISSIONS_PER_S, duration + 2 * warmup, warmup),
            open_loop(kpis, KPI_QUERIES_PER_S, duration, warmup),
            open_loop(board, DASHBOARD_QUERIES_PER_S, duration, warmup),
        )
        cpu = meter.stop()
        await asyncio.sleep(6)  # the last events reach the feed
        live.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await live

        for name, stats, description in (
            ("analytics.kpis", kpi_stats,
             f"GET /kpis (30 days, 3 scopes) at {KPI_QUERIES_PER_S:g}/s under the flow"),
            ("analytics.dashboard", board_stats,
             f"GET /dashboard (all panels) at {DASHBOARD_QUERIES_PER_S:g}/s under the flow"),
        ):
            p95 = _p95_ms(stats.latencies_s)
            result = Result.from_open_loop(
                name, description, stats, params=common,
                targets=[] if p95 is None else [Target("p95 (ms)", 50.0, at_most=True,
                                                       median=p95)])
            result.extra.update({"p95_ms": p95, "cpu": cpu})
            results.append(result)
        flow_result = Result.from_open_loop(
            "analytics.submissions", f"request.submitted published at {SUBMISSIONS_PER_S:g}/s "
            "(confirms) and applied by analytics", flow, params=common)
        seen = sorted(freshness.seen)
        flow_result.extra.update({
            "freshness_events_seen": len(seen), "freshness_events_published":
            len(freshness.published),
            "freshness_p50_s": round(percentile(seen, 50), 3) if seen else None,
            "freshness_p95_s": round(percentile(seen, 95), 3) if seen else None,
            "freshness_max_s": round(seen[-1], 3) if seen else None})
        if seen:
            flow_result.targets.append(Target("submission → live feed p95 (s)", 5.0,
                                              at_most=True, median=percentile(seen, 95)))
        if len(seen) < len(freshness.published):
            flow_result.notes.append(f"{len(freshness.published) - len(seen)} events not seen "
                                     "on the live feed within 6 s of the end")
        results.append(flow_result)

        exports = []
        for _ in range(ctx.pick(5, 3)):
            began = time.perf_counter()
            response = await client.request(
                "GET", f"/api/v1/analytics/reports?from={month['from']}&to={month['to']}"
                "&group_by=entity,governorate&format=xlsx", headers=scopes[0])
            if response.status != 200:
                raise RuntimeError(f"export: HTTP {response.status}")
            exports.append(time.perf_counter() - began)
        results.append(Result(
            "analytics.month_export", f"a month ({month['from']}..{month['to']}) as XLSX by "
            "entity and governorate", "closed-loop", _figures(exports, sum(exports)),
            params={**common, "bytes": len(response.body)},
            targets=[Target("export (s)", 2.0, at_most=True,
                            median=statistics.median(exports),
                            spread=(min(exports), max(exports)))]))
        await client.aclose()

    raw_args = (end - timedelta(days=29), end,
                datetime.combine(end - timedelta(days=29), datetime.min.time(), UTC),
                datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC))
    raw = await _time_queries(ctx.postgres_dsn, schema, RAW_HEADLINE, raw_args,
                              ctx.pick(5, 3))
    rolled = await _time_queries(ctx.postgres_dsn, schema, ROLLUP_HEADLINE,
                                 (end - timedelta(days=29), end), 50)
    results.append(Result("analytics.raw_aggregate", "the 30-day headline over raw request rows",
                          "closed-loop", _figures(raw, sum(raw)), params=common))
    rollup = Result("analytics.rollup_aggregate", "the same headline from the daily rollups",
                    "closed-loop", _figures(rolled, sum(rolled)), params=common,
                    baseline="analytics.raw_aggregate", compare_on="p50_ms")
    rollup.extra["speedup"] = round(statistics.median(raw) / statistics.median(rolled), 1)
    rollup.targets.append(Target("rollup p50 ÷ raw p50", 0.01, at_most=True,
                                 median=statistics.median(rolled) / statistics.median(raw)))
    rollup.notes.append("ratio = rollup p50 / raw p50 (at least 100× faster)")
    results.append(rollup)
    return results
