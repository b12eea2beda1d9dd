"""What a service is and what it holds while it runs: its definition and its runtime.

A service declares *what* it is in a `ServiceDefinition` (name, tables, migrations, routers,
subscriptions, background loops). `Runtime.open` builds what it holds (the database, the bus,
the clocks, the outbox and its relay, the token verifier); `start_workers` starts the consumers,
the relay and the housekeeping wherever the service's work runs (an API process in the
embedded mode, a worker process in the distributed one). `shared.service` makes the FastAPI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import APIRouter
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import TokenVerifier, load_keys
from shared.bus import (
    Bus,
    EventConsumer,
    Handlers,
    InMemoryBus,
    Outbox,
    OutboxRelay,
    RabbitMQBus,
    RetryPolicy,
)
from shared.bus.base import queue_name
from shared.clock import WALL_CLOCK, Clock, clock_for
from shared.db import create_engine, create_sessionmaker
from shared.idempotency import purge_expired_keys
from shared.migrations import head_revision, upgrade
from shared.settings import BaseServiceSettings

log = logging.getLogger(__name__)
R = TypeVar("R")
S = TypeVar("S", bound=BaseServiceSettings)

HOUSEKEEPING_INTERVAL_S = 15 * 60


@dataclass(frozen=True)
class Subscription:
    """One durable queue of a service: `<namespace>.<service>.<name>`."""

    name: str
    handlers: Handlers


BackgroundLoop = Callable[["Runtime"], Coroutine[Any, Any, None]]
"""A service's own long-running loop (SLA's deadline scheduler); it runs until cancelled."""

Resources = Callable[["Runtime"], AbstractAsyncContextManager[Any]]
"""What a service holds beside the kernel's runtime (clients, caches, signers), built from the
runtime when it opens and closed with it, in API and worker processes alike; routes, handlers
and loops reach it typed through `shared.dependencies.resources` or `Runtime.resources_as`."""


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
    resources: Resources | None = None

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
    # Other services' HTTP APIs in this process (the embedded mode), by service name: a client
    # of one uses its transport instead of the network.
    peers: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    consumers: list[EventConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    resources: Any = None  # the definition's `resources`, once open
    _closing: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @classmethod
    async def open(
        cls,
        definition: ServiceDefinition,
        settings: BaseServiceSettings,
        *,
        bus: Bus | None = None,
        clock: Clock | None = None,
        wall_clock: Clock = WALL_CLOCK,
        peers: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> Runtime:
        """Open what every service holds, then the service's own resources on top of it."""
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
        runtime = cls(
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
            peers=peers if peers is not None else {},
        )
        if definition.resources is not None:
            try:
                runtime.resources = await runtime._closing.enter_async_context(
                    definition.resources(runtime))
            except BaseException:
                await runtime.close()
                raise
        return runtime

    def settings_as(self, kind: type[S]) -> S:
        """The service's settings, as its own class (checked, as `resources_as` is)."""
        if not isinstance(self.settings, kind):
            raise TypeError(f"{self.definition.name} runs with "
                            f"{type(self.settings).__name__}, not {kind.__name__}")
        return self.settings

    def resources_as(self, kind: type[R]) -> R:
        """The service's resources, as the type its code knows them by (checked: a definition
        wired with another service's resources fails loudly, not later)."""
        if not isinstance(self.resources, kind):
            raise TypeError(f"{self.definition.name} holds {type(self.resources).__name__}, "
                            f"not {kind.__name__}")
        return self.resources

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
                sessionmaker=self.sessionmaker,
                inbox=self.definition.inbox_table,
                outbox=self.outbox,
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
        await self._closing.aclose()  # the service's resources, before what they stand on
        if self.owns_bus:
            await self.bus.close()
        await self.engine.dispose()
