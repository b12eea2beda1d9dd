"""The analytics benchmark's dataset: N realistic requests in an analytics schema, by COPY.

    python -m bench.scenarios.analytics_dataset                   # 10,000,000 requests
    python -m bench.scenarios.analytics_dataset --requests 200000  # what --quick uses
    python -m bench.scenarios.analytics_dataset --force            # make it again

Realistic means shaped like the platform's traffic: three years of requests growing over time,
fewer on Fridays and Saturdays, mostly in office hours; the seed directory's entities weighted
unevenly (a few big ones, a long tail); governorates by population; kinds, channels, closing
codes, ratings, escalations, transfers and reopenings in plausible shares; working-time
durations drawn log-normally. Seeded, so two datasets of one size are the same.

The requests go into the projection (`requests`) by COPY with its indexes dropped and built
again afterwards; the rollups are then summed from those rows by SQL, each event of a request
(receipt, first response, response, closing, rating, escalation, transfer, reopening) counted
on its own hour and day as the consumer would have counted it. A marker table records what was
made, so the scenario reuses a prepared dataset of the right size instead of making it again.
The schema is `bench_analytics_<N>` in the benchmark's database; `--drop` removes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import asyncpg

from bench.harness import DEFAULT_POSTGRES_URL, REPO_ROOT, plain_postgres_dsn
from services.analytics.main import DEFINITION
from services.analytics.measures import (
    BUCKETS,
    COUNTERS,
    DURATION_EDGES_WD,
    closing_counter,
    first_response_counter,
    rating_counter,
    resolution_counter,
)
from shared.calendar import AMMAN
from shared.events.vocabulary import ClosingCode
from shared.runtime import migrate_to_head
from shared.settings import BaseServiceSettings

FULL_REQUESTS = 10_000_000
QUICK_REQUESTS = 200_000
YEARS = 3
CHUNK = 50_000
SEED = 20_180_101

GOVERNORATES = {  # population shares, roughly
    "JO-AM": 42, "JO-IR": 18, "JO-AZ": 15, "JO-BA": 5, "JO-MA": 6, "JO-KA": 3, "JO-JA": 2.5,
    "JO-MD": 2, "JO-AJ": 1.7, "JO-AQ": 2, "JO-MN": 1.6, "JO-AT": 1,
}
KINDS = {"complaint": 60, "inquiry": 25, "suggestion": 10, "praise": 5}
CHANNELS = {"mobile_app": 45, "portal": 30, "call_center": 15, "chatbot": 4, "complaint_box": 3,
            "service_center": 3}
CLOSING = {"resolved": 65, "partly_resolved": 12, "rejected": 5, "duplicate": 4, "withdrawn": 6,
           "no_response_from_requester": 8}
RATINGS = {1: 12, 2: 6, 3: 12, 4: 25, 5: 45}
OPEN_STATUSES = {"assigned": 30, "in_progress": 45, "awaiting_information": 10, "responded": 10,
                 "triage": 3, "under_review": 2}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 12, 12, 11, 9, 7, 6, 5, 5, 4, 3, 2, 1]
WEEKDAY_WEIGHTS = {6: 1.15, 0: 1.1, 1: 1.05, 2: 1.0, 3: 0.95, 4: 0.35, 5: 0.55}  # Sun..Sat
COLUMNS = (
    "reference", "kind", "channel", "entity", "sector", "governorate", "city", "status",
    "closing_code", "legal_ground", "submitted_at", "submitted_day", "first_response_at",
    "responded_at", "closed_at", "due_at", "rating", "transfers", "escalation_level", "reopened",
    "breached", "on_time", "paused_since", "paused_s", "first_response_wd", "resolution_wd",
)
WORKING_DAY = timedelta(hours=7)
CITIES = {"JO-AM": ["عمان", "سحاب", "ناعور"], "JO-IR": ["إربد", "الرمثا"],
          "JO-AZ": ["الزرقاء", "الرصيفة"], "JO-BA": ["السلط"], "JO-MA": ["المفرق"],
          "JO-KA": ["الكرك"], "JO-JA": ["جرش"], "JO-MD": ["مادبا"], "JO-AJ": ["عجلون"],
          "JO-AQ": ["العقبة"], "JO-MN": ["معان"], "JO-AT": ["الطفيلة"]}


V = TypeVar("V")


def schema_for(requests: int) -> str:
    return f"bench_analytics_{requests}"


@dataclass(frozen=True)
class Directory:
    sectors: list[dict[str, Any]]
    entities: list[dict[str, Any]]


def directory() -> Directory:
    seed = json.loads((REPO_ROOT / "services/routing/seed_data/entities.json")
                      .read_text(encoding="utf-8"))
    return Directory(seed["sectors"], seed["entities"])


class Draw(Generic[V]):
    """Weighted choices with precomputed cumulative weights (random.choices is the hot path)."""

    def __init__(self, rng: random.Random, weights: Mapping[V, float]) -> None:
        self.rng = rng
        self.values = list(weights)
        total = 0.0
        self.cumulative: list[float] = []
        for value in weights.values():
            total += value
            self.cumulative.append(total)

    def __call__(self) -> V:
        return self.rng.choices(self.values, cum_weights=self.cumulative)[0]


def _days(end: date) -> tuple[list[date], list[float]]:
    """Every day of the span and its weight: growth over the years, quieter weekends."""
    start = end - timedelta(days=365 * YEARS - 1)
    days, weights = [], []
    for index in range((end - start).days + 1):
        day = start + timedelta(days=index)
        growth = 0.6 + 0.8 * index / (365 * YEARS)
        days.append(day)
        weights.append(growth * WEEKDAY_WEIGHTS[day.weekday()])
    return days, weights


def _durations_wd(rng: random.Random, median: float, sigma: float) -> float:
    return min(rng.lognormvariate(math.log(median), sigma), 120.0)


def requests_rows(count: int, end: date, entities: list[dict[str, Any]]
                  ) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(SEED)
    days, day_weights = _days(end)
    day_cumulative = []
    total = 0.0
    for weight in day_weights:
        total += weight
        day_cumulative.append(total)
    # A few big entities and a long tail (Zipf-like).
    entity_draw = Draw(rng, {i: 1 / (rank + 1) ** 0.9 for rank, i in
                             enumerate(rng.sample(range(len(entities)), len(entities)))})
    governorate = Draw(rng, GOVERNORATES)
    kind, channel = Draw(rng, KINDS), Draw(rng, CHANNELS)
    closing, rating = Draw(rng, CLOSING), Draw(rng, RATINGS)
    open_status = Draw(rng, OPEN_STATUSES)
    hour = Draw(rng, dict(enumerate(HOUR_WEIGHTS)))
    now = datetime.combine(end + timedelta(days=1), datetime.min.time(), AMMAN)
    # Days drawn first and sorted: rows come in the order the platform would have received them
    # (the table's pages then hold a period together, as in production).
    drawn = sorted(rng.choices(range(len(days)), cum_weights=day_cumulative, k=count))
    for number, day_index in enumerate(drawn):
        day = days[day_index]
        submitted = datetime.combine(day, datetime.min.time(), AMMAN) + timedelta(
            hours=hour(), minutes=rng.randrange(60), seconds=rng.randrange(60))
        entity = entities[entity_draw()]
        gov = governorate()
        age_days = (now - submitted).total_seconds() / 86400
        # Requests older than a few weeks are nearly all finished; recent ones often open.
        p_open = (0.6 if age_days < 3 else 0.25 if age_days < 14 else 0.04 if age_days < 60
                  else 0.003)
        # None once the request has not come that far.
        first_response_wd: float | None
        resolution_wd: float | None
        first_response_at: datetime | None
        responded_at: datetime | None
        on_time: bool | None
        first_response_wd = _durations_wd(rng, 0.6, 0.9)
        resolution_wd = max(first_response_wd, _durations_wd(rng, 4.0, 0.8))
        first_response_at = submitted + first_response_wd * WORKING_DAY * 2.0
        escalation = 2 if first_response_wd > 2 else 1 if first_response_wd > 1 else 0
        responded_at = submitted + resolution_wd * WORKING_DAY * 2.2
        on_time = resolution_wd <= 7 and escalation == 0
        status, code, closed_at, rated, legal = "closed", None, None, None, None
        if rng.random() < p_open or responded_at > now:
            status = open_status()
            if first_response_at > now:
                first_response_at, first_response_wd = None, None
            if status != "responded" or responded_at > now:
                responded_at, on_time = None, None
            resolution_wd = None
        elif rng.random() < 0.02:
            status, legal, closed_at = "rejected", "before_court", first_response_at
            responded_at, on_time, resolution_wd = None, None, None
        else:
            code = closing()
            closed_at = min(responded_at + timedelta(hours=rng.uniform(1, 30)), now)
            if rng.random() < 0.55:
                rated = rating()
        cities = CITIES[gov]
        yield (
            f"JO-{day.year}-{number:08d}", kind(), channel(), entity["code"], entity["sector"],
            gov, cities[rng.randrange(len(cities))], status, code, legal,
            submitted.astimezone(UTC), day, first_response_at, responded_at, closed_at, None,
            rated, 1 if rng.random() < 0.08 else 0, escalation,
            1 if status == "closed" and rng.random() < 0.03 else 0,
            on_time is False, on_time, None, 0.0,
            round(first_response_wd, 4) if first_response_wd is not None else None,
            round(resolution_wd, 4) if resolution_wd is not None else None,
        )


# --- rollups from the rows, by SQL ---------------------------------------------------------------


def _bucket_sql(column: str) -> str:
    whens = " ".join(f"WHEN {column} < {edge} THEN {index}"
                     for index, edge in enumerate(DURATION_EDGES_WD))
    return f"CASE {whens} ELSE {len(DURATION_EDGES_WD)} END"


def _events_sql() -> str:
    """Every counted event of every request: (at, dimensions, counter increments)."""
    resolved_codes = {code.value: closing_counter(code) for code in ClosingCode}

    def part(at: str, where: str, counters: dict[str, str]) -> str:
        values = ", ".join(f"coalesce({counters.get(name, '0')}, 0)::int AS {name}"
                           for name in COUNTERS)
        return (f"SELECT {at} AS at, coalesce(sector, '') AS sector, "
                f"coalesce(entity, '') AS entity, coalesce(governorate, '') AS governorate, "
                f"kind, channel, {values} FROM requests WHERE {where}")

    fr_bucket, res_bucket = _bucket_sql("first_response_wd"), _bucket_sql("resolution_wd")
    parts = [
        part("submitted_at", "true", {"received": "1"}),
        part("first_response_at", "first_response_at IS NOT NULL", {
            "first_responded": "1",
            **{first_response_counter(b): f"({fr_bucket} = {b})::int" for b in range(BUCKETS)},
        }),
        part("responded_at", "responded_at IS NOT NULL", {
            "answered": "1", "deadline_met": "(on_time IS TRUE)::int",
            "deadline_missed": "(on_time IS FALSE)::int", "breached": "(on_time IS FALSE)::int"}),
        part("closed_at", "status = 'closed'", {
            "closed": "1", "reopened": "reopened",
            **{column: f"(closing_code = '{code}')::int" for code, column in
               resolved_codes.items()},
            **{resolution_counter(b): f"({res_bucket} = {b})::int" for b in range(BUCKETS)},
            "rated": "(rating IS NOT NULL)::int",
            **{rating_counter(s): f"(rating = {s})::int" for s in range(1, 6)},
        }),
        part("closed_at", "status = 'rejected'", {"inadmissible": "1"}),
        part("submitted_at + interval '1 day'", "escalation_level >= 1", {"escalated_1": "1"}),
        part("submitted_at + interval '2 days'", "escalation_level >= 2", {"escalated_2": "1"}),
        part("first_response_at", "transfers > 0 AND first_response_at IS NOT NULL",
             {"transferred": "transfers"}),
    ]
    return " UNION ALL ".join(parts)


def _sums(cast: str = "") -> str:
    # sum() of an int adds in bigint; of a bigint, in numeric (several times slower).
    return ", ".join(f"sum({name}{cast})" for name in COUNTERS)


async def build_rollups(connection: asyncpg.Connection) -> None:
    # Rows in time order, as the consumer writes them day after day: a period's rows then sit
    # on few pages, which is what the indicator queries rely on.
    day = "(at AT TIME ZONE 'Asia/Amman')::date"
    await connection.execute(
        f"INSERT INTO rollup_day_full (day, sector, entity, governorate, kind, channel, "
        f"{', '.join(COUNTERS)}) SELECT {day}, sector, entity, governorate, kind, channel, "
        f"{_sums()} FROM ({_events_sql()}) AS events GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1")
    await connection.execute(
        f"INSERT INTO rollup_hour_entity (hour, sector, entity, {', '.join(COUNTERS)}) "
        f"SELECT date_trunc('hour', at), sector, entity, {_sums()} "
        f"FROM ({_events_sql()}) AS events GROUP BY 1, 2, 3 ORDER BY 1")
    for table, dims in (("rollup_day_entity", "sector, entity"),
                        ("rollup_day_geo", "sector, governorate")):
        await connection.execute(
            f"INSERT INTO {table} (day, {dims}, {', '.join(COUNTERS)}) "
            f"SELECT day, {dims}, {_sums('::int')} FROM rollup_day_full GROUP BY day, {dims} "
            "ORDER BY day")
    await connection.execute(
        "INSERT INTO open_counts (sector, entity, governorate, kind, channel, status, n) "
        "SELECT coalesce(sector, ''), coalesce(entity, ''), coalesce(governorate, ''), kind, "
        "channel, status, count(*) FROM requests WHERE status NOT IN ('closed', 'rejected') "
        "GROUP BY 1, 2, 3, 4, 5, 6")
    await connection.execute(
        "INSERT INTO open_by_day (sector, entity, day, n) "
        "SELECT coalesce(sector, ''), coalesce(entity, ''), submitted_day, count(*) "
        "FROM requests WHERE status NOT IN ('closed', 'rejected') GROUP BY 1, 2, 3")
    await connection.execute(
        "INSERT INTO freshness (id, events_applied, last_event_at) "
        "SELECT 1, count(*), max(submitted_at) FROM requests")


# --- making and finding datasets -----------------------------------------------------------------


async def dataset_ready(dsn: str, requests: int) -> dict[str, Any] | None:
    """The marker of a prepared dataset of this size, or None."""
    connection = await asyncpg.connect(plain_postgres_dsn(dsn))
    try:
        row = await connection.fetchrow(
            "SELECT requests, end_day, seconds FROM "
            f'"{schema_for(requests)}".bench_dataset WHERE requests = $1', requests)
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return None
    finally:
        await connection.close()
    return dict(row) if row else None


async def make_dataset(dsn: str, requests: int, log: Any = print) -> dict[str, Any]:
    schema = schema_for(requests)
    started = time.monotonic()
    admin = await asyncpg.connect(plain_postgres_dsn(dsn))
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.close()
    await migrate_to_head(DEFINITION, _settings(dsn, schema))
    # Wide rows summed into many groups: in memory, in one process, without JIT (compiling
    # hundreds of expressions costs more than it saves here).
    connection = await asyncpg.connect(plain_postgres_dsn(dsn), server_settings={
        "search_path": schema, "work_mem": "1GB", "jit": "off",
        "max_parallel_workers_per_gather": "0"})
    try:
        seed = directory()
        await connection.executemany(
            "INSERT INTO sectors (code, name_ar, name_en, retired) VALUES ($1, $2, $3, false)",
            [(s["code"], s["name_ar"], s["name_en"]) for s in seed.sectors])
        await connection.executemany(
            "INSERT INTO entities (code, sector, parent, name_ar, name_en, retired) "
            "VALUES ($1, $2, NULL, $3, $4, false)",
            [(e["code"], e["sector"], e["name_ar"], e["name_en"]) for e in seed.entities])
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 "
            "AND tablename = 'requests' AND indexname <> 'pk_requests'", schema)
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        end = datetime.now(AMMAN).date()
        rows = requests_rows(requests, end, seed.entities)
        copied = 0
        while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
            await connection.copy_records_to_table("requests", records=chunk, columns=COLUMNS)
            copied += len(chunk)
            if copied % 1_000_000 < CHUNK:
                log(f"  {copied:,} requests copied ({time.monotonic() - started:.0f} s)")
        log(f"  indexes ({time.monotonic() - started:.0f} s)")
        for index in indexes:
            await connection.execute(index["indexdef"])
        log(f"  rollups ({time.monotonic() - started:.0f} s)")
        await build_rollups(connection)
        for table in ("requests", "rollup_day_full", "rollup_hour_entity", "rollup_day_entity",
                      "rollup_day_geo", "open_counts"):
            await connection.execute(f"ANALYZE {table}")
        seconds = round(time.monotonic() - started)
        await connection.execute(
            "CREATE TABLE bench_dataset (requests bigint, end_day date, seconds integer)")
        await connection.execute("INSERT INTO bench_dataset VALUES ($1, $2, $3)",
                                 requests, end, seconds)
    finally:
        await connection.close()
    log(f"dataset {schema}: {requests:,} requests in {seconds} s")
    return {"requests": requests, "end_day": end, "seconds": seconds}


def _settings(dsn: str, schema: str) -> BaseServiceSettings:
    url = "postgresql+asyncpg://" + plain_postgres_dsn(dsn).split("://", 1)[1]
    return DEFINITION.load_settings(database_url=url, database_schema=schema)


async def ensure_dataset(dsn: str, requests: int, log: Any = print) -> dict[str, Any]:
    ready = await dataset_ready(dsn, requests)
    if ready is not None:
        # A dataset made by older code: its schema follows the migrations (they fill what
        # they add from the projection), so it stays usable without being made again.
        await migrate_to_head(DEFINITION, _settings(dsn, schema_for(requests)))
        return ready
    log(f"no prepared dataset of {requests:,} requests: making it (see the module docstring)")
    return await make_dataset(dsn, requests, log)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios.analytics_dataset")
    parser.add_argument("--requests", type=int, default=FULL_REQUESTS)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--force", action="store_true", help="make it even if it exists")
    parser.add_argument("--drop", action="store_true", help="remove the dataset and stop")
    args = parser.parse_args()

    async def run() -> None:
        if args.drop:
            admin = await asyncpg.connect(plain_postgres_dsn(args.postgres_url))
            try:
                await admin.execute(f'DROP SCHEMA IF EXISTS "{schema_for(args.requests)}" CASCADE')
            finally:
                await admin.close()
        elif args.force:
            await make_dataset(args.postgres_url, args.requests)
        else:
            print(await ensure_dataset(args.postgres_url, args.requests))

    asyncio.run(run())


if __name__ == "__main__":
    main()

