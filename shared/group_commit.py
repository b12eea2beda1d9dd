"""Group commit: writes that arrive together share one transaction.

On a busy write path most of a request's CPU goes not to its rows but to the round trips around
them: BEGIN, one statement per table, COMMIT, each a tenth of a millisecond of Python in
SQLAlchemy and the driver. `GroupCommit` queues each caller's item; one writer takes everything
queued, hands the batch to the service's `write` (one multi-row statement per table, in one
transaction) and answers every caller once that transaction has committed. Nobody waits for a
batch to fill: under light load a batch is the one item that came, and under heavy load it is
whatever queued while the previous batch was being written.

What it must never do:
- answer a caller before the commit (a 201 must never precede its rows);
- let one bad item fail its neighbours: a batch that fails is written again one item at a time,
  so only the item that fails on its own fails, with its own exception;
- lose a caller: every queued item is answered, with an outcome or an exception, also at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

BATCH_SIZE = Histogram(
    "bkh_group_commit_batch_items",
    "Items written per group-commit transaction",
    ["writer"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)


class GroupCommit(Generic[Item, Outcome]):
    """`await submit(item)` returns `write`'s outcome for that item once its batch committed.

    `write(session, items)` runs inside one transaction and returns one outcome per item, in
    order; it must do for N items exactly what it does for each alone, since a failed batch is
    retried one item at a time.
    """

    def __init__(
        self,
        name: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        write: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Outcome]]],
        *,
        max_batch: int = 100,
    ) -> None:
        self.name = name
        self.sessionmaker = sessionmaker
        self.write = write
        self.max_batch = max_batch
        self._queued: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._batch_size = BATCH_SIZE.labels(name)

    async def submit(self, item: Item) -> Outcome:
        if self._closed:
            raise ServiceUnavailable()
        # Started on first use, in the loop that serves requests (and again, were it ever gone).
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name=f"{self.name}-writer")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queued.append((item, future))
        self._wakeup.set()
        return await future

    async def aclose(self) -> None:
        """Write what is queued, then stop; later submissions are refused (503)."""
        self._closed = True
        if self._writer is None:
            return
        self._wakeup.set()
        await self._writer

    async def _write_forever(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queued:
                    batch = [entry for entry in self._queued[: self.max_batch]
                             if not entry[1].cancelled()]  # a caller that gave up
                    del self._queued[: self.max_batch]
                    if batch:
                        await self._write(batch)
                if self._closed:
                    return
        except asyncio.CancelledError:
            for _, future in self._queued:  # nobody is left waiting for a writer that is gone
                if not future.done():
                    future.set_exception(ServiceUnavailable())
            self._queued.clear()
            raise

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        try:
            async with self.sessionmaker.begin() as session:
                outcomes = await self.write(session, [item for item, _ in batch])
        except asyncio.CancelledError:
            self._queued[:0] = batch  # answered with the others still queued
            raise
        except Exception as exc:
            if len(batch) > 1:
                # Which item broke it is unknown: each alone finds out, and fails only itself.
                log.info("group commit %s: a batch of %d failed (%s); writing each alone",
                         self.name, len(batch), type(exc).__name__)
                for entry in batch:
                    await self._write([entry])
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        self._batch_size.observe(len(batch))
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
