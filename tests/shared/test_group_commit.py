"""Group commit on real PostgreSQL: callers answered after the commit, one transaction for what
arrives together, a bad item failing only its own caller, nobody left waiting at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, create_sessionmaker
from shared.errors import ServiceUnavailable
from shared.group_commit import GroupCommit

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True),
              Column("text", String(20), nullable=False))


class Refused(Exception):
    pass


class Writer:
    """Writes each item as a row with one multi-row INSERT; refuses the text "bad"."""

    def __init__(self, *, gated: bool = False) -> None:
        self.batches: list[list[str]] = []
        # Gated: every batch waits until the test opens the gate (`gate.set()`).
        self.gate = asyncio.Event() if gated else None

    async def __call__(self, session: AsyncSession, items: Sequence[str]) -> list[int]:
        if self.gate is not None:
            await self.gate.wait()
        self.batches.append(list(items))
        if "bad" in items:
            raise Refused("bad")
        rows = await session.execute(
            insert(notes).returning(notes.c.id, sort_by_parameter_order=True),
            [{"text": text} for text in items],
        )
        return [row.id for row in rows]


@pytest.fixture
async def engine(postgres_url: str, pg_schema: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, schema=pg_schema, application_name=f"bkh-test-{pg_schema}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(notes.c.text).order_by(notes.c.id))).scalars())


async def test_what_arrives_together_is_written_in_one_transaction_and_each_gets_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = Writer()
    group = GroupCommit("notes", sessions, writer)
    ids = await asyncio.gather(*(group.submit(f"note {i}") for i in range(40)))
    assert sorted(await stored(sessions)) == sorted(f"note {i}" for i in range(40))
    async with sessions() as session:
        by_id = dict((await session.execute(select(notes.c.id, notes.c.text))).all())
    assert [by_id[i] for i in ids] == [f"note {i}" for i in range(40)]
    assert len(writer.batches) < 40  # grouped, not one transaction each
    assert sum(len(batch) for batch in writer.batches) == 40
    await group.aclose()


async def test_a_caller_is_answered_only_once_the_batch_is_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    group = GroupCommit("notes", sessions, Writer())
    note_id = await group.submit("visible")
    async with sessions() as other_connection:  # another transaction sees it at once
        assert await other_connection.scalar(
            select(notes.c.text).where(notes.c.id == note_id)) == "visible"
    await group.aclose()


async def test_a_bad_item_fails_only_its_own_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = Writer(gated=True)
    group = GroupCommit("notes", sessions, writer)
    first = asyncio.create_task(group.submit("first"))  # holds the writer at the gate
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(group.submit(text)) for text in ("good 1", "bad", "good 2")]
    await asyncio.sleep(0.05)
    assert writer.gate is not None
    writer.gate.set()
    await first
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(results[1], Refused)
    assert all(isinstance(result, int) for result in (results[0], results[2]))
    assert sorted(await stored(sessions)) == ["first", "good 1", "good 2"]
    assert ["good 1", "bad", "good 2"] in writer.batches  # tried together, then one by one
    await group.aclose()


async def test_batches_are_capped(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = Writer()
    group = GroupCommit("notes", sessions, writer, max_batch=7)
    await asyncio.gather(*(group.submit(f"n{i}") for i in range(30)))
    assert max(len(batch) for batch in writer.batches) <= 7
    assert len(await stored(sessions)) == 30
    await group.aclose()


async def test_closing_writes_what_is_queued_then_refuses(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = Writer(gated=True)
    group = GroupCommit("notes", sessions, writer)
    queued = [asyncio.create_task(group.submit(f"q{i}")) for i in range(5)]
    await asyncio.sleep(0.05)
    closing = asyncio.create_task(group.aclose())
    assert writer.gate is not None
    writer.gate.set()
    await closing
    assert all(isinstance(note_id, int) for note_id in await asyncio.gather(*queued))
    with pytest.raises(ServiceUnavailable):
        await group.submit("too late")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(notes)) == 5


async def test_a_cancelled_writer_leaves_nobody_waiting_and_is_replaced(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = Writer(gated=True)  # never opened: the writer is stuck in its first batch
    group = GroupCommit("notes", sessions, writer)
    waiting = [asyncio.create_task(group.submit(f"w{i}")) for i in range(3)]
    await asyncio.sleep(0.05)
    assert group._writer is not None
    group._writer.cancel()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(result, ServiceUnavailable) for result in results)
    assert await stored(sessions) == []
    assert writer.gate is not None
    writer.gate.set()
    assert isinstance(await group.submit("later"), int)  # a new writer takes over
    assert await stored(sessions) == ["later"]
    await group.aclose()
