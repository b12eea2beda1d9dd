"""Dead letters, for the ops team: `python -m services dead-letters NAME [--replay]`.

A consumer moves an event it gave up on to `<queue>.dead`, with the reason in a header; the
broker moves a message that crashed its consumer too often to `<namespace>.poison`
(deploy/k8s/base/data/messaging-topology.yaml). Listing takes each message and gives it back
(closing the channel returns every unacknowledged message, in order); replaying publishes it
to its queue as a new first attempt, with confirms, and only then removes it. A replayed event
the consumer had applied already is dropped by its inbox.

What it must never do: print or log an event's payload (it carries people's data), or remove a
message before its copy is confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared.bus.rabbitmq import REASON_HEADER

ORIGIN_HEADER = "x-first-death-queue"  # set by the broker when it dead-letters a message


@dataclass(frozen=True, slots=True)
class DeadLetter:
    queue: str  # where it goes back to
    event_id: str | None
    event_type: str
    correlation_id: str | None
    reason: str


def poison_queue(namespace: str) -> str:
    return f"{namespace}.poison"


def describe(message: AbstractIncomingMessage, queue: str) -> DeadLetter:
    try:
        envelope = json.loads(message.body)
        event_type = str(envelope.get("type", "?")) if isinstance(envelope, dict) else "?"
    except ValueError:
        event_type = "not an envelope"
    reason = _header(message, REASON_HEADER)
    if reason is None:
        reason = f"{_header(message, 'x-first-death-reason') or '?'} (by the broker)"
    return DeadLetter(queue=queue, event_id=message.message_id, event_type=event_type,
                      correlation_id=message.correlation_id, reason=reason)


def _header(message: AbstractIncomingMessage, name: str) -> str | None:
    value = (message.headers or {}).get(name)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, str) else None


def _origin(message: AbstractIncomingMessage) -> str | None:
    return _header(message, ORIGIN_HEADER)


def back_to(dead_queue: str) -> Callable[[AbstractIncomingMessage], str | None]:
    """Where a message of `dead_queue` goes back to: its consumer queue."""
    if dead_queue.endswith(".dead"):
        queue = dead_queue.removesuffix(".dead")
        return lambda _message: queue
    return _origin


async def inspect(connection: AbstractRobustConnection, dead_queue: str, *,
                  belongs: Callable[[str], bool] = lambda _queue: True,
                  limit: int = 100) -> list[DeadLetter]:
    """Up to `limit` dead letters of `dead_queue`, left where they are."""
    target_of = back_to(dead_queue)
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(dead_queue, durable=True)
        found: list[DeadLetter] = []
        while len(found) < limit and (message := await queue.get(fail=False)) is not None:
            target = target_of(message)
            if target is not None and belongs(target):
                found.append(describe(message, target))
        return found
    finally:
        await channel.close()  # every message taken goes back, unacknowledged


async def replay(connection: AbstractRobustConnection, dead_queue: str, *,
                 belongs: Callable[[str], bool] = lambda _queue: True,
                 limit: int | None = None) -> list[DeadLetter]:
    """Move dead letters back to their queues as first attempts; returns what was moved."""
    target_of = back_to(dead_queue)
    # A message the broker returns (its queue is gone) raises: it stays dead, never lost.
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    moved: list[DeadLetter] = []
    try:
        queue = await channel.declare_queue(dead_queue, durable=True)
        while limit is None or len(moved) < limit:
            message = await queue.get(fail=False)
            if message is None:
                break
            target = target_of(message)
            if target is None or not belongs(target):
                continue  # another service's: left unacknowledged, back when the channel closes
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    content_type=message.content_type or "application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                ),
                routing_key=target,
                mandatory=True,
            )
            await message.ack()
            moved.append(describe(message, target))
        return moved
    finally:
        await channel.close()
