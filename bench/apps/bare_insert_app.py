"""The bare limit for HTTP submissions: FastAPI, one POST endpoint, exactly one asyncpg INSERT.

No ORM, no validation beyond PostgreSQL's own jsonb parsing, no auth, no middleware. Run by
the bare_insert scenario as `uvicorn bench.apps.bare_insert_app:app` in its own process.

Environment: BENCH_PG_DSN (asyncpg DSN), BENCH_SCHEMA (an existing schema holding the
`submissions` table), BENCH_PG_POOL_SIZE (connections, default 16).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response

from shared.memory import tune_for_serving
from shared.web import NO_FASTAPI_TELEMETRY

DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench_bare")
POOL_SIZE = int(os.environ.get("BENCH_PG_POOL_SIZE", "16"))
if not SCHEMA.isidentifier():
    raise ValueError(f"BENCH_SCHEMA must be a plain identifier, not {SCHEMA!r}")

INSERT = f"INSERT INTO {SCHEMA}.submissions (payload) VALUES ($1::jsonb) RETURNING id"

_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global _pool
    _pool = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    tune_for_serving()  # the same collector settings as the services it is the bar for
    try:
        yield
    finally:
        await _pool.close()
        _pool = None


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
              telemetry=NO_FASTAPI_TELEMETRY)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b"ok", media_type="text/plain")


@app.post("/submissions")
async def submit(request: Request) -> Response:
    body = await request.body()
    assert _pool is not None
    row_id = await _pool.fetchval(INSERT, body.decode())
    return Response(b'{"id":%d}' % row_id, status_code=201, media_type="application/json")
