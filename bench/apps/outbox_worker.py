"""The consuming side of the outbox_pipeline benchmark, in its own process like a service worker.

It runs what every service runs — the outbox relay (claim, publish with confirms, delete) and an
event consumer with its inbox — against the bench schema, with a handler that records each
event's lag (commit-side instant minus the event's `occurred_at`) in `effects`.

    python -m bench.apps.outbox_worker POSTGRES_URL SCHEMA AMQP_URL NAMESPACE
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from sqlalchemy import Column, Float, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import (
    EventConsumer,
    Handlers,
    Outbox,
    OutboxRelay,
    RabbitMQBus,
    Received,
    inbox_table,
)
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
    Column("lag_ms", Float, nullable=False),
    Column("consumed_at", Float, nullable=False),  # unix seconds, for the throughput window
)
CLOCK = SystemClock()
PAYLOAD = NotificationSent


async def record_lag(session: AsyncSession, events: list[Received[NotificationSent]]) -> None:
    """A batch handler, as a projection would be: one statement for the whole run."""
    now = CLOCK.now()
    await session.execute(effects.insert(), [
        {"event_id": event.envelope.id,
         "lag_ms": (now - event.envelope.occurred_at).total_seconds() * 1000,
         "consumed_at": now.timestamp()}
        for event in events
    ])


async def main(url: str, schema: str, amqp_url: str, namespace: str) -> None:
    engine = create_engine(url, schema=schema, application_name="bkh-bench-worker", pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    bus = RabbitMQBus(amqp_url, namespace=namespace, connection_name="bkh-bench-worker")
    await bus.start()
    handlers = Handlers()
    handlers.on_runs(PAYLOAD)(record_lag)
    consumer = EventConsumer(name="bench", handlers=handlers, sessionmaker=sessionmaker,
                             inbox=inbox, outbox=Outbox(outbox, producer="bench", clock=CLOCK),
                             clock=CLOCK)
    await consumer.start(bus, queue=bus.queue_name("bench", "pipeline"), prefetch=512)
    relay = OutboxRelay(table=outbox, sessionmaker=sessionmaker, bus=bus, service="bench",
                        poll_interval_s=0.02)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    relaying = asyncio.create_task(relay.run())
    print("ready", flush=True)
    await stop.wait()
    relaying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relaying
    await consumer.stop()
    await bus.close()
    await engine.dispose()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main(*sys.argv[1:]))
    except ImportError:
        asyncio.run(main(*sys.argv[1:]))
