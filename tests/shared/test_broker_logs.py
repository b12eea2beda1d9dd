"""A lost broker is said once, at the right level: one WARNING when the connection goes, one
INFO when it is back, and nothing at ERROR, whether the broker closed the connection (as an
operator's `rabbitmqctl close_connection` does) or was away for seconds (a cut link: every
attempt refused). And the bus works afterwards. On the real RabbitMQ, through
tests/breakable_link.py, so no other test's connection is touched."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared.bus.base import Delivery, OutgoingMessage
from shared.bus.rabbitmq import RabbitMQBus, delete_declared
from tests.breakable_link import BreakableLink

BUS_LOGGER = "shared.bus.rabbitmq"


def _close_connection_named(name: str) -> None:
    """Have the broker close our connection (Connection.Close), as an operator would."""
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is not on this machine: the broker cannot close a connection "
                    "on purpose (RabbitMQ's server package provides it)")
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "--no-table-headers",
         "-q"], capture_output=True, text=True, check=True, timeout=60)
    pids = [line.split("\t", 1)[0] for line in listed.stdout.splitlines() if name in line]
    assert len(pids) == 1, listed.stdout
    subprocess.run(["rabbitmqctl", "close_connection", pids[0], "closed by a test"],
                   capture_output=True, check=True, timeout=60)


async def _until(condition: Callable[[], bool], limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.05)


@pytest.fixture
async def link(amqp_url: str) -> AsyncIterator[BreakableLink]:
    broker = urlsplit(amqp_url)
    async with BreakableLink(broker.hostname or "127.0.0.1", broker.port or 5672) as opened:
        yield opened


async def test_a_lost_broker_is_one_warning_going_and_one_info_back_and_never_an_error(
    amqp_url: str, link: BreakableLink, caplog: pytest.LogCaptureFixture,
) -> None:
    broker = urlsplit(amqp_url)
    through_link = urlunsplit(broker._replace(netloc=f"{broker.username}:{broker.password}"
                                              f"@127.0.0.1:{link.port}"))
    tag = uuid.uuid4().hex[:8]
    namespace, name = f"bkhtest-logs-{tag}", f"bkh-test-logs-{tag}"
    queue = f"{namespace}.test.logs"
    bus = RabbitMQBus(through_link, namespace=namespace, connection_name=name)
    received: list[str] = []

    async def on_delivery(delivery: Delivery) -> None:
        received.append(delivery.message_id or "")
        await delivery.ack()

    def restored() -> bool:
        return any(r.name == BUS_LOGGER and r.levelno == logging.INFO for r in caplog.records)

    caplog.set_level(logging.DEBUG)
    await bus.start()
    try:
        await bus.subscribe(queue, ["test.logs"], on_delivery, prefetch=10)
        caplog.clear()

        # The broker closes the connection.
        await asyncio.to_thread(_close_connection_named, name)
        await _until(restored)
        closed = list(caplog.records)
        caplog.clear()

        # The broker away for three seconds: three attempts or more, each refused.
        await link.cut()
        await asyncio.sleep(3.5)
        await link.restore()
        await _until(restored)
        away = list(caplog.records)

        await bus.publish([OutgoingMessage("test.logs", b"{}", "after")])
        await _until(lambda: "after" in received)
    finally:
        await bus.close()
        await delete_declared(amqp_url, namespace, [queue], retry_delays_ms=bus.retry_policy
                              .delays_ms)

    for episode in (closed, away):
        ours = [(r.levelname, r.getMessage()) for r in episode if r.name == BUS_LOGGER]
        assert [level for level, _ in ours] == ["WARNING", "INFO"], ours
        assert ours[0][1].startswith("broker connection lost")
        assert ours[1][1].startswith("broker connection restored after")
        loud = [(r.name, r.levelname, r.msg) for r in episode
                if r.levelno >= logging.WARNING and r.name != BUS_LOGGER]
        assert loud == []
