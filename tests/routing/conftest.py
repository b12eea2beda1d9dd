"""The routing service as it runs in production, for its tests: its own PostgreSQL schema, a
RabbitMQ connection with its consumers and outbox relay, a simulated clock.

A test talks to it over HTTP (in process), publishes events as intake and SLA would, and
observes every event on the bus. Staff tokens are minted for people of the seeded directory
(demo staff) with exactly the role and scope the directory gives them, as sign-in would.
One service per test module (seeding costs a second); tests create their own requests.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.routing.directory import repository as directory
from services.routing.directory.demo import demo_person_id
from services.routing.main import DEFINITION
from services.routing.models import AuditEntry, Case, Person
from shared.auth import TokenIssuer, load_keys
from shared.bus import Delivery, OutgoingMessage, RetryPolicy
from shared.bus.rabbitmq import RabbitMQBus
from shared.clock import SimulatedClock
from shared.db import create_engine
from shared.events.catalog import RequestSubmitted
from shared.events.envelope import Envelope, EventPayload, decode_envelope, new_envelope
from shared.events.vocabulary import Channel, RequestKind, Role
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.service import create_service_app
from tests.conftest import fresh_schema, rabbit_buses
from tests.platform import eventually

PRODUCERS = {"request.submitted": "intake", "request.rated": "intake",
             "request.info_provided": "intake"}


@dataclass
class Observed:
    """Every envelope on the bus, in arrival order."""

    envelopes: list[Envelope] = field(default_factory=list)

    def of(self, event_type: str, reference: str | None = None) -> list[Envelope]:
        return [e for e in self.envelopes if e.type == event_type
                and (reference is None or e.correlation_id == reference)]

    def about(self, reference: str) -> list[str]:
        return [e.type for e in self.envelopes if e.correlation_id == reference]


@dataclass
class RoutingService:
    app: FastAPI
    client: httpx.AsyncClient
    clock: SimulatedClock
    # Real time until a test moves it: what tokens and sessions live by (`shared.clock`).
    wall_clock: SimulatedClock
    bus: RabbitMQBus
    issuer: TokenIssuer
    observed: Observed
    references: Iterable[int]

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    # --- people -----------------------------------------------------------------------------

    async def token_for(self, person_id: uuid.UUID | str) -> str:
        """A token saying what the directory says of the person now (as sign-in would)."""
        pid = uuid.UUID(str(person_id))
        async with self.runtime.sessionmaker() as session:
            standing = await directory.standing(session, pid)
        assert standing is not None, f"no person {pid}"
        assert standing.role is not None, f"{pid} has no role"
        return self.issuer.issue(str(pid), standing.role, entity_ids=standing.entity_codes,
                                 sector_ids=standing.sector_codes)

    async def auth(self, who: str | uuid.UUID) -> dict[str, str]:
        """Headers for a demo username (`mlo.moh`) or a person id."""
        try:
            person_id = uuid.UUID(str(who))
        except ValueError:
            person_id = demo_person_id(str(who))
        return {"Authorization": f"Bearer {await self.token_for(person_id)}"}

    def token(self, role: Role, subject: str | None = None, **scope: Iterable[str]) -> str:
        """A token for anyone at all (citizens, operators, people routing does not know)."""
        return self.issuer.issue(subject or str(uuid.uuid4()), role,
                                 entity_ids=scope.get("entities", ()),
                                 sector_ids=scope.get("sectors", ()))

    # --- events -----------------------------------------------------------------------------

    async def publish(self, payload: EventPayload, *, reference: str | None = None,
                      producer: str | None = None) -> Envelope:
        envelope = new_envelope(
            payload, producer=producer or PRODUCERS.get(payload.event_type, "sla"),
            clock=self.clock, correlation_id=reference or getattr(payload, "reference", None),
        )
        await self.bus.publish([OutgoingMessage.from_envelope(envelope)])
        return envelope

    def next_reference(self) -> str:
        return f"BKH-2030-{next(iter(self.references)):07d}"

    async def submit(self, *, entity: str | None = "MOH-HQ", kind: RequestKind =
                     RequestKind.complaint, wait: bool = True, **fields: Any) -> str:
        """Publish a `request.submitted` as intake does; wait until routing has placed it."""
        reference = fields.pop("reference", None) or self.next_reference()
        payload = RequestSubmitted(
            reference=reference, kind=kind, entity=entity, sector=None, governorate="JO-AM",
            channel=fields.pop("channel", Channel.mobile_app),
            subject=fields.pop("subject", "انقطاع المياه عن الحي"),
            description=fields.pop("description", "لا تصل المياه منذ ثلاثة أيام."),
            requester_id=fields.pop("requester_id", uuid.uuid4()),
            submitted_at=self.clock.now(), **fields,
        )
        await self.publish(payload)
        if wait:
            await eventually(lambda: self._placed(reference))
        return reference

    async def _placed(self, reference: str) -> Case:
        found = await self.case(reference)
        assert found is not None, f"{reference} not placed yet"
        return found

    # --- reading the store ------------------------------------------------------------------

    async def case(self, reference: str) -> Case | None:
        async with self.runtime.sessionmaker() as session:
            return await session.get(Case, reference)

    async def timeline(self, reference: str) -> list[AuditEntry]:
        async with self.runtime.sessionmaker() as session:
            return list((await session.scalars(
                select(AuditEntry).where(AuditEntry.reference == reference)
                .order_by(AuditEntry.seq))).all())

    async def person(self, person_id: uuid.UUID) -> Person | None:
        async with self.runtime.sessionmaker() as session:
            return await session.get(Person, person_id)

    # --- acting over HTTP -------------------------------------------------------------------

    async def act(self, who: str | uuid.UUID, reference: str, action: str,
                  body: dict[str, Any], *, version: int | None = None) -> httpx.Response:
        headers = await self.auth(who)
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return await self.client.post(f"/api/v1/requests/{reference}/{action}", json=body,
                                      headers={**headers, "Accept-Language": "en"})


@dataclass
class _Counter:
    value: int = 0

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> int:
        self.value += 1
        return self.value


def routing_settings(postgres_url: str, schema: str, namespace: str, **overrides: Any) -> Any:
    return DEFINITION.load_settings(**{
        "environment": "test", "database_url": postgres_url, "database_schema": schema,
        "database_pool_size": 5, "bus_namespace": namespace, "retry_delays_ms": (200, 1_000),
        "outbox_poll_interval_s": 0.05, **overrides,
    })


@contextlib.asynccontextmanager
async def running_routing(postgres_url: str, amqp_url: str, *, clock: SimulatedClock | None = None,
                          **overrides: Any) -> AsyncIterator[RoutingService]:
    """Migrate a fresh schema, start the service on it (seeding the directory), observe the bus."""
    namespace = f"bkhtest-{uuid.uuid4().hex[:10]}"
    clock = clock or SimulatedClock()
    wall_clock = SimulatedClock()
    async with fresh_schema(postgres_url) as schema, rabbit_buses(amqp_url, namespace) as buses:
        settings = routing_settings(postgres_url, schema, namespace, **overrides)
        await migrate(settings)
        bus = await buses(RetryPolicy((200, 1_000)), name="routing")
        app = create_service_app(DEFINITION, settings, bus=bus, clock=clock,
                                 wall_clock=wall_clock)
        observed = Observed()

        async def observe(delivery: Delivery) -> None:
            observed.envelopes.append(decode_envelope(delivery.body))
            await delivery.ack()

        tests_bus = await buses(name="tests")
        await tests_bus.subscribe(tests_bus.queue_name("tests", "observer"), ["#"], observe,
                                  prefetch=500)
        _keys, signing_key = load_keys(settings)
        assert signing_key is not None
        issuer = TokenIssuer(signing_key, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience, clock=wall_clock)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://routing.test", timeout=30) as client,
        ):
            yield RoutingService(app=app, client=client, clock=clock, wall_clock=wall_clock,
                                 bus=tests_bus,
                                 issuer=issuer, observed=observed, references=_Counter())


async def migrate(settings: Any) -> None:
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name=f"bkh-test-{settings.schema_name}")
    try:
        await upgrade(engine, migrations=DEFINITION.migrations, schema=settings.schema_name)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def routing(postgres_url: str, amqp_url: str) -> AsyncIterator[RoutingService]:
    """One routing service for the test module, its directory seeded with demo staff."""
    async with running_routing(postgres_url, amqp_url) as service:
        yield service


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    return body


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
