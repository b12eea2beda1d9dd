"""Event handlers of case handling, wired into two queues in `main.py`:

- `placement`: `request.submitted` (intake), placed in batches;
- `lifecycle`: `request.rated`, `request.info_provided` (intake) and `sla.deadline_set`,
  `sla.escalated`, `sla.breached`, `sla.rating_window_expired` (sla).

What a handler does is stamped with the instant of the event that caused it (a clock fixed
there): a redelivered event writes exactly what the first delivery would have, and the
timeline follows the time of the platform (simulated in tests) rather than of the consumer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.cases import service
from services.routing.cases.placement import place_submitted
from services.routing.models import outbox as outbox_table
from shared.bus import BatchHandler, Handler, Outbox, ReceivedEvent
from shared.events.catalog import (
    EventType,
    RequestInfoProvided,
    RequestRated,
    SlaBreached,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRatingWindowExpired,
)

PRODUCER = "routing"


class _At:
    """A clock stopped at one instant."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


def outbox_at(at: datetime) -> Outbox:
    return Outbox(outbox_table, producer=PRODUCER, clock=_At(at))


async def on_submitted(session: AsyncSession, events: list[ReceivedEvent]) -> None:
    await place_submitted(session, events, outbox_at=outbox_at)


async def on_rated(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, RequestRated)
    at = event.envelope.occurred_at
    await service.rated(session, outbox=outbox_at(at), at=at, rating=event.payload)


async def on_info_provided(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, RequestInfoProvided)
    at = event.envelope.occurred_at
    await service.info_provided(session, outbox=outbox_at(at), at=at, answer=event.payload)


async def on_rating_window_expired(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, SlaRatingWindowExpired)
    at = event.envelope.occurred_at
    await service.rating_window_expired(session, outbox=outbox_at(at), at=at,
                                        reference=event.payload.reference)


async def on_escalated(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, SlaEscalated)
    at = event.envelope.occurred_at
    await service.escalated(session, outbox=outbox_at(at), at=at, escalation=event.payload)


async def on_breached(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, SlaBreached)
    at = event.envelope.occurred_at
    await service.breached(session, outbox=outbox_at(at), at=at, breach=event.payload)


async def on_deadline_set(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, SlaDeadlineSet)
    await service.deadline_set(session, at=event.envelope.occurred_at, deadline=event.payload)


PLACEMENT: dict[str, BatchHandler] = {EventType.request_submitted: on_submitted}
LIFECYCLE: dict[str, Handler] = {
    EventType.request_rated: on_rated,
    EventType.request_info_provided: on_info_provided,
    EventType.sla_rating_window_expired: on_rating_window_expired,
    EventType.sla_escalated: on_escalated,
    EventType.sla_breached: on_breached,
    EventType.sla_deadline_set: on_deadline_set,
}
