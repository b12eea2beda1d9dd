"""intake_submissions: citizens' submissions through the gateway into intake.

The production topology on one machine, as deploy/k8s runs it: the gateway and intake's API
each in their own uvicorn process (1 worker, intake's with `BKH_RUN_WORKERS=false`), and
intake's worker (`python -m services work intake`: its outbox relay to RabbitMQ and its
consumers) in a third; intake on PostgreSQL (a fresh schema, migrated). Each operation is a
real `POST /api/v1/requests` through the gateway with a citizen's token and a fresh
Idempotency-Key: the gateway checks the token and the rate limits and forwards; intake checks
the token again, validates, checks the entity, and hands the submission to its group commit,
which numbers it, claims its key with the receipt and writes the request and its
`request.submitted` outbox row in one transaction with the submissions that arrived alongside;
intake answers 201 with the reference and the provisional deadlines. The bodies confirm despite
similar requests (as a citizen does after the warning), so the duplicate check's read is not in
these figures. 2,000 citizens take turns, so no one trips the per-client limit.

- closed loop (64 in flight): peak submissions/s, compared with bare_insert's peak;
- open loop at 300/s: latency, compared with bare_insert's p99 at the same rate;
- closed loop straight to intake (no gateway): the gateway's share of the cost, by difference.

The issue's targets: ≥ 600/s sustained, p99 ≤ 50 ms at 300/s, ≥ 0.25 of bare_insert.
"""

from __future__ import annotations

import json
import os
import uuid
from itertools import count

import asyncpg

from bench.fixtures import (
    add_intake_entity,
    delete_service_queues,
    scratch_schema,
    service_worker,
    token_issuer,
)
from bench.harness import (
    BenchContext,
    CpuMeter,
    HttpClient,
    Result,
    Target,
    closed_loop,
    make_http_client,
    open_loop,
    plain_postgres_dsn,
    uvicorn_server,
)
from bench.scenarios import scenario
from services.intake.main import DEFINITION
from shared.events.vocabulary import Role
from shared.runtime import migrate_to_head

DESCRIPTION = ("POST /api/v1/requests through the gateway (its own uvicorn process) to intake's "
               "API (its own; the relay in intake's worker process): token checked twice, "
               "rate limits, validation, entity check, Idempotency-Key; the numbered request, "
               "its key and its request.submitted outbox row written by intake's group commit "
               "(one transaction for the submissions arriving together) → 201 with the "
               "reference.")
CONCURRENCY = 64
OPEN_LOOP_RATE = 300.0
CITIZENS = 2_000
SUBJECTS = ("انقطاع المياه في الحي", "تأخر المواعيد في العيادة", "حفرة في الشارع الرئيسي",
            "إنارة الشارع معطلة", "تأخر معاملة الترخيص", "ازدحام في مركز الخدمة")


class UnexpectedStatus(Exception):
    pass


def _bodies() -> list[bytes]:
    bodies = []
    for i in range(64):
        body = {
            "kind": ("complaint", "suggestion", "inquiry")[i % 3],
            "entity": "PM-GAM",
            "subject": f"{SUBJECTS[i % len(SUBJECTS)]} ({i})",
            "description": "وصف الطلب بالتفصيل كما كتبه المواطن في التطبيق، مع ما يلزم من "
                           "معلومات عن المكان والزمان والإجراءات السابقة. " * 4,
            "governorate": "JO-AM",
            "city": "عمّان",
            "channel": "mobile_app",
            "not_before_court": True,
            "confirm_despite_similar": True,
        }
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


def _tokens() -> list[str]:
    issuer = token_issuer()
    return [issuer.issue(str(uuid.uuid4()), Role.citizen) for _ in range(CITIZENS)]


@scenario("intake_submissions", baseline="bare_insert", description=DESCRIPTION)
async def intake_submissions(ctx: BenchContext) -> list[Result]:
    closed_s, closed_warmup_s = ctx.pick(15.0, 4.0), ctx.pick(3.0, 1.0)
    open_s, open_warmup_s = ctx.pick(15.0, 5.0), ctx.pick(3.0, 1.0)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    bodies, tokens = _bodies(), _tokens()
    sequence = count()
    created = 0
    async with scratch_schema(ctx, "bench_intake") as schema:
        url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        await migrate_to_head(DEFINITION, DEFINITION.load_settings(
            database_url=url, database_schema=schema))
        admin = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
        try:
            await add_intake_entity(admin, schema)
        finally:
            await admin.close()
        intake_env = {
            "BKH_ENVIRONMENT": "test", "BKH_DATABASE_URL": url, "BKH_DATABASE_SCHEMA": schema,
            "BKH_AMQP_URL": ctx.amqp_url, "BKH_BUS_NAMESPACE": namespace,
            "BKH_LOG_LEVEL": "WARNING", "BKH_DATABASE_POOL_SIZE": "16",
        }
        try:
            async with (
                service_worker("intake", intake_env) as worker,
                uvicorn_server("services.intake.main:create_app",
                               env={**intake_env, "BKH_RUN_WORKERS": "false"},
                               ready_path="/livez", extra_args=["--factory"]) as intake,
                uvicorn_server("gateway.main:create_app", ready_path="/livez",
                               extra_args=["--factory"],
                               env={"BKH_ENVIRONMENT": "test", "BKH_LOG_LEVEL": "WARNING",
                                    "BKH_INTAKE_URL": intake.base_url}) as gateway,
            ):
                client = make_http_client(ctx.http_client, gateway.base_url, CONCURRENCY)
                direct_client = make_http_client(ctx.http_client, intake.base_url, CONCURRENCY)

                async def submit(via: HttpClient = client) -> None:
                    nonlocal created
                    n = next(sequence)
                    response = await via.request(
                        "POST", "/api/v1/requests", bodies[n % len(bodies)],
                        {"Content-Type": "application/json",
                         "Authorization": f"Bearer {tokens[n % CITIZENS]}",
                         "Idempotency-Key": uuid.uuid4().hex},
                    )
                    if response.status != 201:
                        raise UnexpectedStatus(f"HTTP {response.status}: {response.body[:200]!r}")
                    created += 1

                pids = {"generator": os.getpid(), "gateway": gateway.pid, "intake": intake.pid,
                        "intake_worker": worker.pid}
                try:
                    ctx.log(f"  closed loop: concurrency {CONCURRENCY}, {closed_s:g} s")
                    meter = CpuMeter(pids).start()
                    closed = await closed_loop(submit, CONCURRENCY, closed_s, closed_warmup_s)
                    closed_cpu = meter.stop()
                    ctx.log(f"  open loop: {OPEN_LOOP_RATE:g}/s for {open_s:g} s")
                    meter = CpuMeter(pids).start()
                    opened = await open_loop(submit, OPEN_LOOP_RATE, open_s, open_warmup_s)
                    open_cpu = meter.stop()
                    ctx.log("  closed loop straight to intake (the gateway's share, by difference)")
                    meter = CpuMeter(pids).start()
                    direct = await closed_loop(lambda: submit(direct_client), CONCURRENCY,
                                               closed_s, closed_warmup_s)
                    direct_cpu = meter.stop()
                finally:
                    await client.aclose()
                    await direct_client.aclose()
            admin = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
            try:
                rows = await admin.fetchval(f'SELECT count(*) FROM "{schema}".requests')
            finally:
                await admin.close()
        finally:
            await delete_service_queues(ctx, namespace, ["intake"])

    params = {"http_client": ctx.http_client, "citizens": CITIZENS,
              "servers": "gateway and intake's API: uvicorn, 1 worker each, separate "
                         "processes; intake's outbox relay and consumers in its worker process"}
    check = f"requests stored {rows:,}, 201 responses {created:,}"
    closed_result = Result.from_closed_loop(
        "intake_submissions", DESCRIPTION + " Closed loop: peak throughput.", closed,
        params={"concurrency": CONCURRENCY, **params},
        extra={"cpu": closed_cpu, "warmup_s": closed_warmup_s}, notes=[check],
        targets=[Target("submissions per second", 600.0, at_most=False,
                        median=closed.throughput_per_s)])
    open_result = Result.from_open_loop(
        "intake_submissions.open_loop", DESCRIPTION + " Open loop: latency at a fixed rate.",
        opened, params={"rate_per_s": OPEN_LOOP_RATE, "max_connections": CONCURRENCY,
                        **params},
        extra={"cpu": open_cpu, "warmup_s": open_warmup_s},
        targets=[] if opened.latency.p99_ms is None else [
            Target(f"p99 at {OPEN_LOOP_RATE:g}/s (ms)", 50.0, at_most=True,
                   median=opened.latency.p99_ms)])
    direct_result = Result.from_closed_loop(
        "intake_submissions.direct",
        "The same POST straight to intake's process, no gateway: what the gateway's hop costs, "
        "by difference. Closed loop: peak throughput.", direct,
        params={"concurrency": CONCURRENCY, **params},
        extra={"cpu": direct_cpu, "warmup_s": closed_warmup_s})
    if rows != created:
        closed_result.notes.append("MISMATCH between stored requests and 201 responses")
    return [closed_result, open_result, direct_result]
