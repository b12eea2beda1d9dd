"""integrity_sealing: corruption reports sealed at intake and stored by integrity.

Intake and integrity run as separate uvicorn processes (1 worker each, relay and consumers
inside) on PostgreSQL and RabbitMQ, each in its own fresh schema. Each operation is a real
`POST /api/v1/reports` to intake with a 10 KB report: intake fetches the commission's key from
integrity (cached), seals the report in memory, writes the idempotency record and the
`report.sealed` outbox row in one transaction and answers 201 with a receipt; its relay
publishes the envelope, integrity's consumer files it (write-once) and emits `report.forwarded`.

- closed loop: peak sealing rate (201/s), compared with bare_insert's peak (one INSERT);
- stored: the rate at which integrity filed the closed loop's reports, from the first POST to
  the last row in `sealed_reports` (sealing and storing end to end), with the same baseline;
- open loop at 300/s: latency of the POST, compared with bare_insert's p99 at the same rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from itertools import count

import asyncpg

from bench.fixtures import delete_service_queues, scratch_schema, token_issuer
from bench.harness import (
    BenchContext,
    ClosedLoopStats,
    CpuMeter,
    Figures,
    Op,
    Result,
    Target,
    closed_loop,
    make_http_client,
    open_loop,
    plain_postgres_dsn,
    uvicorn_server,
)
from bench.scenarios import scenario
from services.__main__ import definition_of
from shared.events.vocabulary import Role
from shared.runtime import migrate_to_head
from shared.sealing import CommissionKeyPair

DESCRIPTION = ("POST /api/v1/reports (10 KB text) to intake in a uvicorn process: key from "
               "integrity (cached), sealed in memory, idempotency record + report.sealed outbox "
               "row in one transaction → 201 with a receipt; relayed to RabbitMQ and filed "
               "write-once by integrity in its own process.")
BODY_BYTES = 10 * 1024
CONCURRENCY = 32
OPEN_LOOP_RATE = 300.0


class UnexpectedStatus(Exception):
    pass


def _service_env(ctx: BenchContext, schema: str, namespace: str) -> dict[str, str]:
    return {
        "BKH_ENVIRONMENT": "test",
        "BKH_DATABASE_URL": ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "BKH_DATABASE_SCHEMA": schema,
        "BKH_AMQP_URL": ctx.amqp_url,
        "BKH_BUS_NAMESPACE": namespace,
        "BKH_LOG_LEVEL": "WARNING",
    }


def _commission_token() -> str:
    return token_issuer().issue("bench-commission", Role.integrity_commission)


@scenario("integrity_sealing", baseline="bare_insert", description=DESCRIPTION)
async def integrity_sealing(ctx: BenchContext) -> list[Result]:
    tag = uuid.uuid4().hex[:8]
    namespace = f"bench-{tag}"
    closed_s, closed_warmup_s = ctx.pick(15.0, 4.0), ctx.pick(3.0, 1.0)
    open_s, open_warmup_s = ctx.pick(15.0, 5.0), ctx.pick(3.0, 1.0)
    body = json.dumps({"subject": "benchmark", "text": "x" * BODY_BYTES}).encode()
    keys = count()
    created = 0

    async with (
        scratch_schema(ctx, "bench_sealing_intake") as intake_schema,
        scratch_schema(ctx, "bench_sealing_integrity") as integrity_schema,
    ):
        schemas = {"intake": intake_schema, "integrity": integrity_schema}
        for name, schema in schemas.items():
            definition = definition_of(name)
            await migrate_to_head(definition, definition.load_settings(
                database_url=_service_env(ctx, schema, namespace)["BKH_DATABASE_URL"],
                database_schema=schema))
        try:
            async with uvicorn_server(
                "services.integrity.main:create_app", extra_args=["--factory"],
                env=_service_env(ctx, schemas["integrity"], namespace), ready_path="/readyz",
            ) as integrity:
                pair = CommissionKeyPair.generate("bench-commission-key")
                registrar = make_http_client(ctx.http_client, integrity.base_url, 1)
                registered = await registrar.request(
                    "POST", "/api/v1/integrity/keys",
                    json.dumps({"key_id": pair.key_id, "public_key": pair.public.encoded,
                                "fingerprint": pair.public.fingerprint}).encode(),
                    {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex,
                     "Authorization": f"Bearer {_commission_token()}"},
                )
                await registrar.aclose()
                if registered.status != 201:
                    raise UnexpectedStatus(f"key registration: HTTP {registered.status}")
                async with uvicorn_server(
                    "services.intake.main:create_app", extra_args=["--factory"],
                    env={**_service_env(ctx, schemas["intake"], namespace),
                         "BKH_INTEGRITY_URL": integrity.base_url},
                    ready_path="/readyz",
                ) as intake:
                    client = make_http_client(ctx.http_client, intake.base_url, CONCURRENCY)

                    async def report() -> None:
                        nonlocal created
                        response = await client.request(
                            "POST", "/api/v1/reports", body,
                            {"Content-Type": "application/json",
                             "Idempotency-Key": f"bench-{tag}-{next(keys)}"})
                        if response.status != 201:
                            raise UnexpectedStatus(f"HTTP {response.status}")
                        created += 1

                    try:
                        closed, stored, closed_cpu = await _closed_and_stored(
                            ctx, report, schemas["integrity"],
                            {"generator": os.getpid(), "intake": intake.pid,
                             "integrity": integrity.pid},
                            closed_s, closed_warmup_s, lambda: created)
                        ctx.log(f"  open loop: {OPEN_LOOP_RATE:g}/s for {open_s:g} s")
                        meter = CpuMeter({"generator": os.getpid(), "intake": intake.pid,
                                          "integrity": integrity.pid}).start()
                        opened = await open_loop(report, OPEN_LOOP_RATE, open_s, open_warmup_s)
                        open_cpu = meter.stop()
                    finally:
                        await client.aclose()
        finally:
            await delete_service_queues(ctx, namespace, ["intake", "integrity"])

    params = {"body_bytes": BODY_BYTES, "http_client": ctx.http_client,
              "servers": "intake and integrity: uvicorn, 1 worker each, separate processes"}
    return [
        Result.from_closed_loop(
            "integrity_sealing", DESCRIPTION + " Closed loop: peak sealing rate (201/s).",
            closed, params={"concurrency": CONCURRENCY, **params},
            extra={"cpu": closed_cpu, "warmup_s": closed_warmup_s},
            targets=[Target("reports sealed per second", 300.0, at_most=False,
                            median=closed.throughput_per_s)]),
        stored,
        Result.from_open_loop(
            "integrity_sealing.open_loop", DESCRIPTION + " Open loop: POST latency.",
            opened, params={"rate_per_s": OPEN_LOOP_RATE, **params},
            extra={"cpu": open_cpu, "warmup_s": open_warmup_s}),
    ]


async def _filed(dsn: str, schema: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(f'SELECT count(*) FROM "{schema}".sealed_reports'))
    finally:
        await connection.close()


async def _closed_and_stored(
    ctx: BenchContext, report: Op, schema: str, pids: dict[str, int],
    duration_s: float, warmup_s: float, created: Callable[[], int],
) -> tuple[ClosedLoopStats, Result, dict[str, float]]:
    """The closed loop, then how long integrity took to have every report filed."""
    dsn = plain_postgres_dsn(ctx.postgres_dsn)
    ctx.log(f"  closed loop: concurrency {CONCURRENCY}, {duration_s:g} s (+{warmup_s:g} s)")
    meter = CpuMeter(pids).start()
    started = time.monotonic()
    closed = await closed_loop(report, CONCURRENCY, duration_s, warmup_s)
    total = created()
    while await _filed(dsn, schema) < total:
        if time.monotonic() - started > duration_s + warmup_s + 120:
            raise UnexpectedStatus("integrity did not file every sealed report in time")
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    cpu = meter.stop()
    stored = Result(
        name="integrity_sealing.stored",
        description=DESCRIPTION + " Stored: reports filed by integrity per second, from the "
                    "first POST to the last row written (warm-up included).",
        mode="closed-loop",
        figures=Figures(throughput_per_s=total / elapsed, count=total, errors=0,
                        duration_s=elapsed, p50_ms=None, p90_ms=None, p99_ms=None, max_ms=None),
        params={"concurrency": CONCURRENCY},
        extra={"cpu": cpu},
        notes=[f"sealed (201) {total:,}, filed {await _filed(dsn, schema):,}"],
    )
    return closed, stored, cpu
