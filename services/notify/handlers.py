"""Event handlers: keep the contact book and the request facts, and say who must hear what.

Each handler runs inside the consumer's transaction (the inbox makes it exactly-once) and only
writes rows: contacts, request facts, queued messages (`service.queue`). Nothing is sent here.

An event about a request notify never heard of cannot say anything to its requester: the
handler raises `UnknownRequest`, the bus retries it (the `request.submitted` may still be on its
way) and finally dead-letters it with that reason. A recipient missing from the contact book is
skipped and counted (`service.UNREACHABLE`), never guessed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import repository, service
from services.notify.messages import MessageKind
from services.notify.repository import AnyRow
from services.notify.service import Notice, Reach
from shared.bus import ReceivedEvent
from shared.errors import Text
from shared.events import catalog as c
from shared.events.vocabulary import DirectoryChange, Role


class UnknownRequest(Exception):
    """A lifecycle event names a request whose `request.submitted` notify has not seen."""


# --- the contact book -------------------------------------------------------------------------


async def on_citizen_contact(session: AsyncSession, events: list[ReceivedEvent]) -> None:
    """`citizen.registered` and `citizen.contact_changed` carry the whole set of contact points."""
    rows = []
    for event in events:
        payload = event.payload
        assert isinstance(payload, c.CitizenRegistered | c.CitizenContactChanged)
        rows.append({
            "person_id": payload.citizen_id, "phone": payload.phone, "email": payload.email,
            "language": payload.language.value, "notice_channel": payload.notice_channel.value,
            "active": True, "changed_at": event.envelope.occurred_at,
        })
    await repository.upsert_contacts(session, _latest_per_person(rows))


async def on_person_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, c.DirectoryPersonChanged)
    await repository.upsert_contacts(session, [{
        "person_id": payload.person_id, "phone": payload.phone, "email": payload.email,
        "language": payload.language.value, "notice_channel": payload.notice_channel.value,
        # A retired official hears nothing more; the dispatcher checks this again at sending.
        "active": payload.change is not DirectoryChange.retired,
        "changed_at": event.envelope.occurred_at,
    }])


def _latest_per_person(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # One statement may not touch a row twice (PostgreSQL refuses it): the latest wins.
    latest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        known = latest.get(row["person_id"])
        if known is None or known["changed_at"] <= row["changed_at"]:
            latest[row["person_id"]] = row
    return list(latest.values())


async def on_role_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, c.DirectoryRoleChanged)
    row = {"person_id": payload.person_id, "role": payload.role.value,
           "entity": payload.entity or "", "sector": payload.sector or ""}
    if payload.granted:
        await repository.grant_role(session, row)
    else:
        await repository.revoke_role(session, row)


async def on_entity_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, c.DirectoryEntityChanged)
    # A retired entity keeps its name: messages about its old requests still need it.
    await repository.upsert_entity(session, {
        "entity": payload.entity, "sector": payload.sector,
        "name_ar": payload.name_ar, "name_en": payload.name_en,
    })


# --- one-time codes ---------------------------------------------------------------------------


async def on_code_requested(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, c.CitizenCodeRequested)
    if payload.expires_at <= event.envelope.occurred_at:
        return  # already useless; sending it would only confuse
    await service.queue_code(
        session,
        source_event_id=event.envelope.id,
        challenge_id=payload.challenge_id,
        phone=payload.phone,
        code=payload.code,
        facts={"purpose": payload.purpose.value, "expires_at": payload.expires_at},
        language=payload.language,
        occurred_at=event.envelope.occurred_at,
        expires_at=payload.expires_at,
    )


# --- requests ---------------------------------------------------------------------------------


async def on_request_submitted(session: AsyncSession, events: list[ReceivedEvent]) -> None:
    """The request's facts, and the acknowledgement with its reference number."""
    rows, notices = [], []
    for event in events:
        payload = event.payload
        assert isinstance(payload, c.RequestSubmitted)
        rows.append({
            "reference": payload.reference, "requester_id": payload.requester_id,
            "kind": payload.kind.value, "subject": payload.subject, "entity": payload.entity,
            "sector": payload.sector, "distributed_to": None,
            "notice_channel": payload.notice_channel.value if payload.notice_channel else None,
            "language": payload.language.value if payload.language else None,
            "open": True, "overdue_since": None,
        })
        notices.append(Notice(
            kind=MessageKind.received, source_event_id=event.envelope.id,
            occurred_at=event.envelope.occurred_at, recipient_id=payload.requester_id,
            reference=payload.reference,
            facts={"reference": payload.reference, "kind": payload.kind.value,
                   "subject": payload.subject, "submitted_at": payload.submitted_at},
            channel=payload.notice_channel, language=payload.language,
        ))
    await repository.upsert_requests(session, rows)
    await service.queue(session, notices)


async def _request(session: AsyncSession, reference: str) -> AnyRow:
    facts = (await repository.request_facts(session, [reference])).get(reference)
    if facts is None:
        raise UnknownRequest(f"request {reference} is unknown to notify")
    return facts


async def _entity_name(session: AsyncSession, entity: str | None) -> Text:
    row = (await repository.entity_names(session, [entity])).get(entity or "")
    if row is None:  # the directory has not told us yet: its code is better than nothing
        return Text(entity or "", entity or "")
    return Text(row.name_ar, row.name_en)


def _to_requester(
    event: ReceivedEvent, request: AnyRow, kind: MessageKind, **facts: Any
) -> Notice:
    return service.to_requester(request, kind, source_event_id=event.envelope.id,
                                occurred_at=event.envelope.occurred_at, **facts)


def _to_each(
    event: ReceivedEvent, people: Iterable[uuid.UUID], message: MessageKind, *,
    reference: str | None = None, reach: Reach = Reach.preferred, **facts: Any,
) -> list[Notice]:
    return [
        Notice(kind=message, source_event_id=event.envelope.id,
               occurred_at=event.envelope.occurred_at, recipient_id=person,
               reference=reference, reach=reach,
               facts={**({"reference": reference} if reference else {}), **facts})
        for person in dict.fromkeys(people)  # once each, in order
    ]


async def on_request_event(session: AsyncSession, event: ReceivedEvent) -> None:
    """Every later step of a request: update what notify knows, then tell whom it concerns."""
    payload: Any = event.payload
    request = await _request(session, payload.reference)
    reference = request.reference
    notices: list[Notice] = []
    changes: dict[str, Any] = {}

    match payload:
        case c.RequestAssigned():
            entity = await _entity_name(session, payload.entity)
            changes = {"entity": payload.entity, "sector": payload.sector,
                       "distributed_to": None, "overdue_since": None}
            await repository.clear_officers(session, reference)
            await repository.add_officers(session, reference, payload.officer_ids)
            notices.append(_to_requester(event, request, MessageKind.assigned,
                                         entity_name=entity))
            notices += _to_each(event, payload.officer_ids, MessageKind.officer_assigned,
                                reference=reference, reach=Reach.every, entity_name=entity,
                                kind=request.kind, subject=request.subject)
        case c.RequestDistributed():
            changes = {"distributed_to": payload.entity}
            await repository.add_officers(session, reference, payload.officer_ids)
            notices += _to_each(event, payload.officer_ids, MessageKind.officer_distributed,
                                reference=reference, reach=Reach.every,
                                entity_name=await _entity_name(session, payload.entity),
                                kind=request.kind, subject=request.subject)
        case c.RequestAccepted():
            changes = {"overdue_since": None}
            notices.append(_to_requester(
                event, request, MessageKind.accepted, days=payload.processing_working_days,
                entity_name=await _entity_name(session, request.entity)))
        case c.RequestJurisdictionRefused() | c.RequestTransferred():
            # The request leaves these officers; `request.assigned` names the next ones.
            changes = {"distributed_to": None, "overdue_since": None}
            if isinstance(payload, c.RequestTransferred):
                changes.update(entity=payload.to_entity, sector=payload.to_sector)
            await repository.clear_officers(session, reference)
        case c.RequestTriaged():
            changes = {"distributed_to": None}
            cmu = await repository.holders_of(session, Role.cmu_staff)
            notices += _to_each(event, cmu, MessageKind.triaged, reference=reference,
                                reason=payload.reason.value)
        case c.RequestInfoRequested():
            changes = {"overdue_since": None}  # both clocks stop while the requester is asked
            notices.append(_to_requester(event, request, MessageKind.info_requested,
                                         question=payload.question))
        case c.RequestExtended():
            changes = {"overdue_since": None}
            notices.append(_to_requester(
                event, request, MessageKind.extended, days=payload.added_working_days,
                reason=payload.reason, extension_number=payload.extension_number))
        case c.RequestResponded():
            changes = {"overdue_since": None}
            notices.append(_to_requester(
                event, request, MessageKind.responded, actions_taken=payload.actions_taken,
                solution=payload.solution, rating_link=True, answer_round=payload.round))
            # Duplicates merged into this request: their requesters hear the same answer (the
            # rating is the answered request's requester's alone).
            duplicates = await repository.request_facts(session, payload.also_answers)
            notices += [
                _to_requester(event, duplicate, MessageKind.duplicate_answered,
                              answered=reference, actions_taken=payload.actions_taken,
                              solution=payload.solution)
                for duplicate in duplicates.values()
            ]
        case c.RequestReviewOpened():
            cmu = await repository.holders_of(session, Role.cmu_staff)
            notices += _to_each(event, cmu, MessageKind.review_opened, reference=reference,
                                entity_name=await _entity_name(session, payload.entity))
        case c.RequestReopened():
            changes = {"entity": payload.entity, "sector": payload.sector, "open": True}
            entity = await _entity_name(session, payload.entity)
            notices.append(_to_requester(event, request, MessageKind.reopened,
                                         decision=payload.decision, entity_name=entity))
            # Back to the same officers, who hear it as they heard it arrive.
            notices += _to_each(event, await repository.officers_of(session, reference),
                                MessageKind.officer_reopened, reference=reference,
                                reach=Reach.every, entity_name=entity, subject=request.subject,
                                decision=payload.decision)
        case c.RequestClosed():
            changes = {"open": False, "overdue_since": None}
            await repository.clear_officers(session, reference)
            notices.append(_to_requester(event, request, MessageKind.closed,
                                         closing_code=payload.closing_code.value,
                                         merged_into=payload.merged_into))
        case c.RequestRejected():
            changes = {"open": False, "overdue_since": None}
            await repository.clear_officers(session, reference)
            notices.append(_to_requester(
                event, request, MessageKind.rejected,
                legal_ground=payload.legal_ground.value, reason=payload.reason))
        case _:
            raise TypeError(f"no rule for {event.envelope.type}")

    if changes:
        await repository.update_request(session, reference, **changes)
    await service.queue(session, notices)


# --- deadlines --------------------------------------------------------------------------------


async def on_sla_breached(session: AsyncSession, event: ReceivedEvent) -> None:
    """An entity's deadline passed: the request is overdue for its officers' daily digest."""
    payload = event.payload
    assert isinstance(payload, c.SlaBreached)
    if payload.clock == "entity" and payload.stage != "rating_window":
        await repository.mark_overdue(session, payload.reference, payload.due_at)


async def on_sla_rules_changed(session: AsyncSession, event: ReceivedEvent) -> None:
    """The working days the officers' digest goes out on (holidays are not working days)."""
    payload = event.payload
    assert isinstance(payload, c.SlaRulesChanged)
    await repository.keep_calendar_rules(session, revision=payload.revision,
                                         rules=payload.model_dump(mode="json"))


async def on_sla_escalated(session: AsyncSession, event: ReceivedEvent) -> None:
    """Level 1 reaches the entity head, level 2 the minister: on every channel they have."""
    payload = event.payload
    assert isinstance(payload, c.SlaEscalated)
    await service.queue(session, _to_each(
        event, payload.recipient_ids, MessageKind.escalated, reference=payload.reference,
        reach=Reach.every, level=payload.level, stage=payload.stage.value,
        overdue_since=payload.overdue_since,
        entity_name=await _entity_name(session, payload.entity)))


# --- the commission and the reports -----------------------------------------------------------


async def on_report_forwarded(session: AsyncSession, event: ReceivedEvent) -> None:
    """The commission hears that a sealed report arrived; nothing of it, not even its id."""
    commission = await repository.holders_of(session, Role.integrity_commission)
    await service.queue(session, _to_each(event, commission, MessageKind.report_arrived))


async def on_report_published(session: AsyncSession, event: ReceivedEvent) -> None:
    """A sector's report goes to its minister; the government-wide one to decision makers."""
    payload = event.payload
    assert isinstance(payload, c.AnalyticsReportPublished)
    audience = (
        await repository.holders_of(session, Role.minister, sector=payload.sector)
        if payload.sector else await repository.holders_of(session, Role.decision_maker)
    )
    await service.queue(session, _to_each(
        event, audience, MessageKind.report_published, cadence=payload.cadence.value,
        period_start=payload.period_start, period_end=payload.period_end,
        action_path=payload.link))


REQUEST_EVENTS = (
    c.EventType.request_triaged, c.EventType.request_assigned, c.EventType.request_distributed,
    c.EventType.request_accepted, c.EventType.request_jurisdiction_refused,
    c.EventType.request_transferred, c.EventType.request_info_requested,
    c.EventType.request_extended, c.EventType.request_responded,
    c.EventType.request_review_opened, c.EventType.request_reopened,
    c.EventType.request_closed, c.EventType.request_rejected,
)
