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
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.models import Request, SlaRules
from shared.bus import Handlers, Received
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
    RequestReviewOpened,
    RequestTransferred,
    RequestTriaged,
    SlaDeadlineEnded,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRulesChanged,
)
from shared.events.envelope import EventPayload
from shared.events.vocabulary import DirectoryChange, RequestStatus

log = logging.getLogger(__name__)


# --- the directory and the rules -----------------------------------------------------------------

DIRECTORY = Handlers()
LIFECYCLE = Handlers()
P = TypeVar("P", bound=EventPayload)


@DIRECTORY.on(DirectorySectorChanged)
async def on_sector_changed(session: AsyncSession,
                            event: Received[DirectorySectorChanged]) -> None:
    sector = event.payload
    await repository.save_sector(session, values={
        "code": sector.sector, "name_ar": sector.name_ar, "name_en": sector.name_en,
        "retired": sector.change is DirectoryChange.retired, "changed_at": event.at,
    })


@DIRECTORY.on(DirectoryEntityChanged)
async def on_entity_changed(session: AsyncSession,
                            event: Received[DirectoryEntityChanged]) -> None:
    entity = event.payload
    await repository.save_entity(session, values={
        "code": entity.entity, "sector": entity.sector, "parent": entity.parent,
        "name_ar": entity.name_ar, "name_en": entity.name_en,
        "retired": entity.change is DirectoryChange.retired, "changed_at": event.at,
    })


@DIRECTORY.on(SlaRulesChanged)
async def on_rules_changed(session: AsyncSession, event: Received[SlaRulesChanged]) -> None:
    rules = event.payload
    if await session.get(SlaRules, rules.revision) is None:
        session.add(SlaRules(revision=rules.revision, rules=rules.model_dump(mode="json"),
                             received_at=event.at))
        await session.flush()
    # Only the newest revision matters; older ones (and late arrivals) are dropped.
    newest = (await session.execute(select(func.max(SlaRules.revision)))).scalar_one()
    await session.execute(delete(SlaRules).where(SlaRules.revision < newest))


# --- the request's life --------------------------------------------------------------------------


def _nothing(_: EventPayload) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class _Step(Generic[P]):
    """What one request event does to the requester's view: the status it moves to (None:
    unchanged), the request's own fields it sets, what its timeline step shows, and who holds
    the request after it (routing's `Case` the same way: the entity and its sector, and the
    entity or department it was distributed to, which a move to another entity or to the CMU's
    triage clears; a reopened request goes back to where it was)."""

    payload: type[P]
    status: RequestStatus | None
    fields: Callable[[P], dict[str, Any]] = _nothing
    details: Callable[[P], dict[str, Any]] = _nothing
    holder: Callable[[P], dict[str, Any]] | None = None


_STEPS: tuple[_Step[Any], ...] = (
    _Step(RequestTriaged, RequestStatus.triage, holder=lambda e: {"distributed_to": None}),
    _Step(RequestAssigned, RequestStatus.assigned, details=lambda e: {"entity": e.entity},
          holder=lambda e: {"entity": e.entity, "sector": e.sector, "distributed_to": None}),
    _Step(RequestDistributed, RequestStatus.assigned,
          holder=lambda e: {"distributed_to": e.entity}),
    _Step(RequestAccepted, RequestStatus.in_progress,
          details=lambda e: {"processing_working_days": e.processing_working_days}),
    _Step(RequestJurisdictionRefused, RequestStatus.triage,
          holder=lambda e: {"distributed_to": None}),
    _Step(RequestTransferred, RequestStatus.assigned, details=lambda e: {"entity": e.to_entity},
          holder=lambda e: {"entity": e.to_entity, "sector": e.to_sector,
                            "distributed_to": None}),
    _Step(RequestInfoRequested, RequestStatus.awaiting_information,
          # Remembered so that the answer resumes where the request stood.
          fields=lambda e: {"status_before_pause": case(
              (Request.status == RequestStatus.awaiting_information.value,
               Request.status_before_pause),
              else_=Request.status,
          )},
          details=lambda e: {"question": e.question}),
    _Step(RequestExtended, None,
          details=lambda e: {"reason": e.reason, "extension_number": e.extension_number,
                             "added_working_days": e.added_working_days}),
    _Step(RequestResponded, RequestStatus.responded,
          fields=lambda e: {"actions_taken": e.actions_taken, "solution": e.solution,
                            "answer_round": e.round},
          # Each answer stays on the timeline: a reopened request's first answer too.
          details=lambda e: {"round": e.round, "actions_taken": e.actions_taken,
                             "solution": e.solution}),
    _Step(RequestReviewOpened, RequestStatus.under_review),
    _Step(RequestReopened, RequestStatus.in_progress, details=lambda e: {"decision": e.decision},
          holder=lambda e: {"entity": e.entity, "sector": e.sector}),
    _Step(RequestClosed, RequestStatus.closed,
          fields=lambda e: {"outcome": e.closing_code.value},
          details=lambda e: {"closing_code": e.closing_code.value,
                             "merged_into": e.merged_into}),
    _Step(RequestRejected, RequestStatus.rejected,
          fields=lambda e: {"outcome": e.legal_ground.value},
          details=lambda e: {"legal_ground": e.legal_ground.value, "reason": e.reason}),
)


async def _known(session: AsyncSession, reference: str, event: Received[EventPayload]
                 ) -> Request | None:
    request = await repository.request(session, reference=reference)
    if request is None:
        # Not ours (or not yet: intake wrote the request before the event that names it could
        # exist, so "not yet" does not happen). Nothing to show anyone.
        log.warning("event about an unknown request ignored",
                    extra={"event_id": str(event.envelope.id), "type": event.envelope.type})
    return request


async def _take_step(session: AsyncSession, event: Received[P], step: _Step[P]) -> None:
    payload: P = event.payload
    reference: str = getattr(payload, "reference")  # noqa: B009 - every request event has one
    request = await _known(session, reference, event)
    if request is None:
        return
    if isinstance(payload, RequestResponded) and payload.round is None:
        # From a routing older than answer rounds: the answer after the last one.
        payload = payload.model_copy(update={"round": (request.answer_round or 0) + 1})
    values = step.fields(payload)
    if step.status is not None or values:
        await repository.set_status(session, reference=reference, status=step.status,
                                    at=event.at, **values)
    if step.holder is not None:
        await repository.set_holder(session, reference=reference, at=event.at,
                                    **step.holder(payload))
    await repository.add_timeline_entry(
        session, reference=reference, event_id=event.envelope.id,
        step=step.payload.event_type, at=event.at, details=step.details(payload),
    )
    if isinstance(payload, RequestResponded):
        await _answer_merged_duplicates(session, payload, event)


def _handle(step: _Step[P]) -> None:
    async def take_step(session: AsyncSession, event: Received[P]) -> None:
        await _take_step(session, event, step)

    LIFECYCLE.on(step.payload)(take_step)


for _step in _STEPS:
    _handle(_step)


async def _answer_merged_duplicates(
    session: AsyncSession, response: RequestResponded, event: Received[EventPayload]
) -> None:
    """Duplicates merged into this request are closed already; their requesters read the
    answer too, on their own request (no rating: the original's requester rates)."""
    for duplicate in response.also_answers:
        if await _known(session, duplicate, event) is None:
            continue
        await repository.set_status(session, reference=duplicate, status=None, at=event.at,
                                    actions_taken=response.actions_taken,
                                    solution=response.solution)
        await repository.add_timeline_entry(
            session, reference=duplicate, event_id=uuid.uuid5(event.envelope.id, duplicate),
            step=EventType.request_responded.value, at=event.at,
            details={"answered_with": response.reference},
        )


@LIFECYCLE.on(SlaDeadlineSet)
async def on_deadline_set(session: AsyncSession, event: Received[SlaDeadlineSet]) -> None:
    deadline = event.payload
    if await _known(session, deadline.reference, event) is None:
        return
    await repository.save_deadline(session, values={
        "reference": deadline.reference, "clock": deadline.clock.value,
        "stage": deadline.stage.value, "entity": deadline.entity, "due_at": deadline.due_at,
        "set_at": event.at,
    })


@LIFECYCLE.on(SlaDeadlineEnded)
async def on_deadline_ended(session: AsyncSession, event: Received[SlaDeadlineEnded]) -> None:
    ended = event.payload
    if await _known(session, ended.reference, event) is None:
        return
    await repository.end_deadline(session, values={
        "reference": ended.reference, "clock": ended.clock.value, "stage": ended.stage.value,
        "entity": ended.entity, "due_at": ended.due_at, "ended_at": ended.ended_at,
    })


@LIFECYCLE.on(SlaEscalated)
async def on_escalated(session: AsyncSession, event: Received[SlaEscalated]) -> None:
    escalation = event.payload
    if await _known(session, escalation.reference, event) is None:
        return
    await repository.add_timeline_entry(
        session, reference=escalation.reference, event_id=event.envelope.id,
        step=EventType.sla_escalated.value, at=event.at, details={"level": escalation.level},
    )
