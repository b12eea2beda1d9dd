"""The RabbitMQ bus (aio-pika): durable topic exchange, durable queues, persistent messages.

- Publishing waits for publisher confirms, pipelined: a batch is in flight at once and the call
  returns when all are confirmed, or raises so the outbox keeps the rows and tries again.
- Each consumer queue has retry queues, one per delay, whose messages expire back into it
  (dead-lettering to the default exchange), and a `<queue>.dead` queue for the messages that
  ran out of attempts or could not be understood, with the reason in the headers.
- `connect_robust` restores channels, declarations and consumers after a lost connection;
  deliveries in flight then are redelivered by the broker, and the inbox drops the repeats.
- A lost broker is said once: one WARNING when the connection goes, one INFO when it is back.
  aio-pika and aiormq would say it at ERROR on every forced close and on every attempt while
  the broker is away (once a second); those records of theirs are dropped (`_QuietReconnects`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import aio_pika
import aiormq.abc
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from aio_pika.exceptions import ChannelInvalidStateError

from shared.bus.base import Bus, Delivery, OnDelivery, OutgoingMessage, RetryPolicy

log = logging.getLogger(__name__)

RECONNECT_INTERVAL_S = 1
ATTEMPT_HEADER = "x-bkh-attempt"
REASON_HEADER = "x-bkh-dead-reason"
PUBLISH_TIMEOUT_S = 30.0


class _RabbitDelivery(Delivery):
    def __init__(self, bus: RabbitMQBus, queue: str, message: AbstractIncomingMessage) -> None:
        self._bus, self._queue, self._message = bus, queue, message
        self.body = message.body
        self.routing_key = message.routing_key or ""
        self.message_id = message.message_id
        raw_attempt = (message.headers or {}).get(ATTEMPT_HEADER, 1)
        self.attempt = raw_attempt if isinstance(raw_attempt, int) and raw_attempt > 0 else 1
        self.settled = False

    async def ack(self) -> None:
        await self._settle(self._message.ack())

    @classmethod
    async def ack_all(cls, batch: Sequence[Delivery]) -> None:
        """One `basic.ack multiple` per channel for the whole batch.

        Safe because a consumer settles its deliveries in arrival order, one batch at a time,
        on a channel of its own: every earlier tag on that channel is settled already. After a
        reconnect the old channel is closed, so its stale tags are never sent on the new one.
        """
        last_on_channel: dict[int, tuple[aiormq.abc.AbstractChannel, int]] = {}
        for delivery in batch:
            assert isinstance(delivery, _RabbitDelivery)
            delivery.settled = True
            channel = _open_channel_of(delivery._message)
            tag = delivery._message.delivery_tag
            if channel is not None and tag is not None:
                last_on_channel[id(channel)] = (channel, tag)
            # else: its channel died; the broker redelivers it and the inbox drops the repeat
        for channel, tag in last_on_channel.values():
            try:
                await channel.basic_ack(delivery_tag=tag, multiple=True)
            except Exception as exc:
                log.warning("batch acknowledgement lost", extra={"error": type(exc).__name__})

    async def retry(self, reason: str) -> None:
        delay = self._bus.retry_policy.delay_before(self.attempt + 1)
        if delay is None:
            await self.dead_letter(f"{reason} (after {self.attempt} attempts)")
            return
        await self._bus.forward(
            self, retry_queue_name(self._queue, delay), {ATTEMPT_HEADER: self.attempt + 1}
        )
        await self.ack()

    async def dead_letter(self, reason: str) -> None:
        await self._bus.forward(
            self,
            f"{self._queue}.dead",
            {
                ATTEMPT_HEADER: self.attempt,
                REASON_HEADER: reason[:1000],
                "x-bkh-original-routing-key": self.routing_key,
                "x-bkh-dead-at": datetime.now(UTC).isoformat(),
            },
        )
        await self.ack()

    async def requeue(self) -> None:
        await self._settle(self._message.nack(requeue=True))

    async def _settle(self, operation: Coroutine[Any, Any, None]) -> None:
        if self.settled:
            operation.close()
            return
        self.settled = True
        try:
            await operation
        except Exception as exc:
            # The channel died with the connection: the broker redelivers the message and the
            # inbox drops the repeat, so there is nothing left to settle here.
            log.info("delivery not settled on a closed channel",
                     extra={"error": type(exc).__name__})


def _open_channel_of(message: AbstractIncomingMessage) -> aiormq.abc.AbstractChannel | None:
    try:
        return message.channel
    except ChannelInvalidStateError:
        return None


def retry_queue_name(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def _starts_with(*templates: str) -> Callable[[logging.LogRecord], bool]:
    return lambda record: isinstance(record.msg, str) and record.msg.startswith(templates)


def _callback_found_it_closed(record: logging.LogRecord) -> bool:
    """aio-pika's "Callback … error" for one of its callbacks that found the connection or a
    channel closed under it."""
    if record.msg != "Callback %r error: %s: %s" or not isinstance(record.args, tuple) \
            or len(record.args) != 3:
        return False
    _, kind, error = record.args
    return kind == "ChannelInvalidStateError" or (
        kind == "RuntimeError" and str(error).endswith(" closed"))


# What aio-pika and aiormq log about a connection going and each attempt to bring it back (their
# message templates, aio-pika 10 / aiormq 7); the bus says it itself, once each way.
_RECONNECT_CHATTER: Final = {
    "aio_pika.robust_connection": _starts_with(
        "Connection to %s closed. Reconnecting", 'Connection attempt to "%s" failed',
        'Connection attempt to "%s" cancelled', "Reconnect attempt failed"),
    "aiormq.connection": _starts_with(
        "error when creating transport", "Unexpected connection close from remote",
        "Cancelling cause reader exited abnormally"),
    "aio_pika.tools": _callback_found_it_closed,
}


class _QuietReconnects(logging.Filter):
    def __init__(self, chatter: Callable[[logging.LogRecord], bool]) -> None:
        super().__init__()
        self.chatter = chatter

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.chatter(record)


def _quiet_reconnects() -> None:
    """Once per process: drop the libraries' own records of a lost connection."""
    for name, chatter in _RECONNECT_CHATTER.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _QuietReconnects) for f in logger.filters):
            logger.addFilter(_QuietReconnects(chatter))


class RabbitMQBus(Bus):
    def __init__(
        self,
        url: str,
        *,
        namespace: str = "bkh",
        connection_name: str = "bekhedmetkom",
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.connection_name = connection_name
        self.retry_policy = retry_policy or RetryPolicy()
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consumer_channels: list[AbstractChannel] = []
        self._lost_at: float | None = None  # when the connection went, while it is away

    async def start(self) -> None:
        _quiet_reconnects()
        self._connection = await aio_pika.connect_robust(
            self.url,
            client_properties={"connection_name": self.connection_name},
            reconnect_interval=RECONNECT_INTERVAL_S,
        )
        self._connection.close_callbacks.add(self._on_lost)
        self._connection.reconnect_callbacks.add(self._on_restored)
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    def _on_lost(self, _connection: object, reason: BaseException | None = None) -> None:
        # Also called for each failed attempt while away, and when we close it ourselves.
        if self._connection is None or self._lost_at is not None:
            return
        self._lost_at = time.monotonic()
        log.warning("broker connection lost (%s); reconnecting every %s s",
                    type(reason).__name__ if reason else "closed", RECONNECT_INTERVAL_S,
                    extra={"connection": self.connection_name})

    def _on_restored(self, _connection: object) -> None:
        if self._lost_at is None:
            return
        away_s, self._lost_at = time.monotonic() - self._lost_at, None
        log.info("broker connection restored after %.1f s", away_s,
                 extra={"connection": self.connection_name})

    def is_connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed and bool(
            self._publish_channel and not self._publish_channel.is_closed
        )

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise ConnectionError("the bus has not been started")
        return self._connection

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if self._exchange is None:
            raise ConnectionError("the bus has not been started")
        exchange = self._exchange
        results = await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        message.body,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=message.message_id,
                        correlation_id=message.correlation_id,
                    ),
                    routing_key=message.routing_key,
                    mandatory=False,
                    timeout=PUBLISH_TIMEOUT_S,
                )
                for message in messages
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def forward(self, delivery: Delivery, queue: str, headers: dict[str, object]) -> None:
        """Put a received message into one of our own queues (retry or dead), confirmed."""
        if self._publish_channel is None:
            raise ConnectionError("the bus has not been started")
        await self._publish_channel.default_exchange.publish(
            aio_pika.Message(
                delivery.body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=delivery.message_id,
                headers=headers,  # type: ignore[arg-type]
            ),
            routing_key=queue,
            timeout=PUBLISH_TIMEOUT_S,
        )

    async def subscribe(
        self, queue: str, binding_keys: Sequence[str], on_delivery: OnDelivery, *, prefetch: int
    ) -> None:
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        declared = await channel.declare_queue(queue, durable=True)
        for key in binding_keys:
            await declared.bind(exchange, routing_key=key)
        await channel.declare_queue(f"{queue}.dead", durable=True)
        for delay in sorted(set(self.retry_policy.delays_ms)):
            await channel.declare_queue(
                retry_queue_name(queue, delay),
                durable=True,
                arguments={
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                },
            )

        async def deliver(message: AbstractIncomingMessage) -> None:
            await on_delivery(_RabbitDelivery(self, queue, message))

        await declared.consume(deliver)
        self._consumer_channels.append(channel)

    async def dead_letters(self, queue: str) -> list[tuple[bytes, str]]:
        channel = await self.connection.channel()
        try:
            dead = await channel.declare_queue(f"{queue}.dead", durable=True)
            drained: list[tuple[bytes, str]] = []
            while (message := await dead.get(fail=False)) is not None:
                reason = (message.headers or {}).get(REASON_HEADER, "")
                drained.append((message.body, str(reason)))
                await message.ack()
            return drained
        finally:
            await channel.close()


async def delete_declared(
    url: str, namespace: str, queues: Iterable[str], *, retry_delays_ms: Iterable[int]
) -> None:
    """Delete consumer queues (each with its `.dead` and retry queues) and the namespace's
    exchange: what a test run or a benchmark declared, removed after it."""
    delays = tuple(retry_delays_ms)
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        for queue in queues:
            for doomed in (queue, f"{queue}.dead", *(retry_queue_name(queue, d) for d in delays)):
                await channel.queue_delete(doomed)
        await channel.exchange_delete(f"{namespace}.events")
    finally:
        await connection.close()
