"""The consuming side of the outbox_pipeline benchmark, in its own process like a service worker.

It runs what every service runs — the outbox relay (claim, publish with confirms, delete) and an
event consumer with its inbox — against the bench schema, with a handler that records each
event's lag (commit-side instant minus the event's `occurred_at`) in `effects`.

    python -m bench.apps.outbox_worker POSTGRES_URL SCHEMA AMQP_URL NAMESPACE [CHAIN]

With CHAIN `wake` or `poll` (the `outbox_chain` scenario), the handler also causes one event of
its own, as a service's consumer does (routing's `request.assigned` after `request.submitted`),
and a second handler records that event as hop 2, with its cause (its own time from the cause's
handler is the hop's latency, what the scenario reports): `wake`
writes it through the handler's `event.outbox` (the relay hears of it at commit), `poll` through
an outbox without the wake-up, as consumers did before, so it leaves at the relay's next poll.
The relay then polls as the services' does (`outbox_poll_interval_s`, 0.5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from sqlalchemy import Column, Float, Integer, Table, Uuid
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
from shared.clock import FixedClock, SystemClock
from shared.db import create_engine, create_sessionmaker, service_metadata
from shared.events.catalog import NotificationSent, ReportForwarded
from shared.events.envelope import EventPayload
from shared.settings import BaseServiceSettings

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
effects = Table(
    "effects", metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("lag_ms", Float, nullable=False),
    Column("consumed_at", Float, nullable=False),  # unix seconds, for the throughput window
    Column("hop", Integer, nullable=False, default=1),  # 2: an event a handler caused
    Column("cause", Uuid),  # hop 2: the event whose handler caused it
)
CLOCK = SystemClock()
PAYLOAD = NotificationSent


async def record_lag(session: AsyncSession, events: Sequence[Received[EventPayload]],
                     hop: int = 1) -> None:
    """A batch handler, as a projection would be: one statement for the whole run."""
    now = CLOCK.now()
    await session.execute(effects.insert(), [
        {"event_id": event.envelope.id,
         "lag_ms": (now - event.envelope.occurred_at).total_seconds() * 1000,
         "consumed_at": now.timestamp(), "hop": hop,
         "cause": event.payload.envelope_id if isinstance(event.payload, ReportForwarded)
         else None}
        for event in events
    ])


def handlers_for(chain: str) -> Handlers:
    handlers = Handlers()

    @handlers.on_runs(PAYLOAD)
    async def first_hop(session: AsyncSession,
                        events: Sequence[Received[NotificationSent]]) -> None:
        await record_lag(session, events)
        for event in events:
            caused = ReportForwarded(envelope_id=event.envelope.id)  # names its cause
            if chain == "wake":
                await event.outbox.add(session, caused)
            elif chain == "poll":
                await Outbox(outbox, producer="bench", clock=FixedClock(event.at)).add(
                    session, caused)

    @handlers.on_runs(ReportForwarded)
    async def second_hop(session: AsyncSession,
                         events: Sequence[Received[ReportForwarded]]) -> None:
        await record_lag(session, events, hop=2)

    return handlers


async def main(url: str, schema: str, amqp_url: str, namespace: str, chain: str = "off") -> None:
    engine = create_engine(url, schema=schema, application_name="bkh-bench-worker", pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    bus = RabbitMQBus(amqp_url, namespace=namespace, connection_name="bkh-bench-worker")
    await bus.start()
    relay = OutboxRelay(
        table=outbox, sessionmaker=sessionmaker, bus=bus, service="bench",
        poll_interval_s=0.02 if chain == "off" else
        BaseServiceSettings.model_fields["outbox_poll_interval_s"].default)
    consumer = EventConsumer(
        name="bench", handlers=handlers_for(chain), sessionmaker=sessionmaker, inbox=inbox,
        outbox=Outbox(outbox, producer="bench", clock=CLOCK, wake=relay.wake), clock=CLOCK)
    await consumer.start(bus, queue=bus.queue_name("bench", "pipeline"), prefetch=512)
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
