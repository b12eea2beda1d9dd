"""SLA on real PostgreSQL and RabbitMQ, fed the way production feeds it: by events.

`world` runs the sla service (schema migrated; consumers, relay and deadline scheduler running)
on a test schema and bus namespace, with its own simulated clock set to Sunday 5 September 2027,
09:00 in Amman (three holiday-free weeks follow). A test plays routing and intake by publishing
lifecycle events on the same bus (`world.publish`), listens to what SLA says (`world.heard`),
moves the clock, and asks the API with tokens the platform's issuers would mint.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.sla.main import DEFINITION
from services.sla.models import timers
from shared.auth import TokenIssuer, load_keys
from shared.bus import Bus, Delivery, OutgoingMessage
from shared.clock import SimulatedClock
from shared.db import create_engine
from shared.events.envelope import Envelope, decode_envelope, parse_payload
from shared.events.vocabulary import Role
from shared.migrations import upgrade
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from shared.settings import BaseServiceSettings
from tests.conftest import RabbitMQBusFactory
from tests.platform import eventually
from tests.sla.facts import Event, amman

START = amman(2027, 9, 5, 9)  # a Sunday


@dataclass
class World:
    client: httpx.AsyncClient
    clock: SimulatedClock
    bus: Bus
    app: FastAPI
    issuer: TokenIssuer
    said: list[Envelope] = field(default_factory=list)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def publish(self, *events: Event) -> None:
        await self.bus.publish([OutgoingMessage.from_envelope(e.envelope) for e in events])

    def heard(self, event_type: str, reference: str | None = None) -> list[Any]:
        """The payloads of what SLA said of this type (about this request), in order."""
        return [
            parse_payload(envelope) for envelope in self.said
            if envelope.type == event_type
            and (reference is None or envelope.correlation_id == reference)
        ]

    async def timers(self, reference: str) -> dict[str, Any]:
        async with self.runtime.sessionmaker() as session:
            rows = await session.execute(select(timers).where(timers.c.reference == reference))
            return {row.key: row for row in rows}

    async def until_timers(self, reference: str, *keys: str) -> dict[str, Any]:
        async def present() -> dict[str, Any]:
            found = await self.timers(reference)
            assert set(keys) <= set(found), f"{sorted(found)} lacks some of {keys}"
            return found

        return await eventually(present)

    def auth(self, role: Role, subject: str | None = None, *, entities: Iterable[str] = (),
             sectors: Iterable[str] = ()) -> dict[str, str]:
        token = self.issuer.issue(subject or str(uuid.uuid4()), role, entity_ids=entities,
                                  sector_ids=sectors)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def world(
    postgres_url: str, pg_schema: str, rabbit_bus_factory: RabbitMQBusFactory
) -> AsyncIterator[World]:
    async with running_sla(postgres_url, pg_schema, rabbit_bus_factory) as built:
        yield built


@contextlib.asynccontextmanager
async def running_sla(
    postgres_url: str, schema: str, buses: RabbitMQBusFactory, **overrides: Any
) -> AsyncIterator[World]:
    clock = SimulatedClock()
    clock.set(START)
    settings = DEFINITION.load_settings(
        environment="test", database_url=postgres_url, database_schema=schema,
        outbox_poll_interval_s=0.05, scheduler_poll_interval_s=0.2, **overrides,
    )
    await migrate_to_head(DEFINITION, settings)
    bus = await buses(name="sla")
    world_said: list[Envelope] = []

    async def listen(delivery: Delivery) -> None:
        world_said.append(decode_envelope(delivery.body))
        await delivery.ack()

    await bus.subscribe(bus.queue_name("test", "sla-said"), ["sla.#"], listen, prefetch=100)
    app = create_service_app(DEFINITION, settings, bus=bus, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:
            yield World(client=client, clock=clock, bus=bus, app=app, issuer=token_issuer(),
                        said=world_said)


@contextlib.asynccontextmanager
async def migrated(url: str, schema: str) -> AsyncIterator[AsyncEngine]:
    """An engine on SLA's schema (or SQLite file), migrated to head; no service running."""
    engine = create_engine(url, schema=schema, application_name=f"bkh-test-{schema}")
    try:
        await upgrade(engine, migrations=DEFINITION.migrations, schema=schema)
        yield engine
    finally:
        await engine.dispose()


def token_issuer() -> TokenIssuer:
    """Tokens as the platform's issuers mint them: the development keys, in real time."""
    settings = BaseServiceSettings(service_name="tests")
    _keys, signing_key = load_keys(settings)
    assert signing_key is not None
    return TokenIssuer(signing_key, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
