"""A database that is away is a 503 with Retry-After, so clients try again; and the pool comes
back by itself. On a PostgreSQL of the test's own (tests/private_postgres.py), really stopped,
really shutting down and really killing backends: the shared server is never touched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, create_sessionmaker
from shared.errors import install_problem_handlers
from tests.private_postgres import PrivatePostgres, private_postgres

APPLICATION = "bkh-test-away"


@dataclass
class Served:
    database: PrivatePostgres
    engine: AsyncEngine
    client: httpx.AsyncClient

    async def status(self) -> int:
        return (await self.client.get("/count", headers={"Accept-Language": "en"})).status_code


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """A route that reads through the kernel's engine, as every service's routes do."""
    with private_postgres() as database:
        engine = create_engine(database.url, schema="public", application_name=APPLICATION,
                               pool_size=2)
        sessions = create_sessionmaker(engine)
        app = FastAPI()
        install_problem_handlers(app)

        @app.get("/count")
        async def count() -> int:
            async with sessions.begin() as session:
                return int((await session.execute(text("SELECT count(*) FROM pg_class")))
                           .scalar_one())

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Served(database, engine, client)
        finally:
            await engine.dispose()


async def _refused_as_starting_or_stopping(dsn: str, limit_s: float = 10) -> None:
    """Until PostgreSQL answers a new connection with 57P03 ("cannot connect now")."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            connection = await asyncpg.connect(dsn)
        except asyncpg.CannotConnectNowError:
            return
        await connection.close()
        assert time.monotonic() < deadline, "PostgreSQL kept accepting connections"
        await asyncio.sleep(0.05)


async def test_a_database_shutting_down_or_stopped_is_a_503_to_retry_and_the_pool_recovers(
    served: Served,
) -> None:
    assert await served.status() == 200
    # Shutting down: PostgreSQL refuses new connections (57P03) while one session stays open.
    holder = await asyncpg.connect(served.database.dsn)
    await served.engine.dispose()  # no pooled connection left: the next request connects
    served.database.stop(mode="smart", wait=False)
    await _refused_as_starting_or_stopping(served.database.dsn)
    refused = await served.client.get("/count", headers={"Accept-Language": "en"})
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/service-unavailable"
    assert "try again" in refused.json()["detail"]
    in_arabic = await served.client.get("/count", headers={"Accept-Language": "ar"})
    assert in_arabic.status_code == 503
    assert in_arabic.json()["title"] == "الخدمة غير متاحة مؤقتاً، حاول لاحقاً"

    # Stopped: connections refused outright.
    await holder.close()
    served.database.wait_stopped()
    assert await served.status() == 503

    # Back: the very next request is served, with nothing restarted on our side.
    served.database.start()
    assert await served.status() == 200


async def test_backends_killed_under_the_pool_cost_at_most_one_503_each(served: Served) -> None:
    for _ in range(3):  # both pooled connections in use once
        assert await served.status() == 200
    async with asyncio.timeout(10):
        admin = await asyncpg.connect(served.database.dsn)
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1", APPLICATION)
        await admin.close()
    assert killed >= 1
    statuses = [await served.status() for _ in range(6)]
    # A connection found dead invalidates the pool: the request on it is a 503, the rest reconnect.
    assert statuses.count(503) <= 1, statuses
    assert statuses[-3:] == [200, 200, 200], statuses
