"""The bus interface both transports implement: RabbitMQ in production, in-process when embedded.

Semantics, the same for both: topic routing by event type; publish returns only once every
message is confirmed (raises otherwise, and the outbox keeps the rows); delivery is
at-least-once; a handler that fails is retried after growing delays and, after the last
attempt, dead-lettered with its reason; a message that cannot be understood is dead-lettered
at once. Effects are made exactly-once above this layer, by the inbox (`shared.bus.consumer`).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from shared.events.envelope import Envelope


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    correlation_id: str | None = None

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> OutgoingMessage:
        return cls(
            routing_key=envelope.type,
            body=envelope.model_dump_json().encode(),
            message_id=str(envelope.id),
            correlation_id=envelope.correlation_id,
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays before the 2nd, 3rd, … attempt; the attempt after the last delay is the last."""

    delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 300_000)

    @property
    def max_attempts(self) -> int:
        return len(self.delays_ms) + 1

    def delay_before(self, attempt: int) -> int | None:
        """Milliseconds to wait before `attempt` (2-based), or None when none is left."""
        index = attempt - 2
        return self.delays_ms[index] if 0 <= index < len(self.delays_ms) else None


class Delivery(abc.ABC):
    """One received message, settled exactly once by ack, retry, dead_letter or requeue."""

    body: bytes
    routing_key: str
    message_id: str | None
    attempt: int  # 1 for the first delivery; grows with every retry, not with redelivery

    @abc.abstractmethod
    async def ack(self) -> None: ...

    @classmethod
    async def ack_all(cls, batch: Sequence[Delivery]) -> None:
        """Acknowledge a whole batch; transports that can do it in one frame override this."""
        for delivery in batch:
            await delivery.ack()

    @abc.abstractmethod
    async def retry(self, reason: str) -> None:
        """Try again later, or dead-letter when the attempts are used up."""

    @abc.abstractmethod
    async def dead_letter(self, reason: str) -> None: ...

    @abc.abstractmethod
    async def requeue(self) -> None:
        """Give the message back untouched (shutting down; not the message's fault)."""


OnDelivery = Callable[[Delivery], Awaitable[None]]


class Bus(abc.ABC):
    namespace: str

    @property
    def exchange_name(self) -> str:
        return f"{self.namespace}.events"

    def queue_name(self, service: str, consumer: str) -> str:
        return queue_name(self.namespace, service, consumer)

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish all and return once the broker has confirmed every one; raise otherwise."""

    @abc.abstractmethod
    async def subscribe(
        self,
        queue: str,
        binding_keys: Sequence[str],
        on_delivery: OnDelivery,
        *,
        prefetch: int,
    ) -> None:
        """Declare a durable queue bound to these routing keys and feed its messages to
        `on_delivery`; consumption resumes by itself after a lost connection."""

    @abc.abstractmethod
    async def dead_letters(self, queue: str) -> list[tuple[bytes, str]]:
        """Drain the dead-letter queue of `queue`: (body, reason) pairs. For ops and tests."""


def queue_name(namespace: str, service: str, consumer: str) -> str:
    """`<namespace>.<service>.<consumer>`: one durable queue per consumer of a service."""
    return f"{namespace}.{service}.{consumer}"


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
