"""How a service is put together and run: its definition, its runtime, its FastAPI app.

A service declares *what* it is in a `ServiceDefinition` (name, tables, migrations, routers,
subscriptions). `create_service_app` turns that into a running app whose lifespan opens the
database, the bus and the clock, starts the outbox relay and the consumers, and closes them
again. The embedded mode passes one in-process bus and one clock to every service; the
distributed mode lets each build its own from settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import TokenVerifier, load_keys
from shared.bus import (
    BatchHandler,
    Bus,
    EventConsumer,
    Handler,
    InMemoryBus,
    Outbox,
    OutboxRelay,
    RabbitMQBus,
    RetryPolicy,
)
from shared.bus.base import queue_name
from shared.clock import WALL_CLOCK, Clock, SimulatedClock, clock_for
from shared.db import create_engine, create_sessionmaker
from shared.dependencies import storable_text
from shared.errors import install_problem_handlers
from shared.health import health_router
from shared.idempotency import purge_expired_keys
from shared.memory import tune_for_serving
from shared.migrations import head_revision, upgrade
from shared.openapi import describe_truthfully
from shared.ops import clock_router
from shared.settings import BaseServiceSettings
from shared.web import NO_FASTAPI_TELEMETRY, ContentTypeMiddleware, RequestContextMiddleware

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 15 * 60


@dataclass(frozen=True)
class Subscription:
    """One durable queue of a service: `<namespace>.<service>.<name>`."""

    name: str
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)


BackgroundLoop = Callable[["Runtime"], Coroutine[Any, Any, None]]
"""A service's own long-running loop (SLA's deadline scheduler); it runs until cancelled."""


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    metadata: MetaData
    migrations: Path
    settings_class: type[BaseServiceSettings] = BaseServiceSettings
    routers: Sequence[APIRouter] = ()
    subscriptions: Sequence[Subscription] = ()
    background: Sequence[BackgroundLoop] = ()

    def load_settings(self, **overrides: Any) -> BaseServiceSettings:
        return self.settings_class(service_name=self.name, **overrides)

    def queue_names(self, namespace: str) -> list[str]:
        """The durable queues this service consumes from under `namespace`."""
        return [queue_name(namespace, self.name, s.name) for s in self.subscriptions]

    @property
    def outbox_table(self) -> Table:
        return self.metadata.tables["outbox"]

    @property
    def inbox_table(self) -> Table:
        return self.metadata.tables["inbox"]


async def migrate_to_head(definition: ServiceDefinition, settings: BaseServiceSettings) -> None:
    """Upgrade one service's schema (or SQLite file) to the newest revision."""
    engine = create_engine(
        settings.database_url, schema=settings.schema_name, application_name="bkh-migrations"
    )
    try:
        await upgrade(engine, migrations=definition.migrations, schema=settings.schema_name)
    finally:
        await engine.dispose()


def build_bus(settings: BaseServiceSettings) -> Bus:
    policy = RetryPolicy(tuple(settings.retry_delays_ms))
    if settings.amqp_url:
        return RabbitMQBus(
            settings.amqp_url,
            namespace=settings.bus_namespace,
            connection_name=f"bkh-{settings.service_name}",
            retry_policy=policy,
        )
    return InMemoryBus(namespace=settings.bus_namespace, retry_policy=policy)


@dataclass
class Runtime:
    """Everything a running service holds; reached by routes through `shared.dependencies`."""

    definition: ServiceDefinition
    settings: BaseServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus
    clock: Clock  # business time: simulated outside production when asked
    wall_clock: Clock  # real time: tokens and sign-in sessions (`shared.clock`)
    outbox: Outbox
    relay: OutboxRelay
    verifier: TokenVerifier
    head_revision: str | None
    owns_bus: bool
    consumers: list[EventConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        definition: ServiceDefinition,
        settings: BaseServiceSettings,
        *,
        bus: Bus | None = None,
        clock: Clock | None = None,
        wall_clock: Clock = WALL_CLOCK,
    ) -> Runtime:
        clock = clock or clock_for(
            simulated=settings.simulated_clock, production=settings.production
        )
        engine = create_engine(
            settings.database_url,
            schema=settings.schema_name,
            application_name=f"bkh-{definition.name}",
            pool_size=settings.database_pool_size,
        )
        sessionmaker = create_sessionmaker(engine)
        owns_bus = bus is None
        bus = bus or build_bus(settings)
        if owns_bus:
            await bus.start()
        relay = OutboxRelay(
            table=definition.outbox_table,
            sessionmaker=sessionmaker,
            bus=bus,
            service=definition.name,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        keys, _signing_key = load_keys(settings)
        return cls(
            definition=definition,
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            bus=bus,
            clock=clock,
            wall_clock=wall_clock,
            outbox=Outbox(
                definition.outbox_table, producer=definition.name, clock=clock, wake=relay.wake
            ),
            relay=relay,
            verifier=TokenVerifier(
                keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                clock=wall_clock,
            ),
            head_revision=head_revision(definition.migrations),
            owns_bus=owns_bus,
        )

    async def start_workers(self) -> None:
        await self.start_consumers()
        self.start_relay()
        self.start_housekeeping()

    async def start_consumers(self) -> None:
        """Before any relay runs, so that no event published at start-up finds no queue."""
        for subscription in self.definition.subscriptions:
            consumer = EventConsumer(
                name=subscription.name,
                handlers=subscription.handlers,
                batch_handlers=subscription.batch_handlers,
                sessionmaker=self.sessionmaker,
                inbox=self.definition.inbox_table,
                clock=self.clock,
                batch_size=self.settings.consumer_batch_size,
            )
            await consumer.start(
                self.bus,
                queue=self.bus.queue_name(self.definition.name, subscription.name),
                prefetch=self.settings.consumer_prefetch,
            )
            self.consumers.append(consumer)

    def start_relay(self) -> None:
        self.tasks.append(
            asyncio.create_task(self.relay.run(), name=f"relay:{self.definition.name}")
        )

    def start_housekeeping(self) -> None:
        """Periodic chores of the kernel's own tables (today: expired idempotency keys), and
        the service's own background loops; wherever the relay runs, these run too."""
        if "idempotency_keys" in self.definition.metadata.tables:
            self.tasks.append(
                asyncio.create_task(self._purge_idempotency_keys(), name="idempotency-purge")
            )
        for loop in self.definition.background:
            name = f"{self.definition.name}:{getattr(loop, '__name__', 'background')}"
            self.tasks.append(asyncio.create_task(loop(self), name=name))

    async def _purge_idempotency_keys(self) -> None:
        table = self.definition.metadata.tables["idempotency_keys"]
        while True:
            try:
                async with self.sessionmaker.begin() as session:
                    await purge_expired_keys(session, table, now=self.clock.now())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database comes back; the next round catches up
                log.warning("idempotency purge failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for consumer in self.consumers:
            await consumer.stop()
        if self.owns_bus:
            await self.bus.close()
        await self.engine.dispose()


def create_service_app(
    definition: ServiceDefinition,
    settings: BaseServiceSettings | None = None,
    *,
    bus: Bus | None = None,
    clock: Clock | None = None,
    wall_clock: Clock = WALL_CLOCK,
) -> FastAPI:
    """`clock` is the business clock (None: from the settings); `wall_clock` the real time
    tokens and sessions live by, which only a test replaces (to make an expiry come)."""
    settings = settings or definition.load_settings()
    if settings.production and isinstance(clock, SimulatedClock):
        raise RuntimeError("a simulated clock cannot exist in production")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(definition, settings, bus=bus, clock=clock,
                                     wall_clock=wall_clock)
        app.state.runtime = runtime
        try:
            if settings.run_workers:
                await runtime.start_workers()
            tune_for_serving()
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title=definition.title,
        telemetry=NO_FASTAPI_TELEMETRY,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # the gateway serves the one aggregated document
        redoc_url=None,
        dependencies=[Depends(storable_text)],
    )
    install_problem_handlers(app)
    describe_truthfully(app)
    app.add_middleware(ContentTypeMiddleware)
    app.add_middleware(RequestContextMiddleware, service=definition.name)
    app.include_router(health_router())
    for router in definition.routers:
        app.include_router(router)
    # The operator's clock exists only where a simulated clock can.
    simulated = isinstance(clock, SimulatedClock) or (clock is None and settings.simulated_clock)
    if simulated and not settings.production:
        app.include_router(clock_router())
    return app
