"""The bus, the outbox and the inbox keep their promises on both transports and both databases.

Every test here runs against the in-process twin and against real RabbitMQ; the storage tests
run against SQLite (embedded) and real PostgreSQL (distributed).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Bus, InMemoryBus, OutgoingMessage, Received, RetryPolicy
from shared.bus.base import topic_matches
from shared.events import new_envelope
from shared.events.catalog import NotificationSent
from tests.conftest import fresh_schema, rabbit_buses
from tests.shared.ledger import (
    CLOCK,
    EVENT_TYPE,
    Handler,
    Ledger,
    count_effect,
    ledger_event,
    open_ledger,
    running,
)

FAST_RETRIES = RetryPolicy((50, 100))  # three attempts, quickly


@pytest.fixture(params=["memory", "rabbitmq"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        memory = InMemoryBus(namespace="test", retry_policy=FAST_RETRIES)
        await memory.start()
        yield memory
        await memory.close()
    else:
        amqp_url, namespace = (request.getfixturevalue(n) for n in ("amqp_url", "bus_namespace"))
        async with rabbit_buses(amqp_url, namespace) as factory:
            yield await factory(FAST_RETRIES)


@pytest.fixture(params=["sqlite", "postgresql"])
async def ledger(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Ledger]:
    if request.param == "sqlite":
        async with open_ledger(f"sqlite+aiosqlite:///{tmp_path}/ledger.db") as opened:
            yield opened
    else:
        url = request.getfixturevalue("postgres_url")
        async with fresh_schema(url) as schema, open_ledger(url, schema=schema) as opened:
            yield opened


def queue_of(bus: Bus) -> str:
    return bus.queue_name("ledger", "main")


async def start_consumer(ledger: Ledger, bus: Bus, handler: Handler = count_effect) -> None:
    await ledger.consumer(handler).start(bus, queue=queue_of(bus), prefetch=100)


async def test_events_written_through_the_outbox_are_applied_exactly_once(
    ledger: Ledger, bus: Bus
) -> None:
    await start_consumer(ledger, bus)
    ids = [i for _ in range(20) for i in await ledger.deposit(10)]
    async with running(ledger.relay(bus).run()):
        counts = await ledger.wait_for_effects(len(ids))
        assert await ledger.wait_until_relayed() == 0
    assert counts == {i: 1 for i in ids}


async def test_an_event_in_a_rolled_back_transaction_is_never_published(
    ledger: Ledger, bus: Bus
) -> None:
    await start_consumer(ledger, bus)

    async def change_mind() -> None:
        async with ledger.sessionmaker.begin() as session:
            await ledger.outbox.add(session, ledger_event())
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await change_mind()
    kept = await ledger.deposit()
    async with running(ledger.relay(bus).run()):
        counts = await ledger.wait_for_effects(1)
        await asyncio.sleep(0.2)  # room for a wrongly published event to arrive too
    assert counts == {kept[0]: 1}
    assert await ledger.applied_counts() == {kept[0]: 1}


async def test_a_redelivered_event_has_its_effect_once(ledger: Ledger, bus: Bus) -> None:
    await start_consumer(ledger, bus)
    envelope = new_envelope(ledger_event(), producer="ledger", clock=CLOCK)
    message = OutgoingMessage.from_envelope(envelope)
    await bus.publish([message, message])
    await bus.publish([message])
    follower = new_envelope(ledger_event(), producer="ledger", clock=CLOCK)
    await bus.publish([OutgoingMessage.from_envelope(follower)])
    counts = await ledger.wait_for_effects(2)
    await asyncio.sleep(0.2)
    assert await ledger.applied_counts() == {envelope.id: 1, follower.id: 1}
    assert counts[envelope.id] == 1


async def test_garbage_is_dead_lettered_with_its_reason_and_the_queue_keeps_flowing(
    ledger: Ledger, bus: Bus
) -> None:
    await start_consumer(ledger, bus)
    unknown_version = new_envelope(ledger_event(), producer="ledger", clock=CLOCK).model_copy(
        update={"version": 99}
    )
    await bus.publish([
        OutgoingMessage(EVENT_TYPE, b"{not json", "bad-1"),
        OutgoingMessage(EVENT_TYPE, b'{"id": "x"}', "bad-2"),
        OutgoingMessage.from_envelope(unknown_version),
    ])
    good = new_envelope(ledger_event(), producer="ledger", clock=CLOCK)
    await bus.publish([OutgoingMessage.from_envelope(good)])
    assert await ledger.wait_for_effects(1) == {good.id: 1}
    dead = await wait_for_dead_letters(bus, 3)
    reasons = sorted(reason for _, reason in dead)
    assert [b for b, _ in dead if b == b"{not json"], dead
    assert sum("not an event envelope" in r for r in reasons) == 2, reasons
    assert sum(f"unknown event {EVENT_TYPE} v99" in r for r in reasons) == 1, reasons


async def test_a_poison_event_is_retried_then_dead_lettered_while_others_flow(
    ledger: Ledger, bus: Bus
) -> None:
    poison = new_envelope(ledger_event(), producer="ledger", clock=CLOCK)
    attempts: list[int] = []

    async def refuse_poison(session: AsyncSession, event: Received[NotificationSent]) -> None:
        if event.envelope.id == poison.id:
            attempts.append(1)
            raise ValueError("this event cannot be applied")
        await count_effect(session, event)

    await start_consumer(ledger, bus, refuse_poison)
    neighbours = [new_envelope(ledger_event(), producer="ledger", clock=CLOCK) for _ in range(5)]
    await bus.publish([OutgoingMessage.from_envelope(e) for e in [poison, *neighbours]])
    assert await ledger.wait_for_effects(5) == {e.id: 1 for e in neighbours}
    dead = await wait_for_dead_letters(bus, 1)
    assert len(dead) == 1
    body, reason = dead[0]
    assert str(poison.id) in body.decode()
    assert "ValueError: this event cannot be applied (after 3 attempts)" in reason
    assert len(attempts) >= FAST_RETRIES.max_attempts
    assert poison.id not in await ledger.applied_counts()


async def test_an_event_whose_handler_fails_once_is_applied_on_retry(
    ledger: Ledger, bus: Bus
) -> None:
    failed: set[uuid.UUID] = set()

    async def flaky(session: AsyncSession, event: Received[NotificationSent]) -> None:
        if event.envelope.id not in failed:
            failed.add(event.envelope.id)
            raise RuntimeError("temporary trouble")
        await count_effect(session, event)

    await start_consumer(ledger, bus, flaky)
    envelope = new_envelope(ledger_event(), producer="ledger", clock=CLOCK)
    await bus.publish([OutgoingMessage.from_envelope(envelope)])
    assert await ledger.wait_for_effects(1) == {envelope.id: 1}
    assert await bus.dead_letters(queue_of(bus)) == []


async def wait_for_dead_letters(bus: Bus, expected: int) -> list[tuple[bytes, str]]:
    collected: list[tuple[bytes, str]] = []
    for _ in range(100):
        collected += await bus.dead_letters(queue_of(bus))
        if len(collected) >= expected:
            break
        await asyncio.sleep(0.1)
    return collected


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("request.submitted", "request.submitted", True),
        ("request.*", "request.submitted", True),
        ("request.*", "request.submitted.v2", False),
        ("#", "sla.escalated", True),
        ("request.#", "request", True),
        ("*.escalated", "sla.escalated", True),
        ("sla.escalated", "sla.breached", False),
    ],
)
def test_topic_patterns_match_as_amqp_does(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches
