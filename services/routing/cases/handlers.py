"""Event handlers of case handling, wired into two queues in `main.py`:

- `placement`: `request.submitted` (intake), placed in batches;
- `lifecycle`: `request.rated`, `request.info_provided` (intake) and `sla.deadline_set`,
  `sla.escalated`, `sla.breached`, `sla.rating_window_expired` (sla).

What a handler does is stamped with the instant of the event that caused it (a clock fixed
there): a redelivered event writes exactly what the first delivery would have, and the
timeline follows the time of the platform (simulated in tests) rather than of the consumer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.cases import service
from services.routing.cases.placement import place_submitted
from services.routing.models import outbox as outbox_table
from shared.bus import BatchHandler, Handler, Outbox, ReceivedEvent
from shared.events.catalog import EventType

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


def reacting(decide: Callable[..., Awaitable[None]]) -> Handler:
    """A handler that lets `decide` react to one event, stamped with the event's instant."""

    async def handle(session: AsyncSession, event: ReceivedEvent) -> None:
        at = event.envelope.occurred_at
        await decide(session, outbox=outbox_at(at), at=at, payload=event.payload)

    return handle


PLACEMENT: dict[str, BatchHandler] = {EventType.request_submitted: on_submitted}
LIFECYCLE: dict[str, Handler] = {
    EventType.request_rated: reacting(service.rated),
    EventType.request_info_provided: reacting(service.info_provided),
    EventType.sla_rating_window_expired: reacting(service.rating_window_expired),
    EventType.sla_escalated: reacting(service.escalated),
    EventType.sla_breached: reacting(service.breached),
    EventType.sla_deadline_set: reacting(service.deadline_set),
}
