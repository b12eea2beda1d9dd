"""The integrity service behind the gateway, on real PostgreSQL and RabbitMQ.

`integrity` runs the service as production does (its own schema, its RabbitMQ connection, its
consumer and relay) through `tests.platform`; `events` listens on the same exchange for what
integrity says; sealed reports arrive as intake would send them, as `report.sealed` events on
the bus.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from shared.bus import Delivery, OutgoingMessage, RabbitMQBus
from shared.events import decode_envelope
from shared.events.catalog import ReportSealed
from shared.events.envelope import Envelope, new_envelope
from shared.events.vocabulary import Role
from shared.sealing import (
    CommissionKeyPair,
    ReportContent,
    ReporterIdentity,
    SealedReport,
    new_receipt,
    receipt_digest,
    report_day,
    seal_report,
)
from tests.conftest import rabbit_buses
from tests.platform import Platform, eventually, running_platform


@dataclass
class Heard:
    """Every event integrity published, as the bus delivered it."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def on_delivery(self, delivery: Delivery) -> None:
        self.envelopes.append(decode_envelope(delivery.body))
        await delivery.ack()

    def of_type(self, event_type: str) -> list[Envelope]:
        return [e for e in self.envelopes if e.type == event_type]


@dataclass
class Integrity:
    """`client` talks to integrity itself (it checks every token and role on its own);
    `gateway` is the public door, where staff tokens also need a person in routing's
    directory (tests/e2e goes that way)."""

    platform: Platform
    heard: Heard
    bus: RabbitMQBus
    client: httpx.AsyncClient

    @property
    def gateway(self) -> httpx.AsyncClient:
        return self.platform.client

    def commission(self, subject: str | None = None) -> dict[str, str]:
        return self.platform.auth(Role.integrity_commission, subject)

    def today(self) -> date:
        return report_day(self.platform.clock)

    async def register(self, key: CommissionKeyPair) -> httpx.Response:
        response = await self.client.post(
            "/api/v1/integrity/keys",
            json={"key_id": key.key_id, "public_key": key.public.encoded,
                  "fingerprint": key.public.fingerprint},
            headers={**self.commission(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.json()
        return response

    def seal(
        self, key: CommissionKeyPair, *, text: str = "a bribe was asked",
        identity: ReporterIdentity | None = None, day: date | None = None,
    ) -> SealedReport:
        return seal_report(ReportContent(text=text), identity, to=key.public,
                           day=day or self.today())

    async def send(self, report: SealedReport, receipt: str | None = None,
                   **changes: Any) -> None:
        """Publish `report.sealed` as intake does."""
        fields: dict[str, Any] = {
            "envelope_id": report.envelope_id,
            "key_id": report.key_id,
            "envelope": base64.b64encode(report.envelope).decode(),
            "created_day": report.day,
            "identity_envelope": (base64.b64encode(report.identity_envelope).decode()
                                  if report.identity_envelope else None),
            "receipt_digest": receipt_digest(receipt) if receipt else None,
            **changes,
        }
        envelope = new_envelope(ReportSealed(**fields), producer="intake",
                                clock=self.platform.clock)
        await self.bus.publish([OutgoingMessage.from_envelope(envelope)])

    async def file(self, report: SealedReport, receipt: str | None = None) -> str:
        """Send a report and wait until it is in the inbox; returns its receipt."""
        receipt = receipt or new_receipt()
        await self.send(report, receipt)
        await self.wait_filed(report.envelope_id)
        return receipt

    async def wait_filed(self, envelope_id: uuid.UUID) -> dict[str, Any]:
        async def filed() -> dict[str, Any]:
            response = await self.client.get(f"/api/v1/integrity/inbox/{envelope_id}",
                                             headers=self.commission())
            assert response.status_code == 200, response.json()
            return dict(response.json())

        return await eventually(filed)

    async def dead_letters(self) -> list[tuple[bytes, str]]:
        runtime = self.platform.runtime("integrity")
        queue = runtime.bus.queue_name("integrity", "sealed-reports")
        return await runtime.bus.dead_letters(queue)


@pytest.fixture
async def integrity(postgres_url: str, amqp_url: str) -> AsyncIterator[Integrity]:
    async with running_platform(postgres_url, amqp_url, services=["integrity"]) as platform:
        namespace = platform.runtime("integrity").bus.namespace
        async with rabbit_buses(amqp_url, namespace) as buses:
            bus = await buses(name="intake-and-listener")
            heard = Heard()
            await bus.subscribe(f"{namespace}.tests.report-events", ["report.*"],
                                heard.on_delivery, prefetch=100)
            async with direct_client(platform) as client:
                yield Integrity(platform, heard, bus, client)


@asynccontextmanager
async def direct_client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=platform.apps["integrity"])
    async with httpx.AsyncClient(transport=transport, base_url="http://integrity") as client:
        yield client


@pytest.fixture
def commission_key() -> CommissionKeyPair:
    return CommissionKeyPair.generate(f"commission-{uuid.uuid4().hex[:8]}")
