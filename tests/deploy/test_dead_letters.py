"""`python -m services dead-letters`: listing leaves dead letters in place, replaying moves
them back to their queue as first attempts, and poison messages go back to the queue they came
from. Against real RabbitMQ, in the test's own namespace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection

from services import dead_letters
from shared.bus.rabbitmq import ATTEMPT_HEADER, REASON_HEADER


@pytest.fixture
async def connection(amqp_url: str, bus_namespace: str
                     ) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url)
    yield connection
    channel = await connection.channel()
    for queue in ("svc.one", "svc.one.dead", "svc.two", "other.three", "poison"):
        await channel.queue_delete(f"{bus_namespace}.{queue}")
    await connection.close()


async def put(connection: AbstractRobustConnection, queue: str, *, headers: dict[str, object],
              event_type: str = "request.submitted") -> str:
    channel = await connection.channel(publisher_confirms=True)
    await channel.declare_queue(queue, durable=True)
    event_id = str(uuid.uuid4())
    body = f'{{"id": "{event_id}", "type": "{event_type}", "payload": {{"name": "private"}}}}'
    await channel.default_exchange.publish(
        aio_pika.Message(body.encode(), message_id=event_id, correlation_id="BKH-1",
                         headers=headers),  # type: ignore[arg-type]
        routing_key=queue,
    )
    await channel.close()
    return event_id


async def depth(connection: AbstractRobustConnection, queue: str) -> int:
    channel = await connection.channel()
    declared = await channel.declare_queue(queue, durable=True)
    count = declared.declaration_result.message_count or 0
    await channel.close()
    return count


async def test_listing_names_each_dead_letter_and_leaves_it_there(
    connection: AbstractRobustConnection, bus_namespace: str
) -> None:
    dead = f"{bus_namespace}.svc.one.dead"
    first = await put(connection, dead, headers={REASON_HEADER: "KeyError: 'x' (after 5 attempts)",
                                                 ATTEMPT_HEADER: 5})
    second = await put(connection, dead, headers={REASON_HEADER: "unknown event type"},
                       event_type="nonsense")
    letters = await dead_letters.inspect(connection, dead)
    assert [(d.event_id, d.event_type, d.reason) for d in letters] == [
        (first, "request.submitted", "KeyError: 'x' (after 5 attempts)"),
        (second, "nonsense", "unknown event type"),
    ]
    assert all(d.queue == f"{bus_namespace}.svc.one" for d in letters)
    assert all("private" not in repr(d) for d in letters)  # never the payload
    assert await depth(connection, dead) == 2


async def test_replay_moves_them_back_as_first_attempts(
    connection: AbstractRobustConnection, bus_namespace: str
) -> None:
    dead, queue = f"{bus_namespace}.svc.one.dead", f"{bus_namespace}.svc.one"
    event_id = await put(connection, dead, headers={REASON_HEADER: "boom", ATTEMPT_HEADER: 5})
    await depth(connection, queue)  # the consumer's queue exists (declared at start-up)
    moved = await dead_letters.replay(connection, dead)
    assert [d.event_id for d in moved] == [event_id]
    assert await depth(connection, dead) == 0
    channel = await connection.channel()
    replayed = await (await channel.declare_queue(queue, durable=True)).get(no_ack=True)
    assert replayed.message_id == event_id
    assert replayed.correlation_id == "BKH-1"
    assert ATTEMPT_HEADER not in (replayed.headers or {})  # a first attempt again
    await channel.close()


async def test_poison_goes_back_to_its_own_queue_and_others_stay(
    connection: AbstractRobustConnection, bus_namespace: str
) -> None:
    poison = dead_letters.poison_queue(bus_namespace)
    ours = await put(connection, poison, headers={"x-first-death-queue": f"{bus_namespace}.svc.two",
                                                  "x-first-death-reason": "delivery_limit"})
    await put(connection, poison, headers={"x-first-death-queue": f"{bus_namespace}.other.three"})
    mine = {f"{bus_namespace}.svc.two"}
    await depth(connection, f"{bus_namespace}.svc.two")
    listed = await dead_letters.inspect(connection, poison, belongs=mine.__contains__)
    assert [(d.event_id, d.reason) for d in listed] == [(ours, "delivery_limit (by the broker)")]
    moved = await dead_letters.replay(connection, poison, belongs=mine.__contains__)
    assert [d.event_id for d in moved] == [ours]
    assert await depth(connection, f"{bus_namespace}.svc.two") == 1
    assert await depth(connection, poison) == 1  # the other service's, untouched


async def test_a_dead_letter_whose_queue_is_gone_stays_dead(
    connection: AbstractRobustConnection, bus_namespace: str
) -> None:
    dead = f"{bus_namespace}.svc.one.dead"
    await put(connection, dead, headers={REASON_HEADER: "boom"})
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await dead_letters.replay(connection, dead)
    assert await depth(connection, dead) == 1
