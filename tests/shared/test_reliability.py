"""Nothing is lost and nothing is applied twice when the broker or the database misbehaves.

These tests break real RabbitMQ and PostgreSQL on purpose (`rabbitmqctl stop_app`, closed
connections, `pg_terminate_backend`, a consumer killed with SIGKILL), so they need local control
of both; with CI=true that control missing is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from shared.bus import RetryPolicy
from tests.conftest import IN_CI, RabbitMQBusFactory
from tests.shared.ledger import Ledger, deposits, open_ledger, running

pytestmark = pytest.mark.chaos

PATIENT_RETRIES = RetryPolicy((200, 1_000, 5_000))


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def broker_control() -> None:
    if shutil.which("rabbitmqctl") is None:
        message = "rabbitmqctl is not on this machine: the broker cannot be stopped on purpose"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
async def ledger(postgres_url: str, pg_schema: str) -> AsyncIterator[Ledger]:
    async with open_ledger(postgres_url, schema=pg_schema) as opened:
        yield opened


async def test_5000_events_survive_a_broker_restart_and_closed_connections(
    ledger: Ledger, rabbit_bus_factory: RabbitMQBusFactory, broker_control: None
) -> None:
    publisher = await rabbit_bus_factory(PATIENT_RETRIES, name="relay")
    subscriber = await rabbit_bus_factory(PATIENT_RETRIES, name="consumer")
    queue = subscriber.queue_name("ledger", "main")
    await ledger.consumer().start(subscriber, queue=queue, prefetch=200)

    async def produce() -> None:
        for _ in range(100):
            await deposit_until_it_commits(ledger, 50)
            await asyncio.sleep(0.02)

    async def break_the_broker() -> None:
        await wait_until(lambda: ledger.count(deposits), at_least=1_000)
        await asyncio.to_thread(rabbitmqctl, "close_all_connections", "chaos test")
        await wait_until(lambda: ledger.count(deposits), at_least=2_500)
        await asyncio.to_thread(rabbitmqctl, "stop_app")
        await asyncio.sleep(3)
        await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(rabbitmqctl, "await_startup")

    try:
        async with running(ledger.relay(publisher).run()):
            chaos = asyncio.create_task(break_the_broker())
            await produce()
            await chaos  # the broker really went away while events were flowing
            counts = await ledger.wait_for_effects(5_000, timeout_s=180)
            left_in_outbox = await ledger.wait_until_relayed()
    finally:
        await asyncio.to_thread(rabbitmqctl, "start_app")  # never leave the broker stopped

    assert len(counts) == 5_000
    assert set(counts.values()) == {1}, "an event had its effect more than once"
    assert left_in_outbox == 0


async def test_a_consumer_killed_inside_a_handler_has_the_event_applied_once(
    ledger: Ledger, rabbit_bus_factory: RabbitMQBusFactory, postgres_url: str, pg_schema: str,
    tmp_path: Path,
) -> None:
    bus = await rabbit_bus_factory(PATIENT_RETRIES)
    queue = bus.queue_name("ledger", "main")
    inside = tmp_path / "inside-handler"
    victim = subprocess.Popen(
        [sys.executable, "-m", "tests.shared.stuck_consumer", postgres_url, pg_schema,
         bus.url, bus.namespace, queue, str(inside)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        await wait_until_path(inside)
        event_ids = await ledger.deposit(3)
        async with running(ledger.relay(bus).run()):
            await wait_until_path(inside, containing=str(event_ids[0]))
            victim.send_signal(signal.SIGKILL)  # mid-handler, transaction open
            victim.wait(timeout=10)
            await ledger.consumer().start(bus, queue=queue, prefetch=10)
            counts = await ledger.wait_for_effects(3)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert counts == {event_id: 1 for event_id in event_ids}


async def test_terminated_database_connections_lose_nothing_and_half_write_nothing(
    ledger: Ledger, rabbit_bus_factory: RabbitMQBusFactory, postgres_url: str, pg_schema: str
) -> None:
    bus = await rabbit_bus_factory(PATIENT_RETRIES)
    await ledger.consumer().start(bus, queue=bus.queue_name("ledger", "main"), prefetch=200)
    stop = asyncio.Event()
    terminated: list[int] = []

    async def terminate_backends() -> None:
        admin = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            while not stop.is_set():
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = $1", f"bkh-test-{pg_schema}",
                )
                terminated.append(killed)
                await asyncio.sleep(0.3)
        finally:
            await admin.close()

    async with running(ledger.relay(bus).run(), terminate_backends()):
        for _ in range(60):
            await deposit_until_it_commits(ledger, 50)
        stop.set()
        counts = await ledger.wait_for_effects(3_000, timeout_s=120)
        left_in_outbox = await ledger.wait_until_relayed()

    assert sum(terminated) >= 5, "the chaos never reached the pool's connections"
    assert await ledger.count(deposits) == 3_000, "a deposit was lost or half-written"
    assert len(counts) == 3_000
    assert set(counts.values()) == {1}
    assert left_in_outbox == 0


async def deposit_until_it_commits(ledger: Ledger, count: int) -> None:
    """What a service's caller does when its transaction dies with its connection: try again."""
    for _ in range(100):
        try:
            await ledger.deposit(count)
            return
        except Exception:
            await asyncio.sleep(0.05)
    raise AssertionError("could not commit a deposit in 100 tries")


async def wait_until(read: Callable[[], Awaitable[int]], *, at_least: int,
                     timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while await read() < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached {at_least}")
        await asyncio.sleep(0.05)


async def wait_until_path(path: Path, *, containing: str = "", timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and containing in path.read_text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never said {containing!r}")
        await asyncio.sleep(0.05)
