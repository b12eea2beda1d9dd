"""What intake learns from the other services' events.

- The directory (`directory.sector_changed`, `directory.entity_changed`), to check the entity of
  a submission and fill its sector; the SLA rules (`sla.rules_changed`), to show deadlines.
- The request's life (every `request.*` routing announces, `sla.deadline_set`,
  `sla.deadline_ended`, `sla.escalated`), to keep the requester's view: status, timeline, each
  answer, the running deadlines; and who holds the request (entity, sector, the entity or
  department it was distributed to), by which staff may read its requester's details.

The kernel's inbox makes each event count once; events may still arrive late or out of order
(retries, two producers), so a status only moves forward in event time (`status_at`) and the
timeline is ordered by when things happened, not when we heard of them. Who holds the request
moves forward in its own events' time (`held_at`), apart from the status.

What it must never do: put officer identities or internal notes on the requester's timeline
(only what the regulation says the requester sees: questions, reasons, decisions).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.models import Request, SlaRules
from shared.bus import ReceivedEvent
from shared.events.catalog import (
    DirectoryEntityChanged,
    DirectorySectorChanged,
    EventType,
    RequestAccepted,
    RequestAssigned,
    RequestClosed,
    RequestDistributed,
    RequestExtended,
    RequestInfoRequested,
    RequestJurisdictionRefused,
    RequestRejected,
    RequestReopened,
    RequestResponded,
    RequestTransferred,
    RequestTriaged,
    SlaDeadlineEnded,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRulesChanged,
)
from shared.events.envelope import EventPayload
from shared.events.vocabulary import DirectoryChange, RequestStatus
from shared.service import Subscription

log = logging.getLogger(__name__)


# --- the directory and the rules -----------------------------------------------------------------


async def on_sector_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    sector = event.payload
    assert isinstance(sector, DirectorySectorChanged)
    await repository.save_sector(session, values={
        "code": sector.sector, "name_ar": sector.name_ar, "name_en": sector.name_en,
        "retired": sector.change is DirectoryChange.retired,
        "changed_at": event.envelope.occurred_at,
    })


async def on_entity_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    entity = event.payload
    assert isinstance(entity, DirectoryEntityChanged)
    await repository.save_entity(session, values={
        "code": entity.entity, "sector": entity.sector, "parent": entity.parent,
        "name_ar": entity.name_ar, "name_en": entity.name_en,
        "retired": entity.change is DirectoryChange.retired,
        "changed_at": event.envelope.occurred_at,
    })


async def on_rules_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    rules = event.payload
    assert isinstance(rules, SlaRulesChanged)
    if await session.get(SlaRules, rules.revision) is None:
        session.add(SlaRules(revision=rules.revision, rules=rules.model_dump(mode="json"),
                             received_at=event.envelope.occurred_at))
        await session.flush()
    # Only the newest revision matters; older ones (and late arrivals) are dropped.
    newest = (await session.execute(select(func.max(SlaRules.revision)))).scalar_one()
    await session.execute(delete(SlaRules).where(SlaRules.revision < newest))


# --- the request's life --------------------------------------------------------------------------

Details = Callable[[Any], dict[str, Any]]


def _nothing(_: EventPayload) -> dict[str, Any]:
    return {}


# What each event does to the requester's view: the status it moves to (None: unchanged), the
# request's own fields it sets, and what its timeline step shows.
_LIFE: dict[EventType, tuple[RequestStatus | None, Details, Details]] = {
    EventType.request_triaged: (RequestStatus.triage, _nothing, _nothing),
    EventType.request_assigned: (
        RequestStatus.assigned, _nothing, lambda e: {"entity": e.entity},
    ),
    EventType.request_distributed: (RequestStatus.assigned, _nothing, _nothing),
    EventType.request_accepted: (
        RequestStatus.in_progress, _nothing,
        lambda e: {"processing_working_days": e.processing_working_days},
    ),
    EventType.request_jurisdiction_refused: (RequestStatus.triage, _nothing, _nothing),
    EventType.request_transferred: (
        RequestStatus.assigned, _nothing, lambda e: {"entity": e.to_entity},
    ),
    EventType.request_info_requested: (
        RequestStatus.awaiting_information,
        # Remembered so that the answer resumes where the request stood.
        lambda e: {"status_before_pause": case(
            (Request.status == RequestStatus.awaiting_information.value,
             Request.status_before_pause),
            else_=Request.status,
        )},
        lambda e: {"question": e.question},
    ),
    EventType.request_extended: (
        None, _nothing,
        lambda e: {"reason": e.reason, "extension_number": e.extension_number,
                   "added_working_days": e.added_working_days},
    ),
    EventType.request_responded: (
        RequestStatus.responded,
        lambda e: {"actions_taken": e.actions_taken, "solution": e.solution,
                   "answer_round": e.round},
        # Each answer stays on the timeline: a reopened request's first answer too.
        lambda e: {"round": e.round, "actions_taken": e.actions_taken, "solution": e.solution},
    ),
    EventType.request_review_opened: (RequestStatus.under_review, _nothing, _nothing),
    EventType.request_reopened: (
        RequestStatus.in_progress, _nothing, lambda e: {"decision": e.decision},
    ),
    EventType.request_closed: (
        RequestStatus.closed,
        lambda e: {"outcome": e.closing_code.value},
        lambda e: {"closing_code": e.closing_code.value, "merged_into": e.merged_into},
    ),
    EventType.request_rejected: (
        RequestStatus.rejected,
        lambda e: {"outcome": e.legal_ground.value},
        lambda e: {"legal_ground": e.legal_ground.value, "reason": e.reason},
    ),
}
# Who holds the request after each event that moves it (routing's `Case` the same way): the
# entity and its sector, and the entity or department it was distributed to, which a move to
# another entity or to the CMU's triage clears (a reopened request goes back to where it was).
_HOLDER: dict[EventType, Details] = {
    EventType.request_triaged: lambda e: {"distributed_to": None},
    EventType.request_assigned: lambda e: {"entity": e.entity, "sector": e.sector,
                                           "distributed_to": None},
    EventType.request_distributed: lambda e: {"distributed_to": e.entity},
    EventType.request_jurisdiction_refused: lambda e: {"distributed_to": None},
    EventType.request_transferred: lambda e: {"entity": e.to_entity, "sector": e.to_sector,
                                              "distributed_to": None},
    EventType.request_reopened: lambda e: {"entity": e.entity, "sector": e.sector},
}
# The payload classes, so that a handler is sure of what it reads.
_PAYLOADS: dict[EventType, type[EventPayload]] = {
    EventType.request_triaged: RequestTriaged,
    EventType.request_assigned: RequestAssigned,
    EventType.request_distributed: RequestDistributed,
    EventType.request_jurisdiction_refused: RequestJurisdictionRefused,
    EventType.request_accepted: RequestAccepted,
    EventType.request_transferred: RequestTransferred,
    EventType.request_info_requested: RequestInfoRequested,
    EventType.request_extended: RequestExtended,
    EventType.request_responded: RequestResponded,
    EventType.request_reopened: RequestReopened,
    EventType.request_closed: RequestClosed,
    EventType.request_rejected: RequestRejected,
}


async def _known(session: AsyncSession, reference: str, event: ReceivedEvent
                 ) -> Request | None:
    request = await repository.request(session, reference=reference)
    if request is None:
        # Not ours (or not yet: intake wrote the request before the event that names it could
        # exist, so "not yet" does not happen). Nothing to show anyone.
        log.warning("event about an unknown request ignored",
                    extra={"event_id": str(event.envelope.id), "type": event.envelope.type})
    return request


async def on_request_event(session: AsyncSession, event: ReceivedEvent) -> None:
    event_type = EventType(event.envelope.type)
    payload = event.payload
    expected = _PAYLOADS.get(event_type)
    assert expected is None or isinstance(payload, expected)
    reference: str = getattr(payload, "reference")  # noqa: B009 - every request event has one
    request = await _known(session, reference, event)
    if request is None:
        return
    if isinstance(payload, RequestResponded) and payload.round is None:
        # From a routing older than answer rounds: the answer after the last one.
        payload = payload.model_copy(update={"round": (request.answer_round or 0) + 1})
    status, fields, details = _LIFE[event_type]
    at = event.envelope.occurred_at
    values = fields(payload)
    if status is not None or values:
        await repository.set_status(session, reference=reference, status=status, at=at,
                                    **values)
    holder = _HOLDER.get(event_type)
    if holder is not None:
        await repository.set_holder(session, reference=reference, at=at, **holder(payload))
    await repository.add_timeline_entry(
        session, reference=reference, event_id=event.envelope.id, step=event_type.value, at=at,
        details=details(payload),
    )
    if isinstance(payload, RequestResponded):
        await _answer_merged_duplicates(session, payload, event)


async def _answer_merged_duplicates(
    session: AsyncSession, response: RequestResponded, event: ReceivedEvent
) -> None:
    """Duplicates merged into this request are closed already; their requesters read the
    answer too, on their own request (no rating: the original's requester rates)."""
    at = event.envelope.occurred_at
    for duplicate in response.also_answers:
        if await _known(session, duplicate, event) is None:
            continue
        await repository.set_status(session, reference=duplicate, status=None, at=at,
                                    actions_taken=response.actions_taken,
                                    solution=response.solution)
        await repository.add_timeline_entry(
            session, reference=duplicate, event_id=uuid.uuid5(event.envelope.id, duplicate),
            step=EventType.request_responded.value, at=at,
            details={"answered_with": response.reference},
        )


async def on_deadline_set(session: AsyncSession, event: ReceivedEvent) -> None:
    deadline = event.payload
    assert isinstance(deadline, SlaDeadlineSet)
    if await _known(session, deadline.reference, event) is None:
        return
    await repository.save_deadline(session, values={
        "reference": deadline.reference, "clock": deadline.clock.value,
        "stage": deadline.stage.value, "entity": deadline.entity, "due_at": deadline.due_at,
        "set_at": event.envelope.occurred_at,
    })


async def on_deadline_ended(session: AsyncSession, event: ReceivedEvent) -> None:
    ended = event.payload
    assert isinstance(ended, SlaDeadlineEnded)
    if await _known(session, ended.reference, event) is None:
        return
    await repository.end_deadline(session, values={
        "reference": ended.reference, "clock": ended.clock.value, "stage": ended.stage.value,
        "entity": ended.entity, "due_at": ended.due_at, "ended_at": ended.ended_at,
    })


async def on_escalated(session: AsyncSession, event: ReceivedEvent) -> None:
    escalation = event.payload
    assert isinstance(escalation, SlaEscalated)
    if await _known(session, escalation.reference, event) is None:
        return
    await repository.add_timeline_entry(
        session, reference=escalation.reference, event_id=event.envelope.id,
        step=EventType.sla_escalated.value, at=event.envelope.occurred_at,
        details={"level": escalation.level},
    )


SUBSCRIPTIONS = (
    Subscription(name="directory", handlers={
        EventType.directory_sector_changed: on_sector_changed,
        EventType.directory_entity_changed: on_entity_changed,
        EventType.sla_rules_changed: on_rules_changed,
    }),
    Subscription(name="lifecycle", handlers={
        **dict.fromkeys(_LIFE, on_request_event),
        EventType.sla_deadline_set: on_deadline_set,
        EventType.sla_deadline_ended: on_deadline_ended,
        EventType.sla_escalated: on_escalated,
    }),
)
