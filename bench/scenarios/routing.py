"""routing: officers' inbox pages and the placement of submitted requests, with a million
requests in the store.

The production topology on one machine: routing in its own uvicorn process (1 worker, its
consumers and outbox relay inside, as `make up` runs it) on PostgreSQL and RabbitMQ, and for
the inbox the gateway in front of it (its own process), so each page costs what an officer's
costs: the token and the rate limits at the edge, then in routing the token again, the
officer's standing and permissions (one query), then the page.

The store: 1,000,000 requests (100,000 with --quick) spread unevenly over the 54 seeded
entities (a few large, many small), about 90 % finished (closed or rejected), the rest open in
every status, with deadlines (some passed, some escalated), and their two-entry timelines:
loaded in SQL, then analysed. The seeded directory and demo staff come from the service.

- `routing_inbox.open_loop`: pages at 50/s (about ~200 officers paging every 4 s) of main
  and sub-liaison officers, entity heads and the CMU, default filters (open requests by
  deadline, 25 a page), one in five with a filter, through the gateway; the issue's target is
  p95 ≤ 30 ms. `routing_inbox.direct`: the same, straight to routing (the service's share).
  Not at bare_insert's 300/s, so they carry no latency ratio.
- `routing_inbox`: the same pages through the gateway, 8 in flight: peak pages/s (vs
  bare_insert's peak, the bare limit of an HTTP request that touches the database).
- `routing_assignment`: 20,000 `request.submitted` (3,000 with --quick) waiting in routing's
  queue while it is stopped; started, it places them (assigned or triaged, two timeline entries
  each, its event to the outbox, relayed). Placements/s from the first placed to the last,
  read from the database; the issue's target is ≥ 1,000/s. Compared with outbox_pipeline's
  events/s (the kernel's bare pipeline: outbox → RabbitMQ → inbox consumer).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any, Final

import asyncpg

from bench.fixtures import delete_service_queues, scratch_schema, token_issuer
from bench.harness import (
    BenchContext,
    CpuMeter,
    Figures,
    Result,
    Target,
    closed_loop,
    make_http_client,
    open_loop,
    percentile,
    plain_postgres_dsn,
    uvicorn_server,
)
from bench.scenarios import scenario
from services.routing.cases.search import case_keys
from services.routing.directory.demo import demo_person_id
from services.routing.main import DEFINITION
from shared.bus import OutgoingMessage, RabbitMQBus
from shared.clock import SystemClock
from shared.events.catalog import RequestSubmitted
from shared.events.envelope import new_envelope
from shared.events.vocabulary import Channel, RequestKind, Role
from shared.runtime import migrate_to_head

DESCRIPTION = ("Routing with 1,000,000 requests in the store: officers' inbox pages through "
               "the gateway (token at the edge; token, standing and permissions in routing), "
               "and placing submitted requests from its queue.")
OPEN_LOOP_RATE = 50.0
CONCURRENCY = 8
PAGE = 25
SEED = Path(__file__).resolve().parents[2] / "services" / "routing" / "seed_data"
TARGET_P95_MS = 30.0
TARGET_PLACEMENTS_PER_S = 1_000.0


class UnexpectedStatus(Exception):
    pass


def _directory() -> tuple[list[str], list[str]]:
    entities = json.loads((SEED / "entities.json").read_text(encoding="utf-8"))["entities"]
    return [e["code"] for e in entities], [e["sector"] for e in entities]


# The store: statuses by a hash of the row number (about 90 % finished), entities skewed
# towards the first ones (power 2), deadlines around now, some passed and escalated. Subjects
# (3 words) and descriptions (12) are drawn from a vocabulary ($4) unevenly (power 3: a few
# words common, most rare; by a hash of their own, so that no word goes with an entity) and
# requesters named from a list ($5), with the search keys routing would write (the words are
# already in their folded form), so that staff search meets a realistic spread of words.
LOAD_CASES = """
WITH directory AS (
    SELECT code, sector, i::int FROM unnest($2::text[], $3::text[]) WITH ORDINALITY
        AS d(code, sector, i)
), rows AS (
    SELECT g, (g::bigint * 7919) % 1000 AS h,
           1 + floor(array_length($2::text[], 1)
                     * power(((g::bigint * 2654435761) % 4294967296) / 4294967296.0, 2))::int
               AS pick
    FROM generate_series(1, $1::int) AS g
), shaped AS (
    SELECT r.g, d.code, d.sector,
           CASE WHEN r.h < 880 THEN 'closed' WHEN r.h < 900 THEN 'rejected'
                WHEN r.h < 925 THEN 'assigned' WHEN r.h < 965 THEN 'in_progress'
                WHEN r.h < 972 THEN 'awaiting_information' WHEN r.h < 988 THEN 'responded'
                WHEN r.h < 994 THEN 'triage' ELSE 'under_review' END AS status,
           now() - make_interval(mins => ($1::int - r.g) / 2) AS submitted,
           now() + make_interval(hours => (r.g % 600) - 120) AS due
    FROM rows r JOIN directory d ON d.i = r.pick
), worded AS (
    SELECT s.*,
           array_to_string(ARRAY(
               SELECT ($4::text[])[1 + floor(array_length($4::text[], 1) * power(
                   ('x' || substr(md5(s.g || ':' || k), 1, 8))::bit(32)::bigint
                   / 4294967296.0, 3))::int]
               FROM generate_series(1, 3) AS k ORDER BY k), ' ') AS subject,
           array_to_string(ARRAY(
               SELECT ($4::text[])[1 + floor(array_length($4::text[], 1) * power(
                   ('x' || substr(md5(s.g || ':' || k), 1, 8))::bit(32)::bigint
                   / 4294967296.0, 3))::int]
               FROM generate_series(4, 15) AS k ORDER BY k), ' ') AS description,
           ($5::text[])[1 + s.g % array_length($5::text[], 1)] || ' '
               || ($5::text[])[1 + (s.g * 7 + 3) % array_length($5::text[], 1)] AS requester_name
    FROM shaped s
)
INSERT INTO cases (
    reference, kind, status, channel, requested_entity, entity_code, sector_code,
    distributed_to, officer_ids, governorate, subject, description, attachment_ids,
    requester_id, submitted_at, placed_at, classification, processing_working_days,
    extensions, transfer_count, outcome, closing_code, rating, due_at, due_stage, due_set_at,
    overdue_since, escalation_level, closed_at, updated_at, audit_seq, audit_head,
    subject_key, search_key)
SELECT
    'BKH-2029-' || lpad(g::text, 7, '0'),
    (ARRAY['complaint', 'complaint', 'complaint', 'inquiry', 'suggestion', 'praise'])[1 + g % 6],
    status, (ARRAY['mobile_app', 'portal', 'call_center', 'complaint_box'])[1 + g % 4],
    code,
    CASE WHEN status = 'triage' THEN NULL ELSE code END,
    CASE WHEN status = 'triage' THEN NULL ELSE sector END,
    CASE WHEN status IN ('in_progress', 'awaiting_information') AND g % 3 = 0 THEN code END,
    '[]', 'JO-AM', subject, description, '[]',
    md5(g::text)::uuid, submitted, submitted,
    CASE WHEN status NOT IN ('assigned', 'triage') THEN 'complaint.other' END,
    CASE WHEN status NOT IN ('assigned', 'triage') THEN 10 END,
    0, 0,
    CASE WHEN status IN ('responded', 'under_review', 'closed') THEN 'resolved' END,
    CASE WHEN status = 'closed' THEN 'resolved' END,
    CASE WHEN status = 'closed' THEN 1 + g % 5 END,
    CASE WHEN status IN ('assigned', 'in_progress', 'awaiting_information') THEN due END,
    CASE WHEN status IN ('assigned', 'in_progress', 'awaiting_information') THEN 'processing' END,
    CASE WHEN status IN ('assigned', 'in_progress', 'awaiting_information') THEN submitted END,
    CASE WHEN status IN ('assigned', 'in_progress', 'awaiting_information') AND due < now()
         THEN due END,
    CASE WHEN status IN ('assigned', 'in_progress', 'awaiting_information') AND due < now()
         THEN 1 + g % 2 ELSE 0 END,
    CASE WHEN status IN ('closed', 'rejected') THEN submitted + interval '3 days' END,
    submitted, 2, repeat('0', 64),
    subject, description || ' ' || requester_name || ' bkh 2029 ' || lpad(g::text, 7, '0')
FROM worded
"""

LOAD_TIMELINES = """
INSERT INTO audit_entries (reference, seq, occurred_at, actor_id, actor_role, channel, action,
                           from_status, to_status, details, prev_hash, hash)
SELECT c.reference, s.seq, c.submitted_at, NULL, 'system', 'routing',
       CASE s.seq WHEN 1 THEN 'received' ELSE 'assigned' END,
       CASE s.seq WHEN 1 THEN NULL ELSE 'received' END,
       CASE s.seq WHEN 1 THEN 'received' ELSE 'assigned' END,
       '{}', repeat('0', 64), repeat('0', 64)
FROM cases c CROSS JOIN (VALUES (1), (2)) AS s(seq)
WHERE c.reference LIKE 'BKH-2029-%'
"""


def vocabulary(size: int, *, seed: int) -> list[str]:
    """`size` made-up Arabic words of 3 to 7 letters, each already as the search folds it (no
    hamza, taa marbuta or alef maqsura, no article to strip)."""
    letters = "بتثجحخدذرزسشصضطظعغفقكلمنهي"
    chooser, words = random.Random(seed), dict[str, None]()
    while len(words) < size:
        word = "".join(chooser.choice(letters) for _ in range(chooser.randint(3, 7)))
        if case_keys(reference="X", subject=word, description="", requester_name=None)[
                "subject_key"] == word and not word.startswith(("لل", "ال")):
            words[word] = None
    return list(words)


WORDS: Final = 30_000
NAMES: Final = 500


async def load_store(ctx: BenchContext, schema: str, requests: int) -> dict[str, Any]:
    """The store described above, in routing's schema `schema`; what it holds, in figures."""
    codes, sectors = _directory()
    words, names = vocabulary(WORDS, seed=18), vocabulary(NAMES, seed=81)
    connection = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn),
                                       server_settings={"search_path": schema})
    try:
        started = time.perf_counter()
        # The bench alone writes these rows: a transaction without the synchronous commit wait.
        async with connection.transaction():
            await connection.execute("SET LOCAL synchronous_commit = off")
            await connection.execute(LOAD_CASES, requests, codes, sectors, words, names)
            await connection.execute(LOAD_TIMELINES)
        await connection.execute("ANALYZE cases")
        await connection.execute("ANALYZE audit_entries")
        open_by_sector = await connection.fetch(
            "SELECT sector_code, count(*) AS n FROM cases WHERE status NOT IN ('closed', "
            "'rejected') AND sector_code IS NOT NULL GROUP BY sector_code ORDER BY n DESC")
        open_by_entity = await connection.fetch(
            "SELECT distributed_to, count(*) AS n FROM cases WHERE status NOT IN ('closed', "
            "'rejected') AND distributed_to IS NOT NULL GROUP BY distributed_to "
            "ORDER BY n DESC LIMIT 5")
        total = await connection.fetchval("SELECT count(*) FROM cases")
        open_total = await connection.fetchval(
            "SELECT count(*) FROM cases WHERE status NOT IN ('closed', 'rejected')")
    finally:
        await connection.close()
    return {"requests": total, "open": open_total, "words": words, "names": names,
            "load_s": round(time.perf_counter() - started, 1),
            "busiest_sectors": [(r["sector_code"], r["n"]) for r in open_by_sector],
            "busiest_distributions": [(r["distributed_to"], r["n"]) for r in open_by_entity]}


def _officers(store: dict[str, Any]) -> list[str]:
    """Tokens of the people whose pages are measured (the directory's demo staff), the
    busiest inboxes first and most often."""
    issuer = token_issuer()
    tokens = []
    for sector, _ in store["busiest_sectors"]:
        tokens.append(issuer.issue(str(demo_person_id(f"mlo.{sector.lower()}")),
                                   Role.main_liaison_officer, sector_ids=[sector]))
    for entity, _ in store["busiest_distributions"]:
        tokens.append(issuer.issue(str(demo_person_id(f"slo.{entity.lower()}")),
                                   Role.sub_liaison_officer, entity_ids=[entity]))
        tokens.append(issuer.issue(str(demo_person_id(f"head.{entity.lower()}")),
                                   Role.entity_head, entity_ids=[entity]))
    tokens.append(issuer.issue(str(demo_person_id("cmu.staff")), Role.cmu_staff))
    busiest = tokens[:3] * 4  # the largest sectors' officers ask most
    return busiest + tokens


FILTERS = ("", "", "", "", "&overdue=true", "", "", "", "", "&status=in_progress",
           "", "", "", "", "&escalated=true", "", "", "", "", "&kind=inquiry")


def service_env(ctx: BenchContext, schema: str, namespace: str) -> dict[str, str]:
    return {
        "BKH_ENVIRONMENT": "test",
        "BKH_DATABASE_URL": ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "BKH_DATABASE_SCHEMA": schema, "BKH_AMQP_URL": ctx.amqp_url,
        "BKH_BUS_NAMESPACE": namespace, "BKH_LOG_LEVEL": "WARNING",
        "BKH_DATABASE_POOL_SIZE": "16",
    }


async def _inbox(ctx: BenchContext, schema: str, namespace: str,
                 store: dict[str, Any]) -> list[Result]:
    tokens = _officers(store)
    turn = iter(range(1 << 62))
    pages = 0
    async with (
        uvicorn_server("services.routing.main:create_app", env=service_env(
            ctx, schema, namespace), ready_path="/livez", extra_args=["--factory"]) as routing,
        uvicorn_server("gateway.main:create_app", ready_path="/livez", extra_args=["--factory"],
                       env={"BKH_ENVIRONMENT": "test", "BKH_LOG_LEVEL": "WARNING",
                            "BKH_ROUTING_URL": routing.base_url,
                            # One officer asks for many pages here; the budget is not measured.
                            "BKH_RATE_LIMIT_PER_CLIENT": "100000/minute"}) as gateway,
    ):
        direct = make_http_client(ctx.http_client, routing.base_url, CONCURRENCY * 2)
        edge = make_http_client(ctx.http_client, gateway.base_url, CONCURRENCY * 2)

        def pager(client: Any) -> Any:
            async def page() -> None:
                nonlocal pages
                n = next(turn)
                response = await client.request(
                    "GET", f"/api/v1/inbox?limit={PAGE}{FILTERS[n % len(FILTERS)]}",
                    headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"})
                if response.status != 200:
                    raise UnexpectedStatus(f"HTTP {response.status}: {response.body[:200]!r}")
                pages += 1

            return page

        for _ in range(len(tokens) * 2):  # each officer's first pages warm caches and pools
            await pager(edge)()
        pids = {"generator": os.getpid(), "gateway": gateway.pid, "routing": routing.pid}
        duration, warmup = ctx.pick(20.0, 5.0), ctx.pick(3.0, 1.0)
        measured = {}
        try:
            for name, client, loop in (("direct", direct, "open"), ("edge", edge, "open"),
                                       ("peak", edge, "closed")):
                ctx.log(f"  {name}: " + (f"{OPEN_LOOP_RATE:g} pages/s" if loop == "open"
                                         else f"{CONCURRENCY} in flight") + f", {duration:g} s")
                meter = CpuMeter(pids).start()
                stats: Any = (await open_loop(pager(client), OPEN_LOOP_RATE, duration, warmup)
                              if loop == "open" else
                              await closed_loop(pager(client), CONCURRENCY, duration, warmup))
                measured[name] = (stats, meter.stop())
        finally:
            await direct.aclose()
            await edge.aclose()

    params = {"requests_in_store": store["requests"], "open_requests": store["open"],
              "page_size": PAGE, "officers": len(set(tokens)), "http_client": ctx.http_client,
              "mix": "main and sub-liaison officers, entity heads, CMU; 1 in 5 filtered"}
    results = []
    for name, path, label in (
        ("direct", "routing alone (token, standing, permissions, page)",
         "routing_inbox.direct"),
        ("edge", "gateway (token, rate limits) → routing", "routing_inbox.open_loop"),
    ):
        stats, cpu = measured[name]
        p95 = _p95_ms(stats.latencies_s)
        targets = [] if p95 is None else [
            Target("inbox page p95 (ms)", TARGET_P95_MS, at_most=True, median=p95)]
        results.append(Result.from_open_loop(
            label, DESCRIPTION + f" Inbox pages at {OPEN_LOOP_RATE:g}/s: {path}.", stats,
            params={"rate_per_s": OPEN_LOOP_RATE, "path": path, **params},
            extra={"p95_ms": p95, "cpu": cpu,
                   "busiest_open_sectors": store["busiest_sectors"][:5]},
            notes=[*(t.sentence() for t in targets),
                   f"{OPEN_LOOP_RATE:g} pages/s is about what ~200 officers paging every 4 s "
                   "ask; not bare_insert's 300/s, so no latency ratio"],
            baseline="", targets=targets))
    stats, cpu = measured["peak"]
    results.append(Result.from_closed_loop(
        "routing_inbox", DESCRIPTION + " Inbox pages through the gateway, closed loop: peak.",
        stats, params={"concurrency": CONCURRENCY, "path": "gateway → routing", **params},
        extra={"p95_ms": _p95_ms(stats.latencies_s), "cpu": cpu}, baseline="bare_insert",
        notes=[f"pages answered 200 in all phases: {pages:,}"]))
    return results


def _p95_ms(latencies_s: list[float]) -> float | None:
    return round(percentile(sorted(latencies_s), 95) * 1000, 2) if latencies_s else None


def _submissions(count: int) -> list[OutgoingMessage]:
    codes, _sectors = _directory()
    clock, chooser = SystemClock(), random.Random(4)
    messages = []
    for n in range(count):
        reference = f"BKH-2030-{n:07d}"
        payload = RequestSubmitted(
            reference=reference, kind=(RequestKind.complaint, RequestKind.inquiry,
                                       RequestKind.suggestion)[n % 3],
            entity=None if n % 20 == 0 else chooser.choice(codes), sector=None,
            governorate="JO-AM", channel=Channel.mobile_app, subject=f"طلب جديد {n}",
            description="وصف الطلب كما كتبه المواطن في التطبيق. " * 3,
            requester_id=uuid.uuid4(), submitted_at=clock.now())
        messages.append(OutgoingMessage.from_envelope(new_envelope(
            payload, producer="intake", clock=clock, correlation_id=reference)))
    return messages


async def _assignment(ctx: BenchContext, schema: str, namespace: str) -> Result:
    count = int(ctx.pick(20_000, 3_000))
    env = service_env(ctx, schema, namespace)
    # Its queues exist (declared at its earlier starts); it is stopped while this one fills.
    bus = RabbitMQBus(ctx.amqp_url, namespace=namespace, connection_name="bench-routing")
    await bus.start()
    try:
        messages = _submissions(count)
        for start in range(0, count, 1_000):
            await bus.publish(messages[start:start + 1_000])
    finally:
        await bus.close()
    ctx.log(f"  {count:,} submissions waiting in the queue; starting routing")

    connection = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn),
                                       server_settings={"search_path": schema})
    placed_query = ("SELECT count(*) FROM cases WHERE reference >= 'BKH-2030-' "
                    "AND reference < 'BKH-2030.'")
    samples: list[tuple[float, int]] = []
    try:
        launched = time.perf_counter()
        async with uvicorn_server("services.routing.main:create_app", env=env,
                                  ready_path="/livez", extra_args=["--factory"]) as routing:
            meter = CpuMeter({"generator": os.getpid(), "routing": routing.pid}).start()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                placed = await connection.fetchval(placed_query)
                samples.append((time.perf_counter(), placed))
                if placed >= count:
                    break
                await asyncio.sleep(0.05)
            cpu = meter.stop()
            drained = await _wait_for_empty_outbox(connection, 60)
        statuses = dict(await connection.fetch(
            "SELECT status, count(*) FROM cases WHERE reference >= 'BKH-2030-' "
            "AND reference < 'BKH-2030.' GROUP BY status"))
    finally:
        await connection.close()

    first = next(((t, n) for t, n in samples if n > 0), None)
    last_t, last_n = samples[-1] if samples else (launched, 0)
    if first is None or last_t <= first[0]:
        raise RuntimeError(f"no placements measured: {samples[-3:]}")
    rate = (last_n - first[1]) / (last_t - first[0])
    target = Target("placements per second", TARGET_PLACEMENTS_PER_S, at_most=False,
                    median=rate)
    figures = Figures(throughput_per_s=rate, count=last_n, errors=count - last_n,
                      duration_s=last_t - first[0], p50_ms=None, p90_ms=None, p99_ms=None,
                      max_ms=None)
    return Result(
        name="routing_assignment", description=DESCRIPTION + " Placement from the queue.",
        mode="closed-loop", figures=figures,
        params={"submissions": count, "consumer": "routing.placement, batches of 256",
                "server": "routing: uvicorn, 1 worker, consumers and relay inside"},
        extra={"cpu": cpu, "startup_to_first_placement_s": round(first[0] - launched, 2),
               "outbox_drained_after_s": drained, "statuses": statuses},
        targets=[target],
        notes=[target.sentence(),
               "throughput = placements committed per second from the first to the last, "
               "polled from the database every 50 ms; errors = submissions not placed"])


async def _wait_for_empty_outbox(connection: asyncpg.Connection, limit_s: float) -> float | None:
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if not await connection.fetchval("SELECT count(*) FROM outbox"):
            return round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.1)
    return None


@scenario("routing", baseline="outbox_pipeline", description=DESCRIPTION)
async def routing(ctx: BenchContext) -> list[Result]:
    requests = int(ctx.pick(1_000_000, 100_000))
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    async with scratch_schema(ctx, "bench_routing") as schema:
        url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        await migrate_to_head(DEFINITION, DEFINITION.load_settings(
            database_url=url, database_schema=schema))
        try:
            # Start once so that the service seeds its directory and demo staff.
            async with uvicorn_server("services.routing.main:create_app", env=service_env(
                    ctx, schema, namespace), ready_path="/livez", extra_args=["--factory"]):
                pass
            ctx.log(f"  loading {requests:,} requests and their timelines")
            store = await load_store(ctx, schema, requests)
            ctx.log(f"  loaded in {store['load_s']} s: {store['open']:,} open")
            results = await _inbox(ctx, schema, namespace, store)
            results.append(await _assignment(ctx, schema, namespace))
        finally:
            await delete_service_queues(ctx, namespace, ["routing"])
    for result in results:
        result.params.setdefault("requests_in_store", store["requests"])
    return results
