"""Decisions on cases: the staff's actions and the platform's reactions, each one transition.

Every transition does the same four things in the caller's transaction: checks it may happen
(scope 404, status 409, input 422), changes the case, appends one entry to the request's
hash-chained timeline, and writes its events to the outbox (correlation id: the reference).

Optimistic locking: the case's version is its timeline's length (`audit_seq`), the ETag. An
action states the version it acts on (If-Match, else the version it read); the UPDATE carries
it in its WHERE clause, so of two concurrent actions one wins and the other gets 409, and a
stale If-Match gets 412 before anything is tried. Event handlers lock the row instead and wait.

What it must never do: widen a caller's scope from anything in the path or body; close by
refusing jurisdiction; commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.routing.access import Staff
from services.routing.cases import audit, repository
from services.routing.cases.audit import Actor
from services.routing.cases.policy import (
    CLOSE_ONLY_FROM,
    FIXED_PROCESSING_DAYS,
    MAX_OFFICER_TRANSFERS,
    OFFICERS_TOLD,
    WORKING,
    Action,
    available,
    not_from,
    refusal,
)
from services.routing.cases.schemas import (
    AcceptBody,
    AskInfoBody,
    CloseBody,
    CommentBody,
    DistributeBody,
    ExtendBody,
    MergeBody,
    RefuseJurisdictionBody,
    RejectBody,
    RespondBody,
    ReviewDecision,
    ReviewDecisionBody,
    TransferBody,
)
from services.routing.cases.scope import sees, visible
from services.routing.directory import repository as directory
from services.routing.directory.service import active_entity
from services.routing.exceptions import (
    CaseChangedConcurrently,
    CaseNotFound,
    InvalidInput,
    PermissionDenied,
    PreconditionFailed,
    TransitionNotAllowed,
)
from services.routing.models import Case, Classification
from services.routing.permissions import Permission
from shared.bus import Outbox, Received
from shared.calendar import AMMAN
from shared.errors import Text, on_field
from shared.events.catalog import (
    RequestAccepted,
    RequestAssigned,
    RequestChased,
    RequestClosed,
    RequestDistributed,
    RequestExtended,
    RequestInfoProvided,
    RequestInfoRequested,
    RequestJurisdictionRefused,
    RequestRated,
    RequestRejected,
    RequestReopened,
    RequestResponded,
    RequestReviewOpened,
    RequestTransferred,
    RequestTriaged,
    SlaBreached,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRatingWindowExpired,
    TriageReason,
)
from shared.events.envelope import EventPayload
from shared.events.vocabulary import (
    ClockKind,
    ClosedBy,
    ClosingCode,
    LegalGround,
    RequestStatus,
    Role,
    SlaStage,
)
from shared.text import search_key, similarity

log = logging.getLogger(__name__)

S = RequestStatus
_CMU = frozenset({Role.cmu_staff, Role.cmu_admin})


def etag(case: Case) -> str:
    return f'"{case.audit_seq}"'


def staff_actor(staff: Staff) -> Actor:
    return Actor(id=staff.person_id, role=staff.role.value, channel="staff_api")


def requester(case: Case) -> Actor:
    return Actor(id=case.requester_id, role=Role.citizen.value, channel="intake")


# --- the one way a case changes -----------------------------------------------------------------


async def record(
    session: AsyncSession, outbox: Outbox, case: Case, *, at: datetime, actor: Actor,
    action: str, to_status: RequestStatus | None = None, details: dict[str, Any] | None = None,
    events: Sequence[EventPayload] = (),
) -> None:
    """Move `case` (already changed by the caller) to `to_status`, append the timeline entry,
    bump the version, and queue the events; 409 when someone else changed it meanwhile."""
    from_status = case.status
    if to_status is not None:
        case.status = to_status
    entry = audit.entry(
        reference=case.reference, seq=case.audit_seq + 1, prev_hash=case.audit_head, at=at,
        actor=actor, action=action, from_status=from_status.value,
        to_status=case.status.value, details=details or {},
    )
    case.audit_seq, case.audit_head, case.updated_at = entry.seq, entry.hash, at
    try:
        await session.flush()  # UPDATE … WHERE audit_seq = <the version read>
    except (StaleDataError, IntegrityError):
        raise CaseChangedConcurrently() from None
    session.add(entry)
    await outbox.add_many(session, list(events), correlation_id=case.reference)


def _clear_deadline(case: Case) -> None:
    case.due_at = case.due_stage = case.due_set_at = case.overdue_since = None


async def load(session: AsyncSession, staff: Staff, reference: str, *,
               expected: int | None) -> Case:
    """The case in the caller's scope (404 otherwise), at the version they expect (412)."""
    found = await repository.case(session, reference)
    if found is None or not sees(staff.principal, found):
        raise CaseNotFound(reference)
    if expected is not None and expected != found.audit_seq:
        raise PreconditionFailed(etag(found))
    return found


def _allow(case: Case, action: Action, staff: Staff) -> None:
    problem = refusal(action, case, staff.may)
    if problem is not None:
        raise problem


def actions(case: Case, staff: Staff) -> list[Action]:
    """What `staff` may do to `case` now: exactly what `_allow` lets through."""
    return available(case, staff.may)


def _closed_by(staff: Staff) -> ClosedBy:
    return ClosedBy.cmu if staff.role in _CMU else ClosedBy.officer


# --- reading --------------------------------------------------------------------------------------


def day_ends(now: datetime, days: int = 1) -> datetime:
    """The end of the `days`-th day in Amman counting today as the first: the end of today
    (1), of the 7th day (7)."""
    today = now.astimezone(AMMAN).date()
    return datetime.combine(today + timedelta(days=days), time(), AMMAN)


SIMILAR_SHOWN = 5
_SIMILAR_CANDIDATES = 50


async def similar(session: AsyncSession, staff: Staff, reference: str
                  ) -> list[tuple[Any, float]]:
    """Up to `SIMILAR_SHOWN` open cases in the caller's scope, at the same entity, whose subject
    shares words with this case's, the most alike first (then the newest)."""
    case = await load(session, staff, reference, expected=None)
    subject_key = search_key(case.subject)
    candidates = await repository.sharing_subject_words(
        session, visible=visible(staff.principal), case=case, subject_key=subject_key,
        limit=_SIMILAR_CANDIDATES)
    scored = [(row, similarity(subject_key, row.subject_key)) for row in candidates]
    scored = [(row, score) for row, score in scored if score > 0]
    scored.sort(key=lambda pair: (pair[1], pair[0].submitted_at), reverse=True)
    return scored[:SIMILAR_SHOWN]


async def distribution_targets(session: AsyncSession, staff: Staff, reference: str
                       ) -> list[tuple[str, list[tuple[uuid.UUID, str]]]]:
    """Where the caller may distribute this request: each current entity of its sector that the
    caller acts for, with its active sub-liaison officers (id and name), by entity code."""
    case = await load(session, staff, reference, expected=None)
    if case.sector_code is None:
        return []
    entities = [e.code for e in await directory.entities(session, sector_code=case.sector_code)
                if staff.principal.may_act_for_entity(e.code, sector_id=e.sector_code)]
    by_entity = await directory.officers(session, Role.sub_liaison_officer,
                                         entity_codes=entities)
    names = await directory.full_names(session, [o for ids in by_entity.values() for o in ids])
    return [(code, sorted(((o, names[o]) for o in by_entity.get(code, [])),
                          key=lambda officer: officer[1]))
            for code in entities]


# --- staff actions --------------------------------------------------------------------------------


async def _classification_for(session: AsyncSession, case: Case, code: str) -> Classification:
    found = await directory.classification(session, code)
    if found is None or found.retired_at is not None or found.kind is not case.kind:
        raise on_field(InvalidInput(
            Text(f"لا يوجد تصنيف نافذ {code} لهذا النوع من الطلبات.",
                 f"There is no current {case.kind} classification {code}."),
            classification=code), "body.classification")
    return found


_DAYS = "body.processing_working_days"


def _processing_days(case: Case, classification: Classification, asked: int | None) -> int:
    fixed = FIXED_PROCESSING_DAYS.get(case.kind)
    if fixed is not None:
        if asked is not None and asked != fixed:
            raise on_field(InvalidInput(Text(f"مدة المعالجة محددة بالتعليمات: {fixed} يوم عمل.",
                                             f"The processing time is fixed by the regulations: "
                                             f"{fixed} working days."), fixed=fixed), _DAYS)
        return fixed
    if asked is None:
        raise on_field(InvalidInput(Text("حدّد مدة المعالجة بأيام العمل.",
                                         "Set the processing time in working days.")), _DAYS)
    if asked > classification.max_working_days:
        raise on_field(InvalidInput(
            Text(f"الحد الأقصى لهذا التصنيف {classification.max_working_days} يوم عمل.",
                 f"This classification allows at most {classification.max_working_days} "
                 "working days."),
            maximum=classification.max_working_days), _DAYS)
    return asked


async def accept(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                 reference: str, expected: int | None, body: AcceptBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.accept, staff)
    classification = await _classification_for(session, case, body.classification)
    days = _processing_days(case, classification, body.processing_working_days)
    case.classification, case.processing_working_days = classification.code, days
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="accepted",
                 to_status=S.in_progress,
                 details={"classification": classification.code, "processing_working_days": days},
                 events=[RequestAccepted(reference=case.reference,
                                         classification=classification.code,
                                         processing_working_days=days,
                                         actor_id=staff.person_id)])
    return case


async def refuse_jurisdiction(session: AsyncSession, *, outbox: Outbox, at: datetime,
                              staff: Staff, reference: str, expected: int | None,
                              body: RefuseJurisdictionBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.refuse_jurisdiction, staff)
    assert case.entity_code is not None, "an assigned request has an entity"
    if body.suggested_entity is not None:
        await active_entity(session, body.suggested_entity, field="body.suggested_entity")
    reason = (TriageReason.transfer_limit if case.transfer_count >= MAX_OFFICER_TRANSFERS
              else TriageReason.jurisdiction_refused)
    case.distributed_to, case.officer_ids, case.escalation_level = None, [], 0
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=staff_actor(staff),
                 action="jurisdiction_refused", to_status=S.triage,
                 details={"reason": body.reason, "suggested_entity": body.suggested_entity,
                          "triage": reason.value},
                 events=[
                     RequestJurisdictionRefused(
                         reference=case.reference, from_entity=case.entity_code,
                         suggested_entity=body.suggested_entity, reason=body.reason,
                         transfer_count=case.transfer_count, actor_id=staff.person_id),
                     RequestTriaged(reference=case.reference, reason=reason),
                 ])
    return case


async def distribute(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                     reference: str, expected: int | None, body: DistributeBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.distribute, staff)
    target = await active_entity(session, body.entity, field="body.entity")
    if (target.sector_code != case.sector_code
            or not staff.principal.may_act_for_entity(target.code, sector_id=target.sector_code)):
        raise on_field(InvalidInput(
            Text(f"الجهة {target.code} ليست في قطاع هذا الطلب.",
                 f"The entity {target.code} is not in this request's sector."),
            entity=target.code), "body.entity")
    available = (await directory.officers(session, Role.sub_liaison_officer,
                                          entity_codes=[target.code])).get(target.code, [])
    chosen = body.officer_ids or available[:OFFICERS_TOLD]
    unknown = [str(o) for o in chosen if o not in available]
    if unknown:
        raise on_field(InvalidInput(Text("بعض الضباط المختارين ليسوا ضباط ارتباط لهذه الجهة.",
                                         "Some chosen officers are not this entity's "
                                         "sub-liaison officers."), officer_ids=unknown),
                       "body.officer_ids")
    if not chosen:
        raise on_field(InvalidInput(Text(f"لا يوجد ضابط ارتباط فرعي للجهة {target.code}.",
                                         f"The entity {target.code} has no sub-liaison "
                                         "officer."), entity=target.code), "body.entity")
    assert case.sector_code is not None
    case.distributed_to, case.officer_ids = target.code, [str(o) for o in chosen]
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="distributed",
                 details={"entity": target.code, "officer_ids": case.officer_ids},
                 events=[RequestDistributed(reference=case.reference, entity=target.code,
                                            sector=case.sector_code, officer_ids=list(chosen),
                                            actor_id=staff.person_id)])
    return case


async def transfer(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                   reference: str, expected: int | None, body: TransferBody) -> Case:
    """To another entity (an officer, at most 3 times), or the CMU's placement from triage."""
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.transfer, staff)
    target = await active_entity(session, body.to_entity, field="body.to_entity")
    if target.code == case.entity_code and case.status is not S.triage:
        raise on_field(InvalidInput(Text("الطلب لدى هذه الجهة أصلاً.",
                                         "The request is already there."), entity=target.code),
                       "body.to_entity")
    officers = (await directory.officers(session, Role.main_liaison_officer,
                                         sector_codes=[target.sector_code])
                ).get(target.sector_code, [])[:OFFICERS_TOLD]
    if not officers:
        raise on_field(InvalidInput(
            Text(f"لا يوجد ضابط ارتباط رئيسي للقطاع {target.sector_code}.",
                 f"The sector {target.sector_code} has no main liaison officer."),
            sector=target.sector_code), "body.to_entity")
    events: list[EventPayload] = []
    from_entity = case.entity_code
    if from_entity is not None:  # from triage with no entity, it is a first placement
        case.transfer_count += 1
        events.append(RequestTransferred(
            reference=case.reference, from_entity=from_entity, to_entity=target.code,
            to_sector=target.sector_code, reason=body.reason,
            transfer_count=case.transfer_count, actor_id=staff.person_id))
    events.append(RequestAssigned(reference=case.reference, entity=target.code,
                                  sector=target.sector_code, officer_ids=officers,
                                  assigned_by=staff.person_id))
    case.entity_code, case.sector_code = target.code, target.sector_code
    case.distributed_to, case.officer_ids = None, [str(o) for o in officers]
    case.classification = case.processing_working_days = None
    case.extensions, case.escalation_level, case.placed_at = 0, 0, at
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=staff_actor(staff),
                 action="transferred" if from_entity else "assigned", to_status=S.assigned,
                 details={"from_entity": from_entity, "to_entity": target.code,
                          "reason": body.reason, "transfer_count": case.transfer_count,
                          "officer_ids": case.officer_ids},
                 events=events)
    return case


async def ask_info(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                   reference: str, expected: int | None, body: AskInfoBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.ask_info, staff)
    case.resume_status = case.status
    await record(session, outbox, case, at=at, actor=staff_actor(staff),
                 action="info_requested", to_status=S.awaiting_information,
                 details={"question": body.question},
                 events=[RequestInfoRequested(reference=case.reference, question=body.question,
                                              actor_id=staff.person_id)])
    return case


async def extend(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                 reference: str, expected: int | None, body: ExtendBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.extend, staff)
    assert case.classification is not None, "an accepted request is classified"
    classification = await directory.classification(session, case.classification)
    most = classification.max_working_days if classification else 250
    if body.added_working_days > most:
        raise on_field(InvalidInput(Text(f"التمديد لا يتجاوز {most} يوم عمل لهذا التصنيف.",
                                         f"An extension adds at most {most} working days for "
                                         "this classification."), maximum=most),
                       "body.added_working_days")
    case.extensions += 1
    number = 1 if case.extensions == 1 else 2
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="extended",
                 details={"extension_number": number,
                          "added_working_days": body.added_working_days, "reason": body.reason},
                 events=[RequestExtended(reference=case.reference, extension_number=number,
                                         added_working_days=body.added_working_days,
                                         reason=body.reason, actor_id=staff.person_id)])
    return case


async def respond(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                  reference: str, expected: int | None, body: RespondBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.respond, staff)
    duplicates = await repository.merged_into(session, case.reference)
    case.outcome = ClosingCode(body.outcome.value)
    case.answer_round, case.rating = case.answer_round + 1, None  # a new answer, not yet rated
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="responded",
                 to_status=S.responded,
                 details={"actions_taken": body.actions_taken, "solution": body.solution,
                          "outcome": body.outcome.value, "also_answers": duplicates,
                          "round": case.answer_round},
                 events=[RequestResponded(reference=case.reference,
                                          actions_taken=body.actions_taken,
                                          solution=body.solution, actor_id=staff.person_id,
                                          also_answers=duplicates, round=case.answer_round)])
    return case


async def reject(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                 reference: str, expected: int | None, body: RejectBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.reject, staff)
    if body.legal_ground is LegalGround.malicious and not staff.may(Permission.reject_malicious):
        raise PermissionDenied(Permission.reject_malicious.value)
    case.legal_ground, case.closed_at = body.legal_ground, at
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="rejected",
                 to_status=S.rejected,
                 details={"legal_ground": body.legal_ground.value, "reason": body.reason},
                 events=[RequestRejected(reference=case.reference, legal_ground=body.legal_ground,
                                         reason=body.reason, actor_id=staff.person_id)])
    return case


async def close(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                reference: str, expected: int | None, body: CloseBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.close, staff)
    code = body.closing_code
    if code is ClosingCode.duplicate:
        raise on_field(InvalidInput(Text("ادمج الطلب المكرر في الطلب الأصلي (merge) ليُجابا "
                                         "معاً.", "Merge a duplicate into the original (merge), "
                                         "so both are answered together.")), "body.closing_code")
    only_from = CLOSE_ONLY_FROM.get(code)
    if only_from is not None and case.status not in only_from:
        raise TransitionNotAllowed(not_from(Action.close, case.status),
                                   status=case.status.value, action=Action.close.value,
                                   closing_code=code.value)
    await _close(session, outbox, case, at=at, actor=staff_actor(staff), code=code,
                 closed_by=_closed_by(staff), details={"note": body.note})
    return case


async def _close(session: AsyncSession, outbox: Outbox, case: Case, *, at: datetime,
                 actor: Actor, code: ClosingCode, closed_by: ClosedBy,
                 details: dict[str, Any], confirmed_after_review: bool = False,
                 merged_into: str | None = None) -> None:
    case.closing_code, case.closed_at, case.merged_into = code, at, merged_into
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=actor, action="closed",
                 to_status=S.closed,
                 details={"closing_code": code.value, "closed_by": closed_by.value,
                          "merged_into": merged_into, **details},
                 events=[RequestClosed(reference=case.reference, closing_code=code,
                                       closed_by=closed_by, actor_id=actor.id,
                                       confirmed_after_review=confirmed_after_review,
                                       merged_into=merged_into)])


async def merge(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                reference: str, expected: int | None, body: MergeBody) -> Case:
    """Close the duplicates into this request; its response will answer them all."""
    primary = await load(session, staff, reference, expected=expected)
    _allow(primary, Action.merge, staff)
    wanted = list(dict.fromkeys(body.duplicates))
    if primary.reference in wanted:
        raise on_field(InvalidInput(Text("لا يُدمج الطلب في نفسه.",
                                         "A request is not merged into itself.")),
                       "body.duplicates")
    found = await repository.cases(session, wanted)
    duplicates = []
    for ref in wanted:
        duplicate = found.get(ref)
        if duplicate is None or not sees(staff.principal, duplicate):
            raise on_field(CaseNotFound(ref), "body.duplicates")
        can_merge = WORKING | ({S.triage} if staff.may(Permission.triage) else frozenset())
        if duplicate.status not in can_merge:
            raise on_field(TransitionNotAllowed(not_from(Action.merge, duplicate.status),
                                                status=duplicate.status.value,
                                                action=Action.merge.value, reference=ref),
                           "body.duplicates")
        duplicates.append(duplicate)
    actor = staff_actor(staff)
    for duplicate in duplicates:
        await _close(session, outbox, duplicate, at=at, actor=actor,
                     code=ClosingCode.duplicate, closed_by=_closed_by(staff),
                     details={}, merged_into=primary.reference)
    await record(session, outbox, primary, at=at, actor=actor, action="merged",
                 details={"duplicates": wanted})
    return primary


async def comment(session: AsyncSession, *, outbox: Outbox, at: datetime, staff: Staff,
                  reference: str, expected: int | None, body: CommentBody) -> Case:
    """A comment for the record: one timeline entry, no other change, nothing announced (the
    requester is not told)."""
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.comment, staff)
    await record(session, outbox, case, at=at, actor=staff_actor(staff), action="comment",
                 details={"text": body.text})
    return case


async def review_decision(session: AsyncSession, *, outbox: Outbox, at: datetime,
                          staff: Staff, reference: str, expected: int | None,
                          body: ReviewDecisionBody) -> Case:
    case = await load(session, staff, reference, expected=expected)
    _allow(case, Action.review_decision, staff)
    actor = staff_actor(staff)
    if body.decision is ReviewDecision.confirm:
        await _close(session, outbox, case, at=at, actor=actor,
                     code=body.closing_code or case.outcome or ClosingCode.resolved,
                     closed_by=ClosedBy.cmu, details={"review": body.reason},
                     confirmed_after_review=True)
        return case
    assert case.entity_code is not None, "a reviewed request has an entity"
    assert case.sector_code is not None, "a reviewed request has a sector"
    case.escalation_level, case.outcome = 0, None
    _clear_deadline(case)
    await record(session, outbox, case, at=at, actor=actor, action="reopened",
                 to_status=S.in_progress, details={"review": body.reason},
                 events=[RequestReopened(reference=case.reference, entity=case.entity_code,
                                         sector=case.sector_code, decision=body.reason,
                                         actor_id=staff.person_id)])
    return case


# --- the platform's reactions (event handlers call these) ---------------------------------------


async def _held(session: AsyncSession, reference: str) -> Case:
    case = await repository.case(session, reference, lock=True)
    if case is None:
        # Retried, then dead-lettered with this reason: an event about a request we never had.
        raise LookupError(f"routing holds no request {reference}")
    return case


async def rated(session: AsyncSession, event: Received[RequestRated]) -> None:
    rating, outbox, at = event.payload, event.outbox, event.at
    case = await _held(session, rating.reference)
    if case.status is not S.responded:
        log.warning("rating of a request that awaits none ignored",
                    extra={"reference": case.reference, "status": case.status.value})
        return
    if rating.round is not None and rating.round != case.answer_round:
        # Intake refuses these; one that got through must not judge the newer answer.
        log.warning("rating of an earlier answer ignored",
                    extra={"reference": case.reference, "round": rating.round,
                           "answer_round": case.answer_round})
        return
    case.rating = rating.score
    details = {"score": rating.score, "comment": rating.comment, "round": case.answer_round}
    if rating.score >= 2:
        await _close(session, outbox, case, at=at, actor=requester(case),
                     code=case.outcome or ClosingCode.resolved, closed_by=ClosedBy.requester,
                     details=details)
        return
    assert case.entity_code is not None, "a responded request has an entity"
    assert case.sector_code is not None, "a responded request has a sector"
    await record(session, outbox, case, at=at, actor=requester(case), action="review_opened",
                 to_status=S.under_review, details=details,
                 events=[RequestReviewOpened(reference=case.reference, entity=case.entity_code,
                                             sector=case.sector_code)])


async def rating_window_expired(session: AsyncSession,
                                event: Received[SlaRatingWindowExpired]) -> None:
    case = await _held(session, event.payload.reference)
    if case.status is S.responded:
        await _close(session, event.outbox, case, at=event.at, actor=audit.SLA,
                     code=case.outcome or ClosingCode.resolved, closed_by=ClosedBy.system,
                     details={"rule": "no rating within one working day"})


async def info_provided(session: AsyncSession, event: Received[RequestInfoProvided]) -> None:
    answer, outbox, at = event.payload, event.outbox, event.at
    case = await _held(session, answer.reference)
    if case.status is not S.awaiting_information:
        log.warning("information for a request that awaits none ignored",
                    extra={"reference": case.reference, "status": case.status.value})
        return
    resume, case.resume_status = case.resume_status or S.in_progress, None
    await record(session, outbox, case, at=at, actor=requester(case), action="info_provided",
                 to_status=resume,
                 details={"answer": answer.answer,
                          "attachment_ids": [str(a) for a in answer.attachment_ids]})


async def chased(session: AsyncSession, event: Received[RequestChased]) -> None:
    """The requester chased a late answer: on the timeline, for the officer to see why."""
    chase, outbox, at = event.payload, event.outbox, event.at
    case = await _held(session, chase.reference)
    if case.status in (S.closed, S.rejected):
        return
    await record(session, outbox, case, at=at, actor=requester(case), action="chased",
                 details={"stage": chase.stage.value, "due_at": chase.due_at.isoformat(),
                          "note": chase.note, "chase": chase.chase})


async def escalated(session: AsyncSession, event: Received[SlaEscalated]) -> None:
    escalation, outbox, at = event.payload, event.outbox, event.at
    case = await _held(session, escalation.reference)
    if case.status in (S.closed, S.rejected):
        return
    if escalation.entity == case.entity_code:
        case.escalation_level = max(case.escalation_level, escalation.level)
    await record(session, outbox, case, at=at, actor=audit.SLA, action="escalated",
                 details={"level": escalation.level, "entity": escalation.entity,
                          "stage": escalation.stage.value,
                          "overdue_since": escalation.overdue_since.isoformat(),
                          "recipient_ids": [str(r) for r in escalation.recipient_ids]})


async def breached(session: AsyncSession, event: Received[SlaBreached]) -> None:
    breach, outbox, at = event.payload, event.outbox, event.at
    case = await _held(session, breach.reference)
    if case.status in (S.closed, S.rejected):
        return
    if breach.clock is ClockKind.entity and breach.entity == case.entity_code:
        case.overdue_since = case.overdue_since or breach.due_at
    await record(session, outbox, case, at=at, actor=audit.SLA, action="deadline_passed",
                 details={"clock": breach.clock.value, "entity": breach.entity,
                          "stage": breach.stage.value, "due_at": breach.due_at.isoformat()})


async def deadline_set(session: AsyncSession, event: Received[SlaDeadlineSet]) -> None:
    """Keep the entity's deadline for sorting and the overdue filter (not a timeline step:
    the requester's deadlines are intake's to show; nothing is announced)."""
    deadline = event.payload
    if (deadline.clock is ClockKind.entity and deadline.entity is not None
            and deadline.stage is not SlaStage.rating_window):
        await repository.set_deadline(session, reference=deadline.reference,
                                      entity=deadline.entity, due_at=deadline.due_at,
                                      stage=deadline.stage.value, set_at=event.at)
