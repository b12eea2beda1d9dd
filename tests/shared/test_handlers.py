"""Handlers registered by payload class: what they receive, and the outbox they write through."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Handlers, Outbox, Received, WrongPayload
from shared.events import new_envelope
from shared.events.catalog import NotificationSent, ReportForwarded
from shared.events.envelope import EventPayload
from tests.shared.ledger import CLOCK, Ledger, ledger_event, open_ledger, outbox

THEN = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
async def ledger(tmp_path: object) -> AsyncIterator[Ledger]:
    async with open_ledger(f"sqlite+aiosqlite:///{tmp_path}/ledger.db") as opened:
        yield opened


def received(payload: EventPayload, wake: list[int]) -> Received[EventPayload]:
    envelope = new_envelope(payload, producer="test", clock=CLOCK).model_copy(
        update={"occurred_at": THEN})
    relay_outbox = Outbox(outbox, producer="test", clock=CLOCK, wake=lambda: wake.append(1))
    return Received(envelope, payload, relay_outbox.at(THEN))


async def test_a_handler_gets_its_class_and_writes_events_stamped_with_their_cause(
    ledger: Ledger,
) -> None:
    woken: list[int] = []
    seen: list[NotificationSent] = []
    handlers = Handlers()

    @handlers.on(NotificationSent)
    async def tell(session: AsyncSession, event: Received[NotificationSent]) -> None:
        seen.append(event.payload)
        await event.outbox.add(session, ReportForwarded(envelope_id=uuid.uuid4()))

    sent = ledger_event()
    async with ledger.sessionmaker.begin() as session:
        await handlers.by_type[NotificationSent.event_type](session, [received(sent, woken)])
        assert woken == []  # not before the commit: a rolled-back effect wakes nobody
    assert seen == [sent]
    assert woken == [1]  # the relay hears of it at commit, not at its next poll
    async with ledger.sessionmaker() as session:
        stamped = (await session.execute(select(outbox.c.event_type, outbox.c.created_at)
                                         .where(outbox.c.event_type == "report.forwarded"))).one()
    assert stamped.created_at.replace(tzinfo=UTC) == THEN


async def test_an_event_of_another_class_under_the_type_is_refused_not_misread(
    ledger: Ledger,
) -> None:
    """A payload of another version (here: another class) raises, so the consumer retries it and
    finally dead-letters it; `python -O` keeps this check (it is no `assert`)."""
    handlers = Handlers()

    @handlers.on(NotificationSent)
    async def tell(session: AsyncSession, event: Received[NotificationSent]) -> None:
        raise AssertionError("never reached")

    stranger = received(ReportForwarded(envelope_id=uuid.uuid4()), [])
    async with ledger.sessionmaker.begin() as session:
        with pytest.raises(WrongPayload, match="is not NotificationSent"):
            await handlers.by_type[NotificationSent.event_type](session, [stranger])


def test_one_queue_takes_one_handler_per_type() -> None:
    handlers = Handlers()

    async def first(session: AsyncSession, event: Received[NotificationSent]) -> None: ...

    handlers.on(NotificationSent)(first)
    with pytest.raises(ValueError, match="two handlers for notification.sent"):
        handlers.on_runs(NotificationSent)(lambda session, events: first(session, events[0]))
