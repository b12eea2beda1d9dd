"""A consumer process that gets stuck inside its handler, for the test that kills it.

It applies the effect of the first event it sees (inside the open transaction), writes that
event's id to a file for the test, and then waits forever, so SIGKILL lands mid-handler.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received, RetryPolicy
from shared.bus.rabbitmq import RabbitMQBus
from shared.events.catalog import NotificationSent
from tests.shared.ledger import count_effect, open_ledger


async def main(url: str, schema: str, amqp_url: str, namespace: str, queue: str,
               signal_file: str) -> None:
    flag = Path(signal_file)

    async def stuck(session: AsyncSession, event: Received[NotificationSent]) -> None:
        await count_effect(session, event)
        flag.write_text(str(event.envelope.id))
        await asyncio.Event().wait()

    bus = RabbitMQBus(amqp_url, namespace=namespace, retry_policy=RetryPolicy((200, 1_000)))
    await bus.start()
    async with open_ledger(url, schema=schema) as ledger:
        await ledger.consumer(stuck, batch_size=1).start(bus, queue=queue, prefetch=1)
        flag.write_text("ready")
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
