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
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import repository, service
from services.notify.messages import MessageKind
from services.notify.repository import AnyRow
from services.notify.service import Notice, Reach
from shared.bus import Handlers, Received
from shared.errors import Text
from shared.events import catalog as c
from shared.events.envelope import EventPayload
from shared.events.vocabulary import DirectoryChange, Role

CODES = Handlers()  # one-time codes: their own queue, so that no backlog delays a code
NOTICES = Handlers()  # everything else


class UnknownRequest(Exception):
    """A lifecycle event names a request whose `request.submitted` notify has not seen."""


# --- the contact book -------------------------------------------------------------------------


async def on_citizen_contact(
    session: AsyncSession,
    events: Sequence[Received[c.CitizenRegistered] | Received[c.CitizenContactChanged]],
) -> None:
    """`citizen.registered` and `citizen.contact_changed` carry the whole set of contact points."""
    await repository.upsert_contacts(session, _latest_per_person([
        {"person_id": event.payload.citizen_id, "phone": event.payload.phone,
         "email": event.payload.email, "language": event.payload.language.value,
         "notice_channel": event.payload.notice_channel.value, "active": True,
         "changed_at": event.at}
        for event in events
    ]))


NOTICES.on_runs(c.CitizenRegistered)(on_citizen_contact)
NOTICES.on_runs(c.CitizenContactChanged)(on_citizen_contact)


@NOTICES.on(c.DirectoryPersonChanged)
async def on_person_changed(session: AsyncSession,
                            event: Received[c.DirectoryPersonChanged]) -> None:
    payload = event.payload
    await repository.upsert_contacts(session, [{
        "person_id": payload.person_id, "phone": payload.phone, "email": payload.email,
        "language": payload.language.value, "notice_channel": payload.notice_channel.value,
        # A retired official hears nothing more; the dispatcher checks this again at sending.
        "active": payload.change is not DirectoryChange.retired,
        "changed_at": event.at,
    }])


def _latest_per_person(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # One statement may not touch a row twice (PostgreSQL refuses it): the latest wins.
    latest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        known = latest.get(row["person_id"])
        if known is None or known["changed_at"] <= row["changed_at"]:
            latest[row["person_id"]] = row
    return list(latest.values())


@NOTICES.on(c.DirectoryRoleChanged)
async def on_role_changed(session: AsyncSession, event: Received[c.DirectoryRoleChanged]) -> None:
    payload = event.payload
    row = {"person_id": payload.person_id, "role": payload.role.value,
           "entity": payload.entity or "", "sector": payload.sector or ""}
    if payload.granted:
        await repository.grant_role(session, row)
    else:
        await repository.revoke_role(session, row)


@NOTICES.on(c.DirectoryEntityChanged)
async def on_entity_changed(session: AsyncSession,
                            event: Received[c.DirectoryEntityChanged]) -> None:
    payload = event.payload
    # A retired entity keeps its name: messages about its old requests still need it.
    await repository.upsert_entity(session, {
        "entity": payload.entity, "sector": payload.sector,
        "name_ar": payload.name_ar, "name_en": payload.name_en,
    })


# --- one-time codes ---------------------------------------------------------------------------


@CODES.on(c.CitizenCodeRequested)
async def on_code_requested(session: AsyncSession,
                            event: Received[c.CitizenCodeRequested]) -> None:
    payload = event.payload
    if payload.expires_at <= event.at:
        return  # already useless; sending it would only confuse
    await service.queue_code(
        session,
        source_event_id=event.envelope.id,
        challenge_id=payload.challenge_id,
        phone=payload.phone,
        code=payload.code,
        facts={"purpose": payload.purpose.value, "expires_at": payload.expires_at},
        language=payload.language,
        occurred_at=event.at,
        expires_at=payload.expires_at,
    )


# --- requests ---------------------------------------------------------------------------------


@NOTICES.on_runs(c.RequestSubmitted)
async def on_request_submitted(session: AsyncSession,
                               events: Sequence[Received[c.RequestSubmitted]]) -> None:
    """The request's facts, and the acknowledgement with its reference number and tracking
    code (with which a requester without an account follows it)."""
    rows, notices = [], []
    for event in events:
        payload = event.payload
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
            occurred_at=event.at, recipient_id=payload.requester_id,
            reference=payload.reference,
            facts={"reference": payload.reference, "kind": payload.kind.value,
                   "subject": payload.subject, "submitted_at": payload.submitted_at,
                   "tracking_code": payload.tracking_code},
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
    event: Received[EventPayload], request: AnyRow, kind: MessageKind, **facts: Any
) -> Notice:
    return service.to_requester(request, kind, source_event_id=event.envelope.id,
                                occurred_at=event.at, **facts)


def _to_each(
    event: Received[EventPayload], people: Iterable[uuid.UUID], message: MessageKind, *,
    reference: str | None = None, reach: Reach = Reach.preferred, **facts: Any,
) -> list[Notice]:
    return [
        Notice(kind=message, source_event_id=event.envelope.id, occurred_at=event.at,
               recipient_id=person, reference=reference, reach=reach,
               facts={**({"reference": reference} if reference else {}), **facts})
        for person in dict.fromkeys(people)  # once each, in order
    ]


async def _keep(session: AsyncSession, request: AnyRow, notices: list[Notice],
                **changes: Any) -> None:
    """What every later step of a request ends with: notify's facts of it updated, and the
    messages it causes queued."""
    if changes:
        await repository.update_request(session, request.reference, **changes)
    await service.queue(session, notices)


@NOTICES.on(c.RequestAssigned)
async def on_assigned(session: AsyncSession, event: Received[c.RequestAssigned]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    entity = await _entity_name(session, payload.entity)
    await repository.clear_officers(session, request.reference)
    await repository.add_officers(session, request.reference, payload.officer_ids)
    await _keep(session, request, [
        _to_requester(event, request, MessageKind.assigned, entity_name=entity),
        *_to_each(event, payload.officer_ids, MessageKind.officer_assigned,
                  reference=request.reference, reach=Reach.every, entity_name=entity,
                  kind=request.kind, subject=request.subject),
    ], entity=payload.entity, sector=payload.sector, distributed_to=None, overdue_since=None)


@NOTICES.on(c.RequestDistributed)
async def on_distributed(session: AsyncSession, event: Received[c.RequestDistributed]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    await repository.add_officers(session, request.reference, payload.officer_ids)
    await _keep(session, request, _to_each(
        event, payload.officer_ids, MessageKind.officer_distributed,
        reference=request.reference, reach=Reach.every,
        entity_name=await _entity_name(session, payload.entity),
        kind=request.kind, subject=request.subject,
    ), distributed_to=payload.entity)


@NOTICES.on(c.RequestAccepted)
async def on_accepted(session: AsyncSession, event: Received[c.RequestAccepted]) -> None:
    request = await _request(session, event.payload.reference)
    await _keep(session, request, [_to_requester(
        event, request, MessageKind.accepted, days=event.payload.processing_working_days,
        entity_name=await _entity_name(session, request.entity))], overdue_since=None)


# The request leaves these officers; `request.assigned` names the next ones.
@NOTICES.on(c.RequestJurisdictionRefused)
async def on_jurisdiction_refused(session: AsyncSession,
                                  event: Received[c.RequestJurisdictionRefused]) -> None:
    request = await _request(session, event.payload.reference)
    await repository.clear_officers(session, request.reference)
    await _keep(session, request, [], distributed_to=None, overdue_since=None)


@NOTICES.on(c.RequestTransferred)
async def on_transferred(session: AsyncSession, event: Received[c.RequestTransferred]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    await repository.clear_officers(session, request.reference)
    await _keep(session, request, [], distributed_to=None, overdue_since=None,
                entity=payload.to_entity, sector=payload.to_sector)


@NOTICES.on(c.RequestTriaged)
async def on_triaged(session: AsyncSession, event: Received[c.RequestTriaged]) -> None:
    request = await _request(session, event.payload.reference)
    cmu = await repository.holders_of(session, Role.cmu_staff)
    await _keep(session, request, _to_each(event, cmu, MessageKind.triaged,
                                           reference=request.reference,
                                           reason=event.payload.reason.value),
                distributed_to=None)


@NOTICES.on(c.RequestInfoRequested)
async def on_info_requested(session: AsyncSession,
                            event: Received[c.RequestInfoRequested]) -> None:
    request = await _request(session, event.payload.reference)
    # Both clocks stop while the requester is asked.
    await _keep(session, request, [_to_requester(event, request, MessageKind.info_requested,
                                                 question=event.payload.question)],
                overdue_since=None)


@NOTICES.on(c.RequestExtended)
async def on_extended(session: AsyncSession, event: Received[c.RequestExtended]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    await _keep(session, request, [_to_requester(
        event, request, MessageKind.extended, days=payload.added_working_days,
        reason=payload.reason, extension_number=payload.extension_number)],
        overdue_since=None)


@NOTICES.on(c.RequestResponded)
async def on_responded(session: AsyncSession, event: Received[c.RequestResponded]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    # Duplicates merged into this request: their requesters hear the same answer (the rating
    # is the answered request's requester's alone).
    duplicates = await repository.request_facts(session, payload.also_answers)
    await _keep(session, request, [
        _to_requester(event, request, MessageKind.responded, actions_taken=payload.actions_taken,
                      solution=payload.solution, rating_link=True, answer_round=payload.round),
        *(_to_requester(event, duplicate, MessageKind.duplicate_answered,
                        answered=request.reference, actions_taken=payload.actions_taken,
                        solution=payload.solution)
          for duplicate in duplicates.values()),
    ], overdue_since=None)


@NOTICES.on(c.RequestReviewOpened)
async def on_review_opened(session: AsyncSession,
                           event: Received[c.RequestReviewOpened]) -> None:
    request = await _request(session, event.payload.reference)
    cmu = await repository.holders_of(session, Role.cmu_staff)
    await _keep(session, request, _to_each(
        event, cmu, MessageKind.review_opened, reference=request.reference,
        entity_name=await _entity_name(session, event.payload.entity)))


@NOTICES.on(c.RequestReopened)
async def on_reopened(session: AsyncSession, event: Received[c.RequestReopened]) -> None:
    payload = event.payload
    request = await _request(session, payload.reference)
    entity = await _entity_name(session, payload.entity)
    await _keep(session, request, [
        _to_requester(event, request, MessageKind.reopened, decision=payload.decision,
                      entity_name=entity),
        # Back to the same officers, who hear it as they heard it arrive.
        *_to_each(event, await repository.officers_of(session, request.reference),
                  MessageKind.officer_reopened, reference=request.reference, reach=Reach.every,
                  entity_name=entity, subject=request.subject, decision=payload.decision),
    ], entity=payload.entity, sector=payload.sector, open=True)


@NOTICES.on(c.RequestChased)
async def on_chased(session: AsyncSession, event: Received[c.RequestChased]) -> None:
    """The requester chased a late answer: the officers holding it and the entity's head hear
    it on every channel they have, with the requester's note."""
    payload = event.payload
    request = await _request(session, payload.reference)
    heads = (await repository.holders_of(session, Role.entity_head, entity=payload.entity)
             if payload.entity else [])
    await _keep(session, request, _to_each(
        event, [*await repository.officers_of(session, request.reference), *heads],
        MessageKind.officer_chased, reference=request.reference, reach=Reach.every,
        subject=request.subject, stage=payload.stage.value, due_at=payload.due_at,
        note=payload.note, chase=payload.chase,
        entity_name=await _entity_name(session, payload.entity)))


async def _ended(session: AsyncSession, event: Received[c.RequestClosed | c.RequestRejected],
                 kind: MessageKind, **facts: Any) -> None:
    """Closed or rejected: the officers let go, the requester told."""
    request = await _request(session, event.payload.reference)
    await repository.clear_officers(session, request.reference)
    await _keep(session, request, [_to_requester(event, request, kind, **facts)],
                open=False, overdue_since=None)


@NOTICES.on(c.RequestClosed)
async def on_closed(session: AsyncSession, event: Received[c.RequestClosed]) -> None:
    await _ended(session, event, MessageKind.closed,
                 closing_code=event.payload.closing_code.value,
                 merged_into=event.payload.merged_into)


@NOTICES.on(c.RequestRejected)
async def on_rejected(session: AsyncSession, event: Received[c.RequestRejected]) -> None:
    await _ended(session, event, MessageKind.rejected,
                 legal_ground=event.payload.legal_ground.value, reason=event.payload.reason)


# --- deadlines --------------------------------------------------------------------------------


@NOTICES.on(c.SlaBreached)
async def on_sla_breached(session: AsyncSession, event: Received[c.SlaBreached]) -> None:
    """An entity's deadline passed: the request is overdue for its officers' daily digest."""
    payload = event.payload
    if payload.clock == "entity" and payload.stage != "rating_window":
        await repository.mark_overdue(session, payload.reference, payload.due_at)


@NOTICES.on(c.SlaRulesChanged)
async def on_sla_rules_changed(session: AsyncSession, event: Received[c.SlaRulesChanged]) -> None:
    """The working days the officers' digest goes out on (holidays are not working days)."""
    await repository.keep_calendar_rules(session, revision=event.payload.revision,
                                         rules=event.payload.model_dump(mode="json"))


@NOTICES.on(c.SlaEscalated)
async def on_sla_escalated(session: AsyncSession, event: Received[c.SlaEscalated]) -> None:
    """Level 1 reaches the entity head, level 2 the minister: on every channel they have."""
    payload = event.payload
    await service.queue(session, _to_each(
        event, payload.recipient_ids, MessageKind.escalated, reference=payload.reference,
        reach=Reach.every, level=payload.level, stage=payload.stage.value,
        overdue_since=payload.overdue_since,
        entity_name=await _entity_name(session, payload.entity)))


# --- the commission and the reports -----------------------------------------------------------


@NOTICES.on(c.ReportForwarded)
async def on_report_forwarded(session: AsyncSession, event: Received[c.ReportForwarded]) -> None:
    """The commission hears that a sealed report arrived; nothing of it, not even its id."""
    commission = await repository.holders_of(session, Role.integrity_commission)
    await service.queue(session, _to_each(event, commission, MessageKind.report_arrived))


@NOTICES.on(c.AnalyticsReportPublished)
async def on_report_published(session: AsyncSession,
                              event: Received[c.AnalyticsReportPublished]) -> None:
    """A sector's report goes to its minister; the government-wide one to decision makers."""
    payload = event.payload
    audience = (
        await repository.holders_of(session, Role.minister, sector=payload.sector)
        if payload.sector else await repository.holders_of(session, Role.decision_maker)
    )
    await service.queue(session, _to_each(
        event, audience, MessageKind.report_published, cadence=payload.cadence.value,
        period_start=payload.period_start, period_end=payload.period_end,
        action_path=payload.link))
