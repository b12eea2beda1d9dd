"""The transactional outbox, and the relay that empties it into the bus.

A service never publishes directly: it adds the event to its `outbox` table in the same
transaction as the state change it announces, so both happen or neither does. The relay claims
the oldest rows (`FOR UPDATE SKIP LOCKED`, so several relays share the work without waiting
for each other), publishes them with confirms, and deletes them in the same transaction. A
crash between confirm and delete publishes a row twice; the consumers' inbox drops the repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, Uuid, delete, event
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared.bus.base import Bus, OutgoingMessage
from shared.clock import Clock, FixedClock
from shared.db import BigIntegerPK
from shared.events.envelope import Envelope, EventPayload, new_envelope
from shared.waiting import wait_at_most

log = logging.getLogger(__name__)

EVENTS_RELAYED = Counter(
    "bkh_outbox_relayed_total", "Events published from the outbox", ["service"]
)
_WAKE_AFTER_COMMIT = "bkh_outbox_wake"


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("correlation_id", String(120)),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


class Outbox:
    """Writes events into the caller's transaction; wakes the relay once that commits."""

    def __init__(
        self, table: Table, *, producer: str, clock: Clock, wake: Callable[[], None] | None = None
    ) -> None:
        self.table = table
        self.producer = producer
        self.clock = clock
        self._wake = wake

    def at(self, instant: datetime) -> Outbox:
        """This outbox with its clock stopped at `instant` (and the same wake-up): for events
        caused by an event, stamped with their cause's time."""
        return Outbox(self.table, producer=self.producer, clock=FixedClock(instant),
                      wake=self._wake)

    async def add(
        self, session: AsyncSession, payload: EventPayload, *, correlation_id: str | None = None
    ) -> Envelope:
        return (await self.add_many(session, [payload], correlation_id=correlation_id))[0]

    async def add_many(
        self,
        session: AsyncSession,
        payloads: Sequence[EventPayload],
        *,
        correlation_id: str | None = None,
    ) -> list[Envelope]:
        return await self.add_each(session, [(p, correlation_id) for p in payloads])

    async def add_each(
        self, session: AsyncSession, events: Sequence[tuple[EventPayload, str | None]]
    ) -> list[Envelope]:
        """Events about different requests (each its own correlation id), in one statement."""
        envelopes = [
            new_envelope(p, producer=self.producer, clock=self.clock, correlation_id=c)
            for p, c in events
        ]
        if envelopes:
            await session.execute(self.table.insert(), [self._row(e) for e in envelopes])
            if self._wake is not None:
                session.info[_WAKE_AFTER_COMMIT] = self._wake
        return envelopes

    def _row(self, envelope: Envelope) -> dict[str, Any]:
        return {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "correlation_id": envelope.correlation_id,
            "body": envelope.model_dump_json().encode(),
            "created_at": envelope.occurred_at,
        }


@event.listens_for(Session, "after_commit")
def _wake_relay_after_commit(session: Session) -> None:
    wake = session.info.pop(_WAKE_AFTER_COMMIT, None)
    if wake is not None:
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_wake_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_AFTER_COMMIT, None)


class OutboxRelay:
    def __init__(
        self,
        *,
        table: Table,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: Bus,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
    ) -> None:
        self.table = table
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._metric = EVENTS_RELAYED.labels(service)
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def relay_once(self) -> int:
        """Publish and delete one batch of the oldest rows; returns how many."""
        t = self.table
        async with self.sessionmaker.begin() as session:
            rows = (
                await session.execute(
                    sa_select(t.c.id, t.c.event_id, t.c.event_type, t.c.correlation_id, t.c.body)
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self.bus.publish(
                [
                    OutgoingMessage(
                        routing_key=row.event_type,
                        body=row.body,
                        message_id=str(row.event_id),
                        correlation_id=row.correlation_id,
                    )
                    for row in rows
                ]
            )
            await session.execute(delete(t).where(t.c.id.in_([row.id for row in rows])))
        self._metric.inc(len(rows))
        return len(rows)

    async def run(self) -> None:
        """Relay until cancelled; survives a broker or database that comes and goes."""
        failures = 0
        while True:
            # Cleared before the claim, so a commit that lands while we publish is not missed.
            self._wakeup.clear()
            try:
                relayed = await self.relay_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                pause = min(0.1 * 2**failures, 5.0)
                log.warning(
                    "outbox relay failed, retrying",
                    extra={"error": type(exc).__name__, "retry_in_s": pause},
                )
                await asyncio.sleep(pause)
                continue
            if relayed < self.batch_size:
                await wait_at_most(self._wakeup, self.poll_interval_s)
