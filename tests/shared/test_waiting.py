"""Background loops stop when cancelled, even when woken at that very moment (`shared.waiting`).

On Python 3.11 `asyncio.wait_for(event.wait(), timeout)` returns as if woken when the wake-up and
the cancellation land in the same loop iteration, and a loop around it never stops. The outbox
relay hung a worker's shutdown that way; these tests fail with `wait_for` in its place.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared.bus import InMemoryBus, OutboxRelay
from shared.waiting import wait_at_most
from tests.shared.ledger import open_ledger, outbox

#: how long a cancelled loop may take to end; it ends in one loop iteration when it works
STOP_LIMIT_S = 10


async def test_a_cancellation_that_comes_with_the_wake_up_is_not_lost() -> None:
    wake_up = asyncio.Event()
    rounds = 0

    async def loop_until_cancelled() -> None:
        nonlocal rounds
        while True:
            await wait_at_most(wake_up, 60)
            wake_up.clear()
            rounds += 1

    task = asyncio.create_task(loop_until_cancelled())
    await asyncio.sleep(0.01)  # waiting now
    wake_up.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=STOP_LIMIT_S)
    assert task in done
    assert task.cancelled()
    assert rounds == 0


async def test_waiting_ends_with_the_event_or_the_time() -> None:
    event = asyncio.Event()
    assert await wait_at_most(event, 0.01) is False
    event.set()
    assert await wait_at_most(event, 60) is True


async def test_an_outbox_relay_woken_as_it_is_stopped_stops(tmp_path: Path) -> None:
    bus = InMemoryBus(namespace="test")
    await bus.start()
    async with open_ledger(f"sqlite+aiosqlite:///{tmp_path}/ledger.db") as ledger:
        relay = OutboxRelay(table=outbox, sessionmaker=ledger.sessionmaker, bus=bus,
                            service="ledger", poll_interval_s=60)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.3)  # the outbox is empty: the relay waits for a wake-up
        relay.wake()  # a last commit, as the worker shuts down
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_LIMIT_S)
        assert task in done
        assert task.cancelled()
    await bus.close()
