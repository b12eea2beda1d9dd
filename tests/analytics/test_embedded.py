"""The embedded mode (`make run`): analytics on SQLite and the in-process bus, behind the gateway,
answers the same questions, serves the page and keeps its live feed streaming."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.embedded import StreamingASGITransport
from gateway.main import create_gateway
from services.colocated import colocated_services
from shared.bus import InMemoryBus, OutgoingMessage
from shared.clock import SimulatedClock
from shared.events import catalog as c
from shared.events.envelope import EventPayload, new_envelope
from shared.events.vocabulary import Channel, ClosedBy, ClosingCode, DirectoryChange, Role
from tests.analytics.conftest import SUNDAY_9AM, token_issuer
from tests.platform import eventually


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryBus,
                                                          SimulatedClock]]:
    clock = SimulatedClock()
    clock.set(SUNDAY_9AM)
    bus = InMemoryBus()
    await bus.start()

    def sqlite(_name: str) -> dict[str, Any]:
        return {"database_url": f"sqlite+aiosqlite:///{tmp_path}/analytics.db", "amqp_url": "",
                "report_schedule_enabled": False, "live_poll_interval_s": 0.2}

    async with colocated_services(["analytics"], sqlite, clock=clock, bus=bus) as apps:
        transports = {"analytics": StreamingASGITransport(apps["analytics"])}
        # Routing (which vouches for staff standing at the edge) is not part of this test.
        gateway = create_gateway(GatewaySettings(environment="test", staff_standing_check=False),
                                 transports=transports)
        async with (
            gateway.router.lifespan_context(gateway),
            httpx.AsyncClient(transport=StreamingASGITransport(gateway),
                              base_url="http://gateway.test") as client,
        ):
            yield client, bus, clock
    await bus.close()


async def _publish(bus: InMemoryBus, clock: SimulatedClock, *payloads: EventPayload) -> None:
    await bus.publish([OutgoingMessage.from_envelope(new_envelope(
        p, producer=c.PRODUCERS[c.EventType(p.event_type)], clock=clock)) for p in payloads])


async def test_the_embedded_platform_counts_serves_and_streams(
    embedded: tuple[httpx.AsyncClient, InMemoryBus, SimulatedClock],
) -> None:
    client, bus, clock = embedded
    cmu = {"Authorization": f"Bearer {token_issuer().issue('cmu-1', Role.cmu_staff)}"}
    await _publish(
        bus, clock,
        c.DirectorySectorChanged(sector="MOH", name_ar="وزارة الصحة", name_en="Ministry of Health",
                                 change=DirectoryChange.created),
        c.DirectoryEntityChanged(entity="MOH-HOSP", sector="MOH", name_ar="مستشفى",
                                 name_en="Hospital", change=DirectoryChange.created),
        c.RequestSubmitted(reference="JO-1", kind="complaint", entity="MOH-HOSP", sector="MOH",
                           governorate="JO-AM", channel=Channel.portal, subject="s",
                           description="d", requester_id=uuid.uuid4(),
                           submitted_at=clock.now()),
        c.RequestClosed(reference="JO-1", closing_code=ClosingCode.resolved,
                        closed_by=ClosedBy.requester),
    )

    async def counted() -> None:
        response = await client.get("/api/v1/analytics/kpis", headers=cmu)
        assert response.status_code == 200, response.text
        assert (response.json()["received"], response.json()["resolved"]) == (1, 1)

    await eventually(counted)
    report = await client.get("/api/v1/analytics/reports", headers=cmu,
                              params={"group_by": "entity", "format": "xlsx"})
    assert report.status_code == 200
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text

    async with client.stream("GET", "/api/v1/analytics/live", headers=cmu) as stream:
        lines = stream.aiter_lines()
        async with asyncio.timeout(5):
            async for line in lines:
                if line.startswith("data: "):
                    assert json.loads(line[6:])["headline"]["received"] == 1
                    break
