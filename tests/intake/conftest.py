"""Intake under test: the real service on PostgreSQL, the civil-registry simulator over real HTTP.

`intake` starts the service app (its own PostgreSQL schema, migrated) with the outbox relay off,
so the events it wrote stay in its outbox for the test to read; `intake_with_bus` also runs its
consumers on RabbitMQ, for tests that feed it lifecycle and directory events. The registry
simulator listens on a free port for the whole session; Redis, for the rate limits shared by
replicas, is the local one (or `BKH_TEST_REDIS_URL`).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from services.intake.main import DEFINITION
from services.intake.models import outbox
from shared.auth import Role, TokenIssuer, load_keys
from shared.bus import Bus, OutgoingMessage, RabbitMQBus
from shared.clock import SimulatedClock
from shared.events.envelope import EventPayload, new_envelope
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from shared.settings import BaseServiceSettings
from simulators.civil_registry import SimulatorSettings, create_simulator
from simulators.serving import serving
from tests.conftest import RabbitMQBusFactory

CLIENT_ADDRESS = "198.51.100.7"
# A Sunday morning in Amman: working time, so deadlines are easy to reason about.
SUNDAY_MORNING = datetime(2030, 3, 3, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
async def registry_url() -> AsyncIterator[str]:
    async with serving(create_simulator(SimulatorSettings())) as url:
        yield url


def _issuer(wall_clock: SimulatedClock) -> TokenIssuer:
    settings = BaseServiceSettings(service_name="tests")
    _keys, signing = load_keys(settings)
    assert signing is not None
    return TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                       clock=wall_clock)


@dataclass
class IntakeUnderTest:
    app: FastAPI
    client: httpx.AsyncClient
    clock: SimulatedClock
    # Real time until a test moves it: what tokens and sessions live by (`shared.clock`).
    wall_clock: SimulatedClock
    issuer: TokenIssuer

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def auth(self, role: Role, subject: str | None = None, **scope: Any) -> dict[str, str]:
        token = self.issuer.issue(subject or str(uuid.uuid4()), role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        """The payloads of `event_type` intake wrote into its outbox, oldest first."""
        async with self.runtime.sessionmaker() as session:
            rows = await session.execute(
                select(outbox.c.body).where(outbox.c.event_type == event_type)
                .order_by(outbox.c.id)
            )
            return [json.loads(row.body)["payload"] for row in rows]

    async def count(self, table: str) -> int:
        async with self.runtime.sessionmaker() as session:
            return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


@contextlib.asynccontextmanager
async def intake_app(
    postgres_url: str, schema: str, registry_url: str, *, clock: SimulatedClock,
    bus: Bus | None = None, **overrides: Any,
) -> AsyncIterator[IntakeUnderTest]:
    settings = DEFINITION.load_settings(**{
        "environment": "test",
        "database_url": postgres_url,
        "database_schema": schema,
        "database_pool_size": 5,
        "civil_registry_url": registry_url,
        "run_workers": False,
        **overrides,
    })
    await migrate_to_head(DEFINITION, settings)
    wall_clock = SimulatedClock()
    app = create_service_app(DEFINITION, settings, clock=clock, bus=bus, wall_clock=wall_clock)
    async with app.router.lifespan_context(app):
        if bus is not None:  # consumers only: the outbox stays readable by the test
            await app.state.runtime.start_consumers()
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield IntakeUnderTest(app=app, client=client, clock=clock, wall_clock=wall_clock,
                                  issuer=_issuer(wall_clock))


def sunday_clock() -> SimulatedClock:
    clock = SimulatedClock()
    clock.set(SUNDAY_MORNING)
    return clock


@pytest.fixture
async def intake(
    postgres_url: str, pg_schema: str, registry_url: str
) -> AsyncIterator[IntakeUnderTest]:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock()) as service:
        yield service


@dataclass
class Broker:
    """Publishes events onto the test's RabbitMQ namespace, as other services would."""

    bus: RabbitMQBus
    clock: SimulatedClock

    async def publish(self, payload: EventPayload, *, producer: str = "routing",
                      correlation_id: str | None = None, at: datetime | None = None) -> None:
        envelope = new_envelope(payload, producer=producer, clock=self.clock,
                                correlation_id=correlation_id)
        if at is not None:
            envelope = envelope.model_copy(update={"occurred_at": at})
        await self.bus.publish([OutgoingMessage.from_envelope(envelope)])


@pytest.fixture
async def intake_with_bus(
    postgres_url: str, pg_schema: str, registry_url: str, amqp_url: str, bus_namespace: str,
    rabbit_bus_factory: RabbitMQBusFactory,
) -> AsyncIterator[tuple[IntakeUnderTest, Broker]]:
    clock = sunday_clock()
    # Both buses come from the factory, so the queues intake declares are deleted afterwards.
    bus = await rabbit_bus_factory(name="intake")
    publisher = await rabbit_bus_factory(name="publisher")
    async with intake_app(postgres_url, pg_schema, registry_url, clock=clock, bus=bus,
                          amqp_url=amqp_url, bus_namespace=bus_namespace) as service:
        yield service, Broker(publisher, clock)


async def feed(intake: IntakeUnderTest, payload: EventPayload, *,
               at: datetime | None = None, correlation_id: str | None = None) -> None:
    """Apply one event with the handler intake's consumer gives its type, in a transaction, as
    the consumer would."""
    from services.intake.handlers import DIRECTORY, LIFECYCLE
    from shared.bus import Received

    envelope = new_envelope(payload, producer="routing", clock=intake.clock,
                            correlation_id=correlation_id)
    if at is not None:
        envelope = envelope.model_copy(update={"occurred_at": at})
    handler = {**DIRECTORY.by_type, **LIFECYCLE.by_type}[payload.event_type]
    async with intake.runtime.sessionmaker.begin() as session:
        await handler(session, [Received(envelope, payload,
                                         intake.runtime.outbox.at(envelope.occurred_at))])


async def seed_directory(intake: IntakeUnderTest) -> None:
    """Two sectors and three entities (one retired), as routing announces them."""
    from shared.events.catalog import DirectoryEntityChanged, DirectorySectorChanged

    for code, ar, en in (("MOH", "وزارة الصحة", "Ministry of Health"),
                         ("PM", "رئاسة الوزراء", "Prime Ministry")):
        await feed(intake, DirectorySectorChanged(sector=code, name_ar=ar, name_en=en,
                                                  change="created"))
    for code, sector, ar, en, change in (
        ("MOH-HOSP", "MOH", "مستشفى البشير", "Al-Bashir Hospital", "created"),
        ("PM-GAM", "PM", "أمانة عمان الكبرى", "Greater Amman Municipality", "created"),
        ("PM-OLD", "PM", "هيئة ملغاة", "A retired commission", "retired"),
    ):
        await feed(intake, DirectoryEntityChanged(entity=code, sector=sector, name_ar=ar,
                                                  name_en=en, change=change))
