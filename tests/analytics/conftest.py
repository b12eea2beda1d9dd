"""Analytics on real PostgreSQL and RabbitMQ, fed the way production feeds it: by events.

`world` runs the analytics service (its schema migrated, its consumers and relay running) on a
test schema and bus namespace; a test plays the producers by publishing catalog events on the
same bus (`world.publish`), moves the shared simulated clock, and asks the API with tokens the
platform's issuers would mint.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.analytics.main import DEFINITION
from services.analytics.repository import freshness
from shared.auth import TokenIssuer, load_keys
from shared.bus import Bus, OutgoingMessage
from shared.clock import WALL_CLOCK, Clock, SimulatedClock
from shared.events import catalog as c
from shared.events.envelope import EventPayload, new_envelope
from shared.events.vocabulary import Channel, DirectoryChange, RequestKind, Role
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from shared.settings import BaseServiceSettings
from tests.conftest import RabbitMQBusFactory
from tests.platform import eventually

# Sunday 5 September 2027, 09:00 in Amman (UTC+3): a working week without holidays.
SUNDAY_9AM = datetime(2027, 9, 5, 6, 0, tzinfo=UTC)

SECTORS = {"MOH": ("وزارة الصحة", "Ministry of Health"),
           "MOE": ("وزارة التربية والتعليم", "Ministry of Education")}
ENTITIES = {  # code: (sector, parent, name_ar, name_en)
    "MOH-HOSP": ("MOH", None, "مستشفى البشير", "Al-Bashir Hospital"),
    "MOH-HOSP-ER": ("MOH", "MOH-HOSP", "قسم الطوارئ", "Emergency department"),
    "MOH-LAB": ("MOH", None, "المختبرات المركزية", "Central laboratories"),
    "MOE-SCH": ("MOE", None, "مديرية المدارس", "Schools directorate"),
}
PRODUCERS = c.PRODUCERS


@dataclass
class World:
    client: httpx.AsyncClient
    clock: SimulatedClock
    # Real time until a test moves it: what tokens live by (`shared.clock`).
    wall_clock: SimulatedClock
    bus: Bus
    app: FastAPI
    issuer: TokenIssuer
    published: int = 0

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def publish(self, *payloads: EventPayload, event_id: uuid.UUID | None = None) -> None:
        messages = []
        for payload in payloads:
            envelope = new_envelope(
                payload, producer=PRODUCERS[c.EventType(payload.event_type)], clock=self.clock,
                correlation_id=getattr(payload, "reference", None), event_id=event_id)
            messages.append(OutgoingMessage.from_envelope(envelope))
        await self.bus.publish(messages)
        self.published += len(messages)

    async def settled(self, expected: int | None = None) -> None:
        """Wait until every event published so far (or `expected`) has been applied."""
        target = self.published if expected is None else expected

        async def applied() -> None:
            async with self.runtime.sessionmaker() as session:
                count, _ = await freshness(session)
            assert count >= target, f"{count} of {target} events applied"

        # Generous: on a busy shared machine a batch can take a second.
        await eventually(applied, timeout_s=60)

    def auth(self, role: Role, *, entities: Iterable[str] = (), sectors: Iterable[str] = (),
             lifetime: timedelta | None = None) -> dict[str, str]:
        token = self.issuer.issue(str(uuid.uuid4()), role, entity_ids=entities,
                                  sector_ids=sectors, lifetime=lifetime)
        return {"Authorization": f"Bearer {token}"}

    @property
    def cmu(self) -> dict[str, str]:
        return self.auth(Role.cmu_staff)

    # path and headers positional-only, so that no query parameter can be taken for them
    async def get(self, path: str, headers: dict[str, str] | None = None, /,
                  **params: Any) -> httpx.Response:
        return await self.client.get(path, params={k.rstrip("_"): v for k, v in params.items()
                                                   if v is not None},
                                     headers=headers if headers is not None else self.cmu)

    async def kpis(self, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        response = await self.get("/api/v1/analytics/kpis", headers, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def seed_directory(self) -> None:
        await self.publish(
            *(c.DirectorySectorChanged(sector=code, name_ar=ar, name_en=en,
                                       change=DirectoryChange.created)
              for code, (ar, en) in SECTORS.items()),
            *(c.DirectoryEntityChanged(entity=code, sector=sector, parent=parent, name_ar=ar,
                                       name_en=en, change=DirectoryChange.created)
              for code, (sector, parent, ar, en) in ENTITIES.items()),
        )

    async def submit(self, reference: str, *, entity: str | None = "MOH-HOSP",
                     sector: str | None = "MOH", governorate: str | None = "JO-AM",
                     kind: RequestKind = RequestKind.complaint,
                     channel: Channel = Channel.mobile_app, city: str | None = None) -> None:
        await self.publish(c.RequestSubmitted(
            reference=reference, kind=kind, entity=entity, sector=sector,
            governorate=governorate, channel=channel, subject="انقطاع المياه",
            description="لا تصل المياه إلى الحي منذ أسبوع", requester_id=uuid.uuid4(),
            requester_name="ليلى الحسيني", submitted_at=self.clock.now(), city=city,
        ))


def token_issuer(wall_clock: Clock = WALL_CLOCK) -> TokenIssuer:
    """Tokens as the platform's issuers mint them: the development keys, in real time."""
    settings = BaseServiceSettings(service_name="tests")
    _keys, signing_key = load_keys(settings)
    assert signing_key is not None
    return TokenIssuer(signing_key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                       clock=wall_clock)


@pytest.fixture
async def world(postgres_url: str, pg_schema: str,
                rabbit_bus_factory: RabbitMQBusFactory) -> AsyncIterator[World]:
    clock = SimulatedClock()
    clock.set(SUNDAY_9AM)
    bus = await rabbit_bus_factory(name="analytics")
    settings = DEFINITION.load_settings(
        environment="test", database_url=postgres_url, database_schema=pg_schema,
        database_pool_size=5, amqp_url="unused: the bus is passed in",
        bus_namespace=rabbit_bus_factory.namespace, retry_delays_ms=(200, 1000),
        outbox_poll_interval_s=0.1, live_poll_interval_s=0.2, report_schedule_enabled=False,
        # Every event a test publishes must show in the very next answer.
        answer_reuse_s=0,
    )
    await migrate_to_head(DEFINITION, settings)
    wall_clock = SimulatedClock()
    app = create_service_app(DEFINITION, settings, bus=bus, clock=clock, wall_clock=wall_clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analytics",
                                     timeout=30) as client:
            yield World(client=client, clock=clock, wall_clock=wall_clock, bus=bus, app=app,
                        issuer=token_issuer(wall_clock))
