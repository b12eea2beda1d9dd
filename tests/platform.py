"""The whole platform inside the test process, on real PostgreSQL and RabbitMQ, behind the gateway.

Each service runs as it does in production — its own PostgreSQL schema, its own RabbitMQ
connection, its outbox relay and consumers — and they all share one `SimulatedClock`, so a test
can live through working days in seconds. The gateway reaches them through ASGI transports.
Stand-ins for the outside world (the civil registry, the SMS gateway, an SMTP server) are real
servers the test starts and names in the per-service `overrides`.

    async with running_platform(postgres_url, amqp_url) as platform:
        response = await platform.client.post("/api/v1/requests", ...)
        platform.clock.advance(timedelta(days=1))
        await eventually(lambda: ...)

Everything it made (schemas, queues, the exchange) is removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import asyncpg
import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services import SERVICES
from services.__main__ import definition_of
from services.colocated import colocated_services
from shared.auth import TokenIssuer, load_keys
from shared.bus.rabbitmq import delete_declared
from shared.clock import SimulatedClock
from shared.events.vocabulary import Role
from shared.runtime import Runtime
from shared.settings import BaseServiceSettings
from simulators.serving import serving

T = TypeVar("T")

# Short enough that a test sees a failing handler's retries, long enough not to spin.
TEST_RETRY_DELAYS_MS = (200, 1_000)


@dataclass
class Platform:
    client: httpx.AsyncClient
    """Talks to the gateway, as the mobile app and the portal do."""
    clock: SimulatedClock
    apps: dict[str, FastAPI]
    gateway: FastAPI
    issuer: TokenIssuer
    schemas: dict[str, str] = field(default_factory=dict)

    def runtime(self, service: str) -> Runtime:
        runtime: Runtime = self.apps[service].state.runtime
        return runtime

    def token(
        self,
        role: Role,
        subject: str | None = None,
        *,
        entities: Iterable[str] = (),
        sectors: Iterable[str] = (),
    ) -> str:
        """A token as the platform's issuers mint them (same keys, real time)."""
        return self.issuer.issue(
            subject or str(uuid.uuid4()), role, entity_ids=entities, sector_ids=sectors
        )

    def auth(
        self, role: Role, subject: str | None = None, **scope: Iterable[str]
    ) -> dict[str, str]:
        """Headers that carry `token(...)`."""
        return {"Authorization": f"Bearer {self.token(role, subject, **scope)}"}


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout_s: float = 15.0, interval_s: float = 0.05
) -> T:
    """Retry `check` until it stops raising AssertionError; then return what it returned.

    Events travel asynchronously (outbox → broker → consumer), so a test states what must
    become true and waits for it, instead of sleeping a guessed time.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def running_platform(
    postgres_url: str,
    amqp_url: str,
    *,
    services: Iterable[str] = SERVICES,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    gateway_overrides: Mapping[str, Any] | None = None,
    clock: SimulatedClock | None = None,
) -> AsyncIterator[Platform]:
    names = list(services)
    tag = uuid.uuid4().hex[:10]
    namespace = f"bkhtest-{tag}"
    schemas = {name: f"t_{tag}_{name}" for name in names}
    clock = clock or SimulatedClock()
    overrides = overrides or {}

    def settings_for(name: str) -> dict[str, Any]:
        return {
            "environment": "test",
            "database_url": postgres_url,
            "database_schema": schemas[name],
            "database_pool_size": 5,
            "amqp_url": amqp_url,
            "bus_namespace": namespace,
            "retry_delays_ms": TEST_RETRY_DELAYS_MS,
            "outbox_poll_interval_s": 0.1,
            **overrides.get(name, {}),
        }

    keys_settings = BaseServiceSettings(service_name="tests")
    _keys, signing_key = load_keys(keys_settings)
    assert signing_key is not None, "the development key pair has a signing key"
    issuer = TokenIssuer(signing_key, issuer=keys_settings.jwt_issuer,
                         audience=keys_settings.jwt_audience)
    try:
        async with colocated_services(names, settings_for, clock=clock) as apps:
            gateway = create_gateway(
                GatewaySettings(**{"environment": "test", **(gateway_overrides or {})}),
                transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
            )
            transport = httpx.ASGITransport(app=gateway, client=("198.51.100.20", 40000))
            async with (
                gateway.router.lifespan_context(gateway),
                httpx.AsyncClient(transport=transport, base_url="http://gateway.test",
                                  timeout=30) as client,
            ):
                yield Platform(client=client, clock=clock, apps=apps, gateway=gateway,
                               issuer=issuer, schemas=schemas)
    finally:
        await _remove(postgres_url, amqp_url, namespace, schemas)


async def _remove(
    postgres_url: str, amqp_url: str, namespace: str, schemas: Mapping[str, str]
) -> None:
    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://",
                                                            "postgresql://"))
    try:
        for schema in schemas.values():
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()
    queues = [queue for name in schemas for queue in definition_of(name).queue_names(namespace)]
    await delete_declared(amqp_url, namespace, queues, retry_delays_ms=TEST_RETRY_DELAYS_MS)


def serve_http(app: ASGIApp, *, lifespan: Literal["on", "off"] = "on"
               ) -> contextlib.AbstractAsyncContextManager[str]:
    """Run `app` with uvicorn on a free port of 127.0.0.1, its lifespan too unless told not
    to; yields its base URL (`simulators.serving`, as `make run` serves the stand-ins)."""
    return serving(app, lifespan=lifespan)


@dataclass
class ServedPlatform:
    """`running_platform` behind a real localhost port, for clients that speak plain HTTP."""

    base_url: str
    platform: Platform


@contextlib.contextmanager
def served_platform(postgres_url: str, amqp_url: str, **options: Any) -> Iterator[ServedPlatform]:
    """The whole platform on an event loop of its own thread, its gateway served by uvicorn.

    For synchronous clients (schemathesis calls with `requests`): nothing here shares the
    test's own event loop, and everything stops and is removed on exit.
    """
    started: queue.Queue[ServedPlatform | BaseException] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        try:
            async with (
                running_platform(postgres_url, amqp_url, **options) as platform,
                # The gateway's lifespan is the platform's already.
                serve_http(platform.gateway, lifespan="off") as base_url,
            ):
                started.put(ServedPlatform(base_url, platform))
                await asyncio.to_thread(stop.wait)
        except BaseException as exc:
            started.put(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="served-platform")
    thread.start()
    try:
        served = started.get(timeout=120)
        if isinstance(served, BaseException):
            raise served
        yield served
    finally:
        stop.set()
        thread.join(60)
