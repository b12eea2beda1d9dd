"""sla_pgbench_claim: the bare limit of firing timers — pgbench claiming due rows and marking them.

A table shaped like SLA's timers (id, due instant, state; the partial index on pending due
instants) holds a million timers due in a month and enough due ones; pgbench runs the claim
every SLA scheduler round runs, without anything else (no events, no outbox, no Python):

    WITH claimed AS (SELECT id FROM t WHERE state = 'pending' AND due_at <= now()
                     ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED)
    UPDATE t SET state = 'fired', fired_at = now() FROM claimed WHERE t.id = claimed.id

One client, like one scheduler replica; every transaction finds a full batch of 500. The figure
is rows claimed and updated per second (pgbench's tps × 500, checked against the table).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from bench.harness import (
    BenchContext,
    CpuMeter,
    Figures,
    Result,
    children_cpu_s,
    plain_postgres_dsn,
)
from bench.scenarios import scenario

BATCH = 500
DESCRIPTION = ("pgbench, one client: claim the 500 oldest due rows of a timers-shaped table "
               "(1,000,000 open, partial index on pending due instants) with FOR UPDATE SKIP "
               "LOCKED and mark them fired, in one statement; rows per second.")
CLAIM = """WITH claimed AS (
  SELECT id FROM t WHERE state = 'pending' AND due_at <= now()
  ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED)
UPDATE t SET state = 'fired', fired_at = now() FROM claimed WHERE t.id = claimed.id;
"""


def pgbench_command(dsn: str, script: Path, transactions: int) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(plain_postgres_dsn(dsn))
    command = ["pgbench", "-n", "-c", "1", "-j", "1", "-t", str(transactions), "-f", str(script),
               "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
               "-U", unquote(parts.username or "postgres"), parts.path.lstrip("/") or "postgres"]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return command, env


@scenario("sla_pgbench_claim", description=DESCRIPTION)
async def sla_pgbench_claim(ctx: BenchContext) -> list[Result]:
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    open_timers = ctx.pick(1_000_000, 100_000)
    transactions = ctx.pick(400, 80)
    due = transactions * BATCH + 10_000
    schema = f"bench_sla_pgbench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        await connection.execute(f'SET search_path TO "{schema}"')
        await connection.execute(
            "CREATE TABLE t (id bigserial PRIMARY KEY, due_at timestamptz NOT NULL, "
            "state text NOT NULL, fired_at timestamptz)")
        await connection.execute(
            "CREATE INDEX t_pending_due ON t (due_at) WHERE state = 'pending'")
        ctx.log(f"  loading {open_timers:,} open and {due:,} due rows")
        await connection.execute(
            "INSERT INTO t (due_at, state) SELECT now() + interval '30 days' "
            "+ g * interval '1 second', 'pending' FROM generate_series(1, $1) g", open_timers)
        await connection.execute(
            "INSERT INTO t (due_at, state) SELECT now() - g * interval '1 millisecond', "
            "'pending' FROM generate_series(1, $1) g", due)
        await connection.execute("VACUUM ANALYZE t")

        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "claim.sql"
            script.write_text(CLAIM)
            command, env = pgbench_command(ctx.postgres_dsn, script, transactions)
            env["PGOPTIONS"] = f"-c search_path={schema}"
            ctx.log(f"  pgbench: {transactions} claims of {BATCH}")
            children_before = children_cpu_s()
            meter = CpuMeter({}).start()
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
            output, _ = await process.communicate()
            cpu = meter.stop(exited={"pgbench": children_cpu_s() - children_before})
        text = output.decode(errors="replace")
        if process.returncode != 0:
            raise RuntimeError(f"pgbench failed: {text[-2000:]}")
        tps = float(_field(text, r"tps = ([0-9.]+) \(without initial connection time\)"))
        latency_ms = float(_field(text, r"latency average = ([0-9.]+) ms"))
        fired = await connection.fetchval("SELECT count(*) FROM t WHERE state = 'fired'")
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()
    if fired != transactions * BATCH:
        raise RuntimeError(f"{fired} rows fired, expected {transactions * BATCH}")
    figures = Figures(throughput_per_s=tps * BATCH, count=fired, errors=0,
                      duration_s=transactions / tps, p50_ms=latency_ms, p90_ms=None,
                      p99_ms=None, max_ms=None)
    return [Result(
        name="sla_pgbench_claim", description=DESCRIPTION, mode="closed-loop", figures=figures,
        params={"clients": 1, "batch": BATCH, "transactions": transactions,
                "open_timers": open_timers},
        extra={"claims_per_s": round(tps, 1), "cpu": cpu},
        notes=["throughput = rows claimed and marked fired per second; p50 = pgbench's "
               "average latency of one claim of 500"],
    )]


def _field(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"pgbench output without {pattern!r}: {text[-1000:]}")
    return found.group(1)
