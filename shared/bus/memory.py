"""The in-process bus of the embedded mode: the RabbitMQ semantics without a broker.

Queues exist from their first subscription on; a message routed to no queue is dropped, as on a
topic exchange. Unacknowledged messages go back to their queue when the bus closes; retries wait
their delay on the event loop; dead letters are kept per queue with their reason. Nothing
survives the process: in the embedded mode the outbox (on disk) is what keeps events safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.bus.base import Bus, Delivery, OnDelivery, OutgoingMessage, RetryPolicy, topic_matches

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Message:
    body: bytes
    routing_key: str
    message_id: str | None
    attempt: int = 1


@dataclass
class _Queue:
    name: str
    binding_keys: tuple[str, ...]
    on_delivery: OnDelivery
    prefetch: int
    ready: deque[_Message] = field(default_factory=deque)
    unacked: set[_MemoryDelivery] = field(default_factory=set)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class _MemoryDelivery(Delivery):
    def __init__(self, bus: InMemoryBus, queue: _Queue, message: _Message) -> None:
        self._bus, self._queue, self._message = bus, queue, message
        self.body = message.body
        self.routing_key = message.routing_key
        self.message_id = message.message_id
        self.attempt = message.attempt

    def _settle(self) -> bool:
        if self not in self._queue.unacked:
            return False  # settled already, or given back when the bus closed
        self._queue.unacked.discard(self)
        self._queue.wakeup.set()
        return True

    async def ack(self) -> None:
        self._settle()

    async def retry(self, reason: str) -> None:
        if not self._settle():
            return
        delay = self._bus.retry_policy.delay_before(self.attempt + 1)
        if delay is None:
            self._bus.dead_lettered[self._queue.name].append(
                (self.body, f"{reason} (after {self.attempt} attempts)")
            )
            return
        again = _Message(self.body, self.routing_key, self.message_id, self.attempt + 1)
        self._bus.schedule(delay / 1000, self._queue, again)

    async def dead_letter(self, reason: str) -> None:
        if self._settle():
            self._bus.dead_lettered[self._queue.name].append((self.body, reason))

    async def requeue(self) -> None:
        if self._settle():
            self._queue.ready.appendleft(self._message)


class InMemoryBus(Bus):
    def __init__(self, *, namespace: str = "bkh", retry_policy: RetryPolicy | None = None) -> None:
        self.namespace = namespace
        self.retry_policy = retry_policy or RetryPolicy()
        self.dead_lettered: dict[str, list[tuple[bytes, str]]] = defaultdict(list)
        self._queues: dict[str, _Queue] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def close(self) -> None:
        self._running = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for queue in self._queues.values():
            if queue.task is not None:
                queue.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.task
            for delivery in list(queue.unacked):
                await delivery.requeue()

    def is_connected(self) -> bool:
        return self._running

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not self._running:
            raise ConnectionError("the in-process bus is not running")
        for message in messages:
            for queue in self._queues.values():
                if any(topic_matches(key, message.routing_key) for key in queue.binding_keys):
                    queue.ready.append(
                        _Message(message.body, message.routing_key, message.message_id)
                    )
                    queue.wakeup.set()

    async def subscribe(
        self, queue: str, binding_keys: Sequence[str], on_delivery: OnDelivery, *, prefetch: int
    ) -> None:
        if queue in self._queues:
            raise ValueError(f"queue {queue} already has a consumer")
        state = _Queue(queue, tuple(binding_keys), on_delivery, prefetch)
        self._queues[queue] = state
        state.task = asyncio.create_task(self._pump(state), name=f"bus:{queue}")

    async def dead_letters(self, queue: str) -> list[tuple[bytes, str]]:
        drained = list(self.dead_lettered[queue])
        self.dead_lettered[queue].clear()
        return drained

    def schedule(self, delay_s: float, queue: _Queue, message: _Message) -> None:
        def deliver() -> None:
            self._timers.discard(timer)
            queue.ready.append(message)
            queue.wakeup.set()

        timer = asyncio.get_running_loop().call_later(delay_s, deliver)
        self._timers.add(timer)

    async def _pump(self, queue: _Queue) -> None:
        while True:
            await queue.wakeup.wait()
            queue.wakeup.clear()
            while queue.ready and len(queue.unacked) < queue.prefetch:
                delivery = _MemoryDelivery(self, queue, queue.ready.popleft())
                queue.unacked.add(delivery)
                try:
                    await queue.on_delivery(delivery)
                except Exception:  # a consumer's bug must not stop the queue
                    log.exception("consumer callback failed", extra={"queue": queue.name})
                    await delivery.requeue()
