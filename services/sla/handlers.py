"""Event handlers of the sla service: the request lifecycle, and who hears escalations.

Lifecycle events go in batches (one run of a type at a time, in arrival order); each is kept as
a fact of its request, whose deadlines are then derived again, so late, repeated and reordered
events all come to the same deadlines. An event that cannot be applied raises: the consumer
retries it and finally dead-letters it with the reason.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla import service
from services.sla.deadlines import LIFECYCLE_EVENTS
from shared.bus import BatchHandler, Handler, ReceivedEvent
from shared.events.catalog import DirectoryRoleChanged, EventType


async def on_lifecycle_events(session: AsyncSession, events: list[ReceivedEvent]) -> None:
    await service.apply_lifecycle_events(session, events)


async def on_role_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, DirectoryRoleChanged)
    await service.record_role_change(session, change=payload, at=event.envelope.occurred_at)


LIFECYCLE: dict[str, BatchHandler] = {str(t): on_lifecycle_events for t in LIFECYCLE_EVENTS}
DIRECTORY: dict[str, Handler] = {EventType.directory_role_changed: on_role_changed}
