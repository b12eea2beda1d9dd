"""Consuming events with an inbox: at-least-once delivery, exactly-once effect.

Deliveries are gathered into batches while the previous batch is processed (no added wait), and
a whole batch runs in ONE transaction: the event ids go into the `inbox` table (`ON CONFLICT DO
NOTHING RETURNING` tells which are new), the handlers of the new ones run, then it commits and
only then are the messages acknowledged. A crash anywhere before the commit leaves no trace and
the broker redelivers; a crash after it leaves inbox rows that make the redelivery a no-op.

When a handler fails, the batch is rolled back and replayed one event per transaction, so one
poison event cannot hold back its neighbours; the failing one is retried with backoff and, after
the last attempt, dead-lettered with its reason. A database that is down is not the event's
fault: the batch waits and is tried again without spending attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from prometheus_client import Counter
from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, Uuid
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import Bus, Delivery
from shared.bus.outbox import Outbox
from shared.clock import Clock
from shared.db import is_infrastructure_failure
from shared.events.envelope import (
    Envelope,
    EventPayload,
    MalformedEvent,
    UnknownEvent,
    decode_envelope,
    parse_payload,
)
from shared.logging import correlation_id

log = logging.getLogger(__name__)

EVENTS_CONSUMED = Counter(
    "bkh_events_consumed_total", "Events settled by consumers", ["queue", "outcome"]
)


P = TypeVar("P", bound=EventPayload)
P_co = TypeVar("P_co", bound=EventPayload, covariant=True)


@dataclass(frozen=True, slots=True)
class Received(Generic[P_co]):
    """One event as its handler gets it: the envelope, the payload of the class the handler was
    registered for, and the service's outbox stamped with the event's instant, so the events it
    causes carry their cause's time and wake the relay when the transaction commits."""

    envelope: Envelope
    payload: P_co
    outbox: Outbox

    @property
    def at(self) -> datetime:
        return self.envelope.occurred_at


ReceivedEvent = Received[EventPayload]
Handler = Callable[[AsyncSession, Received[P]], Awaitable[None]]
# Takes a run of consecutive events of one type at once: a projection that writes one row per
# event does it in one statement instead of one round trip per event.
BatchHandler = Callable[[AsyncSession, Sequence[Received[P]]], Awaitable[None]]


def _one_by_one(handler: Handler[P]) -> BatchHandler[P]:
    async def apply_each(session: AsyncSession, events: Sequence[Received[P]]) -> None:
        for event in events:
            token = correlation_id.set(event.envelope.correlation_id)
            try:
                await handler(session, event)
            finally:
                correlation_id.reset(token)

    return apply_each


class WrongPayload(Exception):
    """An event whose payload is not the class its handler was registered for (another version
    of the type): retried, then dead-lettered with this reason."""


def _typed(payload_class: type[P], handler: BatchHandler[P]) -> BatchHandler[EventPayload]:
    async def check_then_handle(session: AsyncSession, events: Sequence[ReceivedEvent]) -> None:
        for event in events:
            if not isinstance(event.payload, payload_class):
                raise WrongPayload(f"{event.envelope.type} v{event.envelope.version} is not "
                                   f"{payload_class.__name__}")
        await handler(session, cast(Sequence[Received[P]], events))

    return check_then_handle


class Handlers:
    """The handlers of one queue, each registered by the payload class it takes: the routing key
    is the class's event type, and the handler receives events of that class (checked for real
    at dispatch, so `python -O` keeps the check)::

        LIFECYCLE = Handlers()

        @LIFECYCLE.on(RequestRated)
        async def rated(session: AsyncSession, event: Received[RequestRated]) -> None: ...
    """

    def __init__(self) -> None:
        self.by_type: dict[str, BatchHandler[EventPayload]] = {}

    def on(self, payload_class: type[P]) -> Callable[[Handler[P]], Handler[P]]:
        """Register a handler of one event at a time (each with its correlation id set)."""
        def register(handler: Handler[P]) -> Handler[P]:
            self._add(payload_class, _one_by_one(handler))
            return handler

        return register

    def on_runs(self, payload_class: type[P]) -> Callable[[BatchHandler[P]], BatchHandler[P]]:
        """Register a handler of runs of consecutive events of the class, in arrival order."""
        def register(handler: BatchHandler[P]) -> BatchHandler[P]:
            self._add(payload_class, handler)
            return handler

        return register

    def _add(self, payload_class: type[P], handler: BatchHandler[P]) -> None:
        event_type = payload_class.event_type
        if event_type in self.by_type:
            raise ValueError(f"two handlers for {event_type} in one queue")
        self.by_type[event_type] = _typed(payload_class, handler)


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(120), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )


def failure_reason(exc: BaseException) -> str:
    # Database errors can quote row values (personal data): name the class only.
    if isinstance(exc, DBAPIError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:500]


@dataclass(slots=True)
class _Parsed:
    delivery: Delivery
    event: ReceivedEvent


class EventConsumer:
    """One durable queue of one service, with a handler per event type it listens to."""

    def __init__(
        self,
        *,
        name: str,
        handlers: Handlers,
        sessionmaker: async_sessionmaker[AsyncSession],
        inbox: Table,
        outbox: Outbox,
        clock: Clock,
        batch_size: int = 256,
    ) -> None:
        self.batch_handlers = dict(handlers.by_type)
        if not self.batch_handlers:
            raise ValueError(f"consumer {name} has no handlers")
        self.outbox = outbox
        self.name = name
        self.sessionmaker = sessionmaker
        self.inbox = inbox
        self.clock = clock
        self.batch_size = batch_size
        self._pending: list[Delivery] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, bus: Bus, *, queue: str, prefetch: int) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer:{queue}")
        await bus.subscribe(queue, sorted(self.batch_handlers), self._receive, prefetch=prefetch)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        pending, self._pending = self._pending, []
        for delivery in pending:
            await delivery.requeue()

    async def _receive(self, delivery: Delivery) -> None:
        self._pending.append(delivery)
        self._arrived.set()

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._pending:
                batch = self._pending[: self.batch_size]
                del self._pending[: self.batch_size]
                try:
                    await self.process(batch)
                except asyncio.CancelledError:
                    for delivery in batch:
                        await delivery.requeue()
                    raise

    async def process(self, batch: list[Delivery]) -> None:
        parsed: list[_Parsed] = []
        for delivery in batch:
            item = await self._parse(delivery)
            if item is not None:
                parsed.append(item)
        if parsed:
            await self._apply_with_isolation(parsed)

    async def _parse(self, delivery: Delivery) -> _Parsed | None:
        try:
            envelope = decode_envelope(delivery.body)
            payload = parse_payload(envelope)
        except (MalformedEvent, UnknownEvent) as exc:
            await self._dead_letter(delivery, str(exc))
            return None
        if envelope.type not in self.batch_handlers:
            await self._dead_letter(delivery, f"{self.name} has no handler for {envelope.type}")
            return None
        return _Parsed(delivery, Received(envelope, payload, self.outbox.at(envelope.occurred_at)))

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        log.error("event dead-lettered", extra={"consumer": self.name, "reason": reason})
        EVENTS_CONSUMED.labels(self.name, "dead_lettered").inc()
        await delivery.dead_letter(reason)

    async def _apply_with_isolation(self, items: list[_Parsed]) -> None:
        failure = await self._apply_until_not_infrastructure(items)
        if failure is None:
            await type(items[0].delivery).ack_all([item.delivery for item in items])
            EVENTS_CONSUMED.labels(self.name, "applied").inc(len(items))
            return
        if len(items) > 1:
            for item in items:  # find the culprit: one event, one transaction
                await self._apply_with_isolation([item])
            return
        (item,) = items
        reason = failure_reason(failure)
        log.warning(
            "event handler failed",
            extra={"consumer": self.name, "event_id": str(item.event.envelope.id),
                   "attempt": item.delivery.attempt, "reason": reason},
        )
        EVENTS_CONSUMED.labels(self.name, "retried").inc()
        await item.delivery.retry(reason)

    async def _apply_until_not_infrastructure(self, items: list[_Parsed]) -> Exception | None:
        """Apply in one transaction; wait out database outages; return a handler's failure."""
        pause = 0.1
        while True:
            try:
                await self._apply(items)
                return None
            except Exception as exc:
                if not is_infrastructure_failure(exc):
                    return exc
                log.warning(
                    "database unavailable to consumer, waiting",
                    extra={"consumer": self.name, "error": type(exc).__name__},
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _apply(self, items: list[_Parsed]) -> None:
        async with self.sessionmaker.begin() as session:
            fresh = await self._record_in_inbox(session, items)
            events: list[ReceivedEvent] = []
            for item in items:
                if item.event.envelope.id in fresh:
                    fresh.discard(item.event.envelope.id)  # twice in one batch: apply once
                    events.append(item.event)
            # Runs of one type go to their handler together; order across types is kept.
            for event_type, run in itertools.groupby(events, key=lambda e: e.envelope.type):
                await self.batch_handlers[event_type](session, list(run))

    async def _record_in_inbox(self, session: AsyncSession, items: list[_Parsed]) -> set[Any]:
        now = self.clock.now()
        rows = {
            item.event.envelope.id: {
                "consumer": self.name,
                "event_id": item.event.envelope.id,
                "processed_at": now,
            }
            for item in items
        }
        # Parameters passed as a list (executemany, sent as batched VALUES by SQLAlchemy's
        # "insertmanyvalues") keep one cached statement; `.values(list)` would compile a new
        # statement for every batch, which cost more than the rest of the consumer together.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(self.inbox).on_conflict_do_nothing().returning(self.inbox.c.event_id)
        )
        return set((await session.execute(statement, list(rows.values()))).scalars())
