"""public_tracking: the public tracking page with 1,000,000 requests in intake's store.

Someone without an account types a reference and its tracking code; the web app (its own
process) posts them to `POST /api/v1/tracking` through the gateway (its own) to intake's API
(its own), which checks the tries, finds the request, compares the code's digest and builds
the requester's view; the page is rendered from it. Intake's store is loaded with 1,000,000
requests (100,000 with --quick) by COPY, each with its tracking code's digest; 2,000 of them,
spread over the whole store, are the ones looked up, with their codes.

`public_tracking.page`: `POST /track` against `POST /api/v1/tracking` alone, at the same
open-loop rate, as interleaved pairs (`bench/page_pairs.py`). Target (issue 20): page p95
≤ 50 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import asyncpg

from bench.fixtures import add_intake_entity, scratch_schema
from bench.harness import (
    BenchContext,
    Result,
    make_http_client,
    plain_postgres_dsn,
)
from bench.page_pairs import QUIET, Op, page_pairs, page_result, pages_over
from bench.scenarios import scenario
from services.intake import tracking
from services.intake.main import DEFINITION
from services.intake.references import format_reference
from shared.runtime import migrate_to_head

DESCRIPTION = ("The public tracking page with 1,000,000 requests in intake's store: POST /track "
               "(the web app, its own process) against POST /api/v1/tracking through the "
               "gateway to intake, in interleaved pairs.")
RATE: Final = 20.0
LOOKED_UP: Final = 2_000
TARGET_P95_MS: Final = 50.0
UNLIMITED: Final = "100000000/hour"  # the tries' limits are intake's tests' to prove
COLUMNS: Final = ("reference", "kind", "entity", "sector", "governorate", "channel", "subject",
                  "description", "search_key", "requester_id", "declared_not_before_court",
                  "submitted_at", "status", "status_at", "tracking_digest")


class UnexpectedStatus(Exception):
    pass


async def _load(ctx: BenchContext, schema: str, count: int) -> list[tuple[str, str]]:
    """`count` requests by COPY; the (reference, code) of `LOOKED_UP` of them."""
    rng = random.Random(20)
    looked_up = set(rng.sample(range(1, count + 1), LOOKED_UP))
    known: list[tuple[str, str]] = []
    start = datetime(2026, 1, 1, 6, tzinfo=UTC)
    rows = []
    for number in range(1, count + 1):
        at = start + timedelta(seconds=number * 25)
        reference = format_reference(number, at)
        if number in looked_up:
            code = tracking.new_code()
            known.append((reference, code))
            digest = tracking.digest(code)
        else:  # a code nobody is given here: its digest alone, cheaply
            digest = hashlib.sha256(number.to_bytes(8, "big")).hexdigest()
        rows.append((reference, "complaint", "PM-GAM", "PM", "JO-AM", "complaint_box",
                     f"حفرة في الشارع {number % 977}", "حفرة عميقة أمام المدرسة منذ أسبوعين.",
                     "حفره في الشارع", uuid.UUID(int=number), True, at, "assigned", at, digest))
    connection = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
    try:
        await add_intake_entity(connection, schema)
        await connection.copy_records_to_table("requests", schema_name=schema, records=rows,
                                               columns=COLUMNS)
        await connection.execute(f'ANALYZE "{schema}".requests')
    finally:
        await connection.close()
    rng.shuffle(known)
    return known


@scenario("public_tracking", description=DESCRIPTION)
async def public_tracking(ctx: BenchContext) -> list[Result]:
    count = int(ctx.pick(1_000_000, 100_000))
    async with scratch_schema(ctx, "bench_tracking") as schema:
        url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        await migrate_to_head(DEFINITION, DEFINITION.load_settings(
            database_url=url, database_schema=schema))
        ctx.log(f"  loading {count:,} requests")
        started = time.monotonic()
        known = await _load(ctx, schema, count)
        ctx.log(f"  loaded in {time.monotonic() - started:.0f} s")
        return await _measure(ctx, url, schema, count, known)


async def _measure(ctx: BenchContext, url: str, schema: str, count: int,
                   known: list[tuple[str, str]]) -> list[Result]:
    intake_env = {**QUIET, "BKH_DATABASE_URL": url, "BKH_DATABASE_SCHEMA": schema,
                  "BKH_RUN_WORKERS": "false", "BKH_TRACKING_TRIES_PER_ADDRESS": UNLIMITED,
                  "BKH_TRACKING_TRIES_PER_REFERENCE": UNLIMITED}
    async with pages_over("intake", intake_env) as (intake, gateway, web):
        api = make_http_client(ctx.http_client, gateway.base_url, 32)
        pages = make_http_client(ctx.http_client, web.base_url, 32)
        turn = iter(range(1 << 62))

        def looking_up(as_page: bool) -> Op:
            async def call() -> None:
                reference, code = known[next(turn) % len(known)]
                if as_page:
                    response = await pages.request(
                        "POST", "/track",
                        body=urlencode({"reference": reference, "code": code}).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
                else:
                    response = await api.request(
                        "POST", "/api/v1/tracking",
                        body=json.dumps({"reference": reference, "code": code}).encode(),
                        headers={"Content-Type": "application/json"})
                if response.status != 200:
                    raise UnexpectedStatus(f"HTTP {response.status}: {response.body[:200]!r}")

            return call

        api_call, page_call = looking_up(as_page=False), looking_up(as_page=True)
        for _ in range(50):  # warms pools and caches
            await api_call()
            await page_call()
        pids = {"generator": os.getpid(), "web": web.pid, "gateway": gateway.pid,
                "intake": intake.pid}
        try:
            measured = await page_pairs(ctx, "tracking", api_call, page_call, pids, rate=RATE)
        finally:
            await api.aclose()
            await pages.aclose()
    params: dict[str, Any] = {
        "requests_in_store": count, "looked_up": len(known), "rate_per_s": RATE,
        "http_client": ctx.http_client,
        "topology": "web app → gateway → intake, each its own uvicorn process"}
    return [page_result("public_tracking.page", DESCRIPTION, measured,
                        target_p95_ms=TARGET_P95_MS, target_ratio=None, params=params)]
