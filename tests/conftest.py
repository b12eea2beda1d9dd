"""Real parts for every test: PostgreSQL and RabbitMQ over real connections.

Where each comes from, in order: the URL in the environment (`BKH_TEST_DATABASE_URL`,
`BKH_TEST_AMQP_URL`); else the local service on its default port; else a container started by
testcontainers when a Docker engine answers. With `CI=true` a missing service fails the run with
a message that says what is missing; elsewhere the tests that need it are skipped, loudly, with
the same message.

Isolation: each test gets its own PostgreSQL schema (dropped afterwards) and its own RabbitMQ
namespace (exchange and queues prefixed uniquely, deleted afterwards), so tests never see each
other's rows or messages, and runs never see leftovers of earlier runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import aio_pika
import asyncpg
import pytest
from hypothesis import settings

from shared.bus import RabbitMQBus, RetryPolicy
from shared.bus.rabbitmq import retry_queue_name

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LOCAL_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_REDIS = "redis://127.0.0.1:6379"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests explore new examples on every local run; CI runs the same examples every time,
# so that a landing is judged by the change and not by the draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1",
                                       parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def _missing(what: str) -> None:
    message = (
        f"{what} is not reachable: set its URL in the environment, start the local service, "
        "or run where a Docker engine can start a container"
    )
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("BKH_TEST_DATABASE_URL", LOCAL_POSTGRES)
    if _reachable(url, 5432):
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    _missing("PostgreSQL")


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url = os.environ.get("BKH_TEST_AMQP_URL", LOCAL_RABBITMQ)
    if _reachable(url, 5672):
        yield url
        return
    if _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/"
        return
    _missing("RabbitMQ")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis, for the rate limits replicas share (`BKH_TEST_REDIS_URL`, else the local one)."""
    url = os.environ.get("BKH_TEST_REDIS_URL", LOCAL_REDIS)
    if not _reachable(url, 6379):
        _missing("Redis")
    return url


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def fresh_schema(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty schema; dropped with everything in it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_plain_dsn(postgres_url))
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        # Sessions still open in this schema would block the drop; end them first.
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND pid <> pg_backend_pid()",
            f"bkh-test-{schema}",
        )
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    """A schema for this test alone."""
    async with fresh_schema(postgres_url) as schema:
        yield schema


@pytest.fixture
def bus_namespace() -> str:
    return f"bkhtest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def rabbit_bus_factory(
    amqp_url: str, bus_namespace: str
) -> AsyncIterator[RabbitMQBusFactory]:
    async with rabbit_buses(amqp_url, bus_namespace) as factory:
        yield factory


@contextlib.asynccontextmanager
async def rabbit_buses(amqp_url: str, namespace: str) -> AsyncIterator[RabbitMQBusFactory]:
    factory = RabbitMQBusFactory(amqp_url, namespace)
    try:
        yield factory
    finally:
        await factory.cleanup()


class RabbitMQBusFactory:
    """Buses in one test's namespace; afterwards every queue they declared is deleted."""

    def __init__(self, amqp_url: str, namespace: str) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.buses: list[RabbitMQBus] = []
        self.queues: set[str] = set()

    async def __call__(self, retry_policy: RetryPolicy | None = None,
                       name: str = "test") -> RabbitMQBus:
        bus = RabbitMQBus(
            self.amqp_url, namespace=self.namespace, connection_name=f"{self.namespace}-{name}",
            retry_policy=retry_policy or RetryPolicy((50, 100)),
        )
        original_subscribe = bus.subscribe

        async def subscribe_and_remember(queue: str, *args: object, **kwargs: object) -> None:
            self.queues.update({queue, f"{queue}.dead"})
            self.queues.update(retry_queue_name(queue, d) for d in bus.retry_policy.delays_ms)
            await original_subscribe(queue, *args, **kwargs)  # type: ignore[arg-type]

        bus.subscribe = subscribe_and_remember  # type: ignore[method-assign]
        await bus.start()
        self.buses.append(bus)
        return bus

    async def cleanup(self) -> None:
        for bus in self.buses:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.close(), 10)
        connection = await aio_pika.connect(self.amqp_url)
        try:
            channel = await connection.channel()
            for queue in self.queues:
                await channel.queue_delete(queue)
            await channel.exchange_delete(f"{self.namespace}.events")
        finally:
            await connection.close()
