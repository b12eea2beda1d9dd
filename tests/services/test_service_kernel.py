"""Every service stands on the kernel: migrations to head, health, metrics, the operator clock.

Run for each of the six services, on real PostgreSQL + RabbitMQ (distributed) and on SQLite with
the in-process bus (embedded).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services import SERVICES
from services.__main__ import definition_of
from shared.auth import KeySet, TokenIssuer, generate_signing_key, load_keys
from shared.bus.rabbitmq import delete_declared
from shared.clock import Clock, SimulatedClock, SystemClock
from shared.db import create_engine
from shared.events.vocabulary import Role
from shared.migrations import current_revision, downgrade, head_revision, upgrade
from shared.runtime import ServiceDefinition
from shared.service import create_service_app
from shared.settings import BaseServiceSettings


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


async def migrate(definition: ServiceDefinition, settings: BaseServiceSettings) -> None:
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name=f"bkh-test-{settings.schema_name}")
    try:
        await upgrade(engine, migrations=definition.migrations, schema=settings.schema_name)
        assert await current_revision(engine) == head_revision(definition.migrations)
    finally:
        await engine.dispose()


@pytest.fixture
async def distributed(postgres_url: str, pg_schema: str, amqp_url: str, bus_namespace: str
                      ) -> AsyncIterator[dict[str, str]]:
    yield {"database_url": postgres_url, "database_schema": pg_schema, "amqp_url": amqp_url,
           "bus_namespace": bus_namespace}
    # What the services declared on the broker goes with the test, as its schema does.
    queues = [q for name in SERVICES for q in definition_of(name).queue_names(bus_namespace)]
    await delete_declared(amqp_url, bus_namespace, queues,
                          retry_delays_ms=BaseServiceSettings().retry_delays_ms)


@pytest.mark.parametrize("name", SERVICES)
async def test_each_service_migrates_to_head_and_is_then_ready(
    name: str, distributed: dict[str, str]
) -> None:
    definition = definition_of(name)
    settings = definition.load_settings(**distributed)
    async with serving(create_service_app(definition, settings)) as client:
        before = await client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["checks"]["schema"].startswith("at None")
        await migrate(definition, settings)
        after = await client.get("/readyz")
        assert after.status_code == 200, after.json()
        assert after.json()["checks"] == {"database": "ok", "schema": "ok", "bus": "ok"}
        assert (await client.get("/livez")).json() == {"status": "ok"}
        metrics = await client.get("/metrics")
        assert "bkh_http_requests_total" in metrics.text


@pytest.mark.parametrize("name", SERVICES)
async def test_each_service_migrates_on_sqlite_and_back(name: str, tmp_path: Path) -> None:
    definition = definition_of(name)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/{name}.db", schema=name,
                           application_name="test")
    try:
        await upgrade(engine, migrations=definition.migrations, schema=name)
        assert await current_revision(engine) == head_revision(definition.migrations)
        await downgrade(engine, migrations=definition.migrations, to="base")
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()


class ShiftedClock:
    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        return datetime.now(UTC) + self.by


def operator_token(role: Role = Role.operator, *, clock: Clock | None = None) -> str:
    settings = BaseServiceSettings(service_name="test")
    _keys, signing = load_keys(settings)
    assert signing is not None
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         clock=clock or SystemClock())
    return issuer.issue("ops-1", role)


async def test_an_operator_moves_the_simulated_clock_and_nobody_else_can(tmp_path: Path) -> None:
    definition = definition_of("sla")
    settings = definition.load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/sla.db")
    clock = SimulatedClock()
    async with serving(create_service_app(definition, settings, clock=clock)) as client:
        start = clock.now()
        target = (start + timedelta(days=3)).isoformat()
        citizen = {"Authorization": f"Bearer {operator_token(Role.citizen)}"}
        operator = {"Authorization": f"Bearer {operator_token()}"}
        assert (await client.put("/ops/clock", json={"now": target})).status_code == 401
        refused = await client.put("/ops/clock", json={"now": target}, headers=citizen)
        assert refused.status_code == 403
        assert clock.now() - start < timedelta(minutes=1)
        moved = await client.put("/ops/clock", json={"now": target}, headers=operator)
        assert moved.status_code == 200
        assert clock.now() - start >= timedelta(days=3)
        assert (await client.get("/ops/clock")).json()["offset_seconds"] >= 3 * 86400 - 1


async def test_tokens_are_judged_on_real_time_whatever_the_simulated_clock_says(
    tmp_path: Path,
) -> None:
    """The operator's jump moves the business clock, never a token's life: the token that made
    the jump works after it, and one minted on the simulated day (as an issuer reading the
    business clock would) looks issued in the future and is refused."""
    definition = definition_of("sla")
    settings = definition.load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/sla.db")
    clock = SimulatedClock()
    async with serving(create_service_app(definition, settings, clock=clock)) as client:
        operator = {"Authorization": f"Bearer {operator_token()}"}
        day = clock.now() + timedelta(days=2)
        for target in (day, day + timedelta(hours=1)):
            moved = await client.put("/ops/clock", json={"now": target.isoformat()},
                                     headers=operator)
            assert moved.status_code == 200, moved.json()
        on_the_simulated_day = operator_token(clock=ShiftedClock(clock.offset))
        refused = await client.put(
            "/ops/clock", json={"now": (day + timedelta(hours=2)).isoformat()},
            headers={"Authorization": f"Bearer {on_the_simulated_day}"})
        assert refused.status_code == 401


async def test_production_has_no_operator_clock_at_all(
    tmp_path: Path, distributed: dict[str, str]
) -> None:
    signing = generate_signing_key("prod-key-1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeySet.of(signing).to_jwks()))
    definition = definition_of("sla")
    settings = definition.load_settings(
        environment="production", jwt_public_keys_file=jwks, **distributed
    )
    app = create_service_app(definition, settings)
    async with serving(app) as client:
        assert (await client.get("/ops/clock")).status_code == 404
        assert (await client.put("/ops/clock", json={"now": "2030-01-01T00:00:00Z"})
                ).status_code == 404
    with pytest.raises(ValueError, match="BKH_SIMULATED_CLOCK must be off"):
        definition.load_settings(environment="production", jwt_public_keys_file=jwks,
                                 simulated_clock=True, **distributed)
    with pytest.raises(RuntimeError, match="simulated clock cannot exist in production"):
        create_service_app(definition, settings, clock=SimulatedClock())
