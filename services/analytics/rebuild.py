"""Rebuilding the read model from the event log (`python -m services.analytics rebuild`).

Everything but the log itself is emptied and the logged facts are applied again, in the order
they were first applied, by the same `handlers.apply_facts` the consumer uses. It runs in one
transaction: readers see the old figures until the new ones are complete. Stop the consumers
first (scale the analytics workers to zero, or run with `BKH_RUN_WORKERS=false`): events keep
waiting in RabbitMQ meanwhile and are applied on top when they start again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analytics import repository
from services.analytics.handlers import apply_facts


async def rebuild(sessionmaker: async_sessionmaker[AsyncSession], *, batch_size: int = 5000
                  ) -> int:
    """Replay the whole log; returns how many facts were applied."""
    applied = 0
    async with sessionmaker.begin() as session:
        await repository.reset_read_model(session)
        last_seq = 0
        while batch := await repository.logged_facts(session, after_seq=last_seq,
                                                      limit=batch_size):
            await apply_facts(session, [fact for _seq, fact in batch], log=False)
            last_seq = batch[-1][0]
            applied += len(batch)
    return applied
