"""The whole platform with its outside world: every service on PostgreSQL and RabbitMQ behind the
gateway, notify speaking to a real SMTP server and to the SMS gateway simulator over HTTP, intake
asking the civil-registry simulator over HTTP, all on one simulated clock."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from services.routing.directory.demo import DEMO_PASSWORD
from shared.calendar import AMMAN
from shared.clock import SimulatedClock
from simulators.civil_registry import SimulatorSettings, create_simulator
from simulators.serving import serving
from simulators.sms_gateway import SimulatedSmsGateway
from tests.notify.conftest import (  # noqa: F401 - smtp_server is a fixture
    RECEIPT_SECRET,
    SMS_API_KEY,
    SmtpServer,
    notify_settings,
    smtp_server,
)
from tests.platform import Platform, running_platform, serve_http


@dataclass
class World:
    platform: Platform
    sms: SimulatedSmsGateway
    smtp: SmtpServer


@contextlib.asynccontextmanager
async def whole_platform(
    postgres_url: str, amqp_url: str, smtp: SmtpServer, clock: SimulatedClock
) -> AsyncIterator[World]:
    sms = SimulatedSmsGateway(api_key=SMS_API_KEY, receipt_secret=RECEIPT_SECRET, clock=clock)
    async with (
        serve_http(sms.app()) as sms_url,
        serving(create_simulator(SimulatorSettings())) as registry_url,
    ):
        notify = notify_settings(postgres_url, "unused", smtp, sms_url)
        for key in ("environment", "database_url", "database_schema", "amqp_url",
                    "retry_delays_ms"):
            notify.pop(key)  # the harness gives every service its own
        overrides = {"notify": notify, "intake": {"civil_registry_url": registry_url}}
        async with running_platform(postgres_url, amqp_url, overrides=overrides,
                                    clock=clock) as platform:
            yield World(platform, sms, smtp)


@pytest.fixture
async def world(postgres_url: str, amqp_url: str,
                smtp_server: SmtpServer,  # noqa: F811 - the fixture imported above
                ) -> AsyncIterator[World]:
    clock = SimulatedClock()
    clock.set(datetime(2027, 9, 5, 9, 0, tzinfo=AMMAN))  # a Sunday morning
    async with whole_platform(postgres_url, amqp_url, smtp_server, clock) as world:
        yield world


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def staff(client: Any, username: str) -> dict[str, str]:
    """A demo official of routing's directory, signed in as the portal does."""
    signed_in = await client.post("/api/v1/staff/auth/token", json={
        "username": username, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
