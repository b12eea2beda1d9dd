"""bare_insert: the bare limit for HTTP submissions.

bench/apps/bare_insert_app.py (FastAPI, one POST endpoint doing exactly one asyncpg INSERT of
a ~1 KB JSON row, 201) runs in a uvicorn subprocess; the load generator in this process posts
to it over keep-alive connections. Two results: closed-loop peak throughput (`concurrency`
workers back to back) and open-loop latency at a fixed rate.
"""

from __future__ import annotations

import json
import os
from itertools import count

import asyncpg

from bench.harness import (
    BenchContext,
    CpuMeter,
    Result,
    closed_loop,
    make_http_client,
    open_loop,
    plain_postgres_dsn,
    uvicorn_server,
)
from bench.scenarios import scenario

SCHEMA = "bench_bare"
POOL_SIZE = 16
APP = "bench.apps.bare_insert_app:app"
DDL = f"""
CREATE TABLE {SCHEMA}.submissions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
DESCRIPTION = ("FastAPI in a uvicorn subprocess (1 worker): POST → exactly one asyncpg INSERT "
               "of a ~1 KB JSON row (pool of {pool}, no ORM) → 201.")


class UnexpectedStatus(Exception):
    pass


def sample_payloads(n: int = 64, target_bytes: int = 1024) -> list[bytes]:
    """`n` distinct JSON documents of about `target_bytes`, shaped like a citizen submission."""
    payloads = []
    for i in range(n):
        doc = {
            "entity": f"ministry-{i % 7}",
            "service": "complaint",
            "channel": "web",
            "citizen": {"national_id": f"{29001010000000 + i}", "name": "Citizen Benchmark",
                        "phone": "+20100000000", "email": f"citizen{i}@example.org"},
            "subject": f"Benchmark submission {i}",
            "location": {"governorate": "Cairo", "district": "Nasr City", "lat": 30.05,
                         "lon": 31.33},
            "attachments": [],
            "body": "",
        }
        filler = target_bytes - len(json.dumps(doc, separators=(",", ":")))
        doc["body"] = ("lorem ipsum dolor sit amet " * 64)[:max(filler, 0)]
        payloads.append(json.dumps(doc, separators=(",", ":")).encode())
    return payloads


@scenario("bare_insert", description=DESCRIPTION.format(pool=POOL_SIZE))
async def bare_insert(ctx: BenchContext) -> list[Result]:
    concurrency = 64
    closed_s, closed_warmup_s = ctx.pick(15.0, 4.0), ctx.pick(3.0, 1.0)
    rate, open_s, open_warmup_s = 300.0, ctx.pick(15.0, 5.0), ctx.pick(3.0, 1.0)
    dsn = plain_postgres_dsn(ctx.postgres_dsn)
    payloads = sample_payloads()
    counter = count()
    created = 0

    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await admin.execute(f"CREATE SCHEMA {SCHEMA}")
        await admin.execute(DDL)
        env = {"BENCH_PG_DSN": dsn, "BENCH_SCHEMA": SCHEMA,
               "BENCH_PG_POOL_SIZE": str(POOL_SIZE)}
        async with uvicorn_server(APP, env=env) as server:
            client = make_http_client(ctx.http_client, server.base_url, concurrency)
            headers = {"Content-Type": "application/json"}

            async def submit() -> None:
                nonlocal created
                body = payloads[next(counter) % len(payloads)]
                response = await client.request("POST", "/submissions", body, headers)
                if response.status != 201:
                    raise UnexpectedStatus(f"HTTP {response.status}")
                created += 1

            try:
                pids = {"generator": os.getpid(), "server": server.pid}
                ctx.log(f"  closed loop: concurrency {concurrency}, {closed_s:g} s "
                        f"(+{closed_warmup_s:g} s warm-up), client {ctx.http_client}")
                meter = CpuMeter(pids).start()
                closed = await closed_loop(submit, concurrency, closed_s, closed_warmup_s)
                closed_cpu = meter.stop()
                ctx.log(f"  open loop: {rate:g}/s for {open_s:g} s (+{open_warmup_s:g} s "
                        f"warm-up)")
                meter = CpuMeter(pids).start()
                opened = await open_loop(submit, rate, open_s, open_warmup_s)
                open_cpu = meter.stop()
            finally:
                await client.aclose()
        rows = await admin.fetchval(f"SELECT count(*) FROM {SCHEMA}.submissions")
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await admin.close()

    params = {"payload_bytes": len(payloads[0]), "pg_pool": POOL_SIZE,
              "http_client": ctx.http_client, "server": "uvicorn, 1 worker, separate process"}
    check = f"rows inserted {rows:,}, 201 responses {created:,}"
    closed_result = Result.from_closed_loop(
        "bare_insert", DESCRIPTION.format(pool=POOL_SIZE) + " Closed loop: peak throughput.",
        closed, params={"concurrency": concurrency, **params},
        extra={"cpu": closed_cpu, "warmup_s": closed_warmup_s}, notes=[check])
    open_result = Result.from_open_loop(
        "bare_insert.open_loop",
        DESCRIPTION.format(pool=POOL_SIZE) + " Open loop: latency at a fixed rate.",
        opened, params={"rate_per_s": rate, "max_connections": concurrency, **params},
        extra={"cpu": open_cpu, "warmup_s": open_warmup_s})
    if rows != created:
        closed_result.notes.append("MISMATCH between rows and 201 responses")
    return [closed_result, open_result]
