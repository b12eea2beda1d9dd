"""A tiny test service, the ledger, to prove the kernel's delivery guarantees.

Each event it consumes adds one to its row in `effects`; a count of 2 anywhere means an event
had its effect twice. Producers write a `deposits` row and the event in one transaction, so a
deposit without an event (or the reverse) means a half-written state.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Integer, Table, Uuid, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import Bus, EventConsumer, Handlers, Outbox, OutboxRelay, Received, inbox_table
from shared.bus.outbox import outbox_table
from shared.clock import SystemClock
from shared.db import create_engine, create_sessionmaker, service_metadata
from shared.events.catalog import NotificationSent

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
effects = Table(
    "effects", metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("applied", Integer, nullable=False),
)
deposits = Table("deposits", metadata, Column("id", Uuid, primary_key=True))

EVENT_TYPE = NotificationSent.event_type
CLOCK = SystemClock()


def ledger_event(deposit_id: uuid.UUID | None = None) -> NotificationSent:
    """Any catalog event serves; this one's payload is small and easy to build."""
    return NotificationSent(
        notification_id=deposit_id or uuid.uuid4(),
        source_event_id=uuid.uuid4(),
        channel="sms",
        template="ledger.deposit",
        status="accepted",
        attempts=1,
    )


# What the ledger's consumer does with each event it receives.
Handler = Callable[[AsyncSession, Received[NotificationSent]], Awaitable[None]]


async def count_effect(session: AsyncSession, event: Received[NotificationSent]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(effects).values(event_id=event.envelope.id, applied=1)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[effects.c.event_id], set_={"applied": effects.c.applied + 1}
        )
    )


@dataclass
class Ledger:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def outbox(self) -> Outbox:
        return Outbox(outbox, producer="ledger", clock=CLOCK)

    async def deposit(self, count: int = 1) -> list[uuid.UUID]:
        """One transaction: `count` deposits and their events."""
        ids = [uuid.uuid4() for _ in range(count)]
        async with self.sessionmaker.begin() as session:
            await session.execute(deposits.insert(), [{"id": i} for i in ids])
            envelopes = await self.outbox.add_many(session, [ledger_event(i) for i in ids])
        return [e.id for e in envelopes]

    async def applied_counts(self) -> dict[uuid.UUID, int]:
        async with self.sessionmaker() as session:
            rows = await session.execute(select(effects.c.event_id, effects.c.applied))
            return {row.event_id: row.applied for row in rows}

    async def count(self, table: Table) -> int:
        async with self.sessionmaker() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar_one()

    async def wait_for_effects(self, expected: int, *, timeout_s: float = 60) -> dict[uuid.UUID,
                                                                                       int]:
        """Poll until `expected` events had an effect; the deadline guards against a hang."""
        deadline = time.monotonic() + timeout_s
        while True:
            counts = await self.applied_counts()
            if len(counts) >= expected or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(0.1)

    async def wait_until_relayed(self, *, timeout_s: float = 30) -> int:
        """Poll until the outbox is empty, or the deadline; returns the rows left.

        Consumers may apply an event before its relay has committed the row's deletion (the
        relay deletes only after the broker confirmed), so "applied" does not yet mean "gone".
        """
        deadline = time.monotonic() + timeout_s
        while True:
            left = await self.count(outbox)
            if left == 0 or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.05)

    def relay(self, bus: Bus, **kwargs: object) -> OutboxRelay:
        return OutboxRelay(table=outbox, sessionmaker=self.sessionmaker, bus=bus,
                           service="ledger", poll_interval_s=0.05, **kwargs)  # type: ignore[arg-type]

    def consumer(self, handler: Handler = count_effect, *,
                 batch_size: int = 256) -> EventConsumer:
        handlers = Handlers()
        handlers.on(NotificationSent)(handler)
        return EventConsumer(name="ledger", handlers=handlers, sessionmaker=self.sessionmaker,
                             inbox=inbox, outbox=Outbox(outbox, producer="ledger", clock=CLOCK),
                             clock=CLOCK, batch_size=batch_size)


@asynccontextmanager
async def open_ledger(url: str, *, schema: str = "") -> AsyncIterator[Ledger]:
    engine = create_engine(url, schema=schema, application_name=f"bkh-test-{schema}",
                           pool_size=5)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Ledger(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def running(*tasks: Awaitable[None]) -> AsyncIterator[None]:
    """Run relays and other loops in the background for the duration of a block."""
    started = [asyncio.ensure_future(t) for t in tasks]
    try:
        yield
    finally:
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)
