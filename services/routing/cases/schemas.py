"""API models of case handling: the actions' bodies, the case as staff see it, inbox pages and
counters, similar requests, the timeline and its verification."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.routing.cases.audit import Verification
from services.routing.cases.policy import Action
from services.routing.models import AuditEntry, Case
from shared.errors import Problem, Text, field_error
from shared.events.vocabulary import (
    Channel,
    ClassificationCode,
    ClosingCode,
    EntityCode,
    LegalGround,
    LongText,
    Reason,
    ReferenceNumber,
    RequestKind,
    RequestStatus,
)

WorkingDays = Annotated[int, Field(ge=1, le=250)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptBody(_Body):
    classification: ClassificationCode
    processing_working_days: WorkingDays | None = Field(
        default=None,
        description="Complaints: required, at most the classification's maximum. Inquiries (2) "
        "and suggestions (7) are fixed; leave it out or send exactly that.",
    )


class RefuseJurisdictionBody(_Body):
    reason: Reason
    suggested_entity: EntityCode | None = None


class DistributeBody(_Body):
    entity: EntityCode = Field(description="An entity or department of the request's sector.")
    officer_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=20,
        description="Some of its sub-liaison officers; all of them when left out.",
    )


class TransferBody(_Body):
    to_entity: EntityCode
    reason: Reason


class AskInfoBody(_Body):
    question: Reason


class ExtendBody(_Body):
    added_working_days: WorkingDays
    reason: Reason = Field(description="Shown to the requester.")


class Outcome(StrEnum):
    """What the response amounts to; the closing code once the requester closes it."""

    resolved = "resolved"
    partly_resolved = "partly_resolved"
    rejected = "rejected"


class RespondBody(_Body):
    actions_taken: LongText
    solution: LongText
    outcome: Outcome = Outcome.resolved


class RejectBody(_Body):
    legal_ground: LegalGround
    reason: Reason = Field(description="Shown to the requester.")


class CloseBody(_Body):
    closing_code: ClosingCode
    note: Reason | None = None


class MergeBody(_Body):
    duplicates: list[ReferenceNumber] = Field(min_length=1, max_length=20)


class CommentBody(_Body):
    text: Reason = Field(description="For the record: on the timeline, never sent to the "
                         "requester, and it changes nothing else.")


class ReviewDecision(StrEnum):
    reopen = "reopen"
    confirm = "confirm"


class ReviewDecisionBody(_Body):
    decision: ReviewDecision
    reason: Reason = Field(description="The CMU's reasoning, shown to the requester.")
    closing_code: ClosingCode | None = Field(
        default=None, description="Confirm only: the code it closes with (the response's "
        "outcome when left out).")

    @model_validator(mode="after")
    def _code_only_when_confirming(self) -> Self:
        if self.decision is ReviewDecision.reopen and self.closing_code is not None:
            raise field_error("closing_code_on_reopen", Text(
                "الطلب المعاد فتحه لا يُعطى رمز إغلاق", "A reopened request gets no closing code"))
        return self


# --- reading ------------------------------------------------------------------------------------


class CaseSummary(BaseModel):
    """One line of an inbox."""

    reference: str
    kind: RequestKind
    status: RequestStatus
    channel: Channel
    subject: str
    entity: str | None
    sector: str | None
    distributed_to: str | None
    submitted_at: datetime
    due_at: datetime | None = Field(description="The entity's current deadline (SLA).")
    overdue_since: datetime | None
    escalation_level: int
    version: int = Field(description="Send it back as If-Match to act on this version.")

    @classmethod
    def of(cls, case: Any) -> CaseSummary:
        """From a mapped case, or from an inbox row (`repository.SUMMARY`: the same names)."""
        return cls(
            reference=case.reference, kind=case.kind, status=case.status, channel=case.channel,
            subject=case.subject, entity=case.entity_code, sector=case.sector_code,
            distributed_to=case.distributed_to, submitted_at=case.submitted_at,
            due_at=case.due_at, overdue_since=case.overdue_since,
            escalation_level=case.escalation_level, version=case.audit_seq,
        )


class CaseDetail(CaseSummary):
    """A request as the staff handling it see it (the requester's contact points are not here:
    intake and notify keep them)."""

    description: str
    attachment_ids: list[str]
    governorate: str | None
    requested_entity: str | None
    requester_id: uuid.UUID
    submitted_by: uuid.UUID | None
    officer_ids: list[str]
    classification: str | None
    processing_working_days: int | None
    extensions: int
    transfer_count: int
    outcome: ClosingCode | None
    closing_code: ClosingCode | None
    legal_ground: LegalGround | None
    merged_into: str | None
    answer_round: int = Field(description="How many answers it has had (0: none yet).")
    rating: int | None = Field(description="The rating of the latest answer, once rated.")
    closed_at: datetime | None
    actions: list[Action] = Field(description=(
        "What you may do to it now (path segments of `POST /requests/{reference}/…`), as the "
        "actions themselves judge your permissions and its status."))

    @classmethod
    def full(cls, case: Case, actions: list[Action]) -> CaseDetail:
        return cls(
            **CaseSummary.of(case).model_dump(),
            description=case.description, attachment_ids=case.attachment_ids,
            governorate=case.governorate, requested_entity=case.requested_entity,
            requester_id=case.requester_id, submitted_by=case.submitted_by,
            officer_ids=case.officer_ids, classification=case.classification,
            processing_working_days=case.processing_working_days, extensions=case.extensions,
            transfer_count=case.transfer_count, outcome=case.outcome,
            closing_code=case.closing_code, legal_ground=case.legal_ground,
            merged_into=case.merged_into, answer_round=case.answer_round, rating=case.rating,
            closed_at=case.closed_at, actions=actions,
        )


class InboxPage(BaseModel):
    """A page of cases (an inbox, a queue, the search)."""

    items: list[CaseSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class InboxCounters(BaseModel):
    """The open requests in my scope, counted where they stand (as `/inbox` filters them)."""

    new: int = Field(description="Assigned, not accepted yet (`status=assigned`).")
    due_today: int = Field(description="Not overdue, due by the end of today in Amman "
                           "(`due=today`).")
    overdue: int = Field(description="Past their deadline (`due=overdue`).")
    escalated: int = Field(description="Escalated to the entity head or the minister "
                           "(`escalated=true`).")
    awaiting_requester: int = Field(description="Waiting for the requester's information "
                                    "(`status=awaiting_information`).")
    open: int = Field(description="Every open request in my scope.")


class SimilarCase(CaseSummary):
    similarity: float = Field(description="The share of subject words in common, 0 to 1.")


class SimilarCases(BaseModel):
    """Open requests of the same entity that may be duplicates of this one, likeliest first."""

    reference: str
    items: list[SimilarCase]


class SubOfficer(BaseModel):
    id: uuid.UUID
    full_name: str


class DistributionTarget(BaseModel):
    entity: str = Field(description="An entity or department of the request's sector.")
    officers: list[SubOfficer] = Field(description="Its active sub-liaison officers, by name.")


class DistributionTargets(BaseModel):
    """Where I may distribute this request: the entities of its sector I act for, with their
    sub-liaison officers (send some of their ids as `officer_ids`, or none for all)."""

    reference: str
    items: list[DistributionTarget]


class Cursor(BaseModel):
    """Where a page ended, in its order's instant (deadline, or submission) and reference;
    opaque to clients."""

    at: datetime | None
    reference: str

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat() if self.at else None, self.reference])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            at, reference = json.loads(raw)
            return cls(at=datetime.fromisoformat(at) if at else None, reference=reference)
        except (ValueError, TypeError, binascii.Error):
            raise BadCursor() from None


class BadCursor(Problem):
    status = 400
    code = "bad-cursor"
    title = Text("مؤشر الصفحة غير صالح", "The page cursor is not valid")


class TimelineEntry(BaseModel):
    seq: int
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    channel: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> TimelineEntry:
        return cls(seq=entry.seq, occurred_at=entry.occurred_at, actor_id=entry.actor_id,
                   actor_role=entry.actor_role, channel=entry.channel, action=entry.action,
                   from_status=entry.from_status, to_status=entry.to_status,
                   details=json.loads(entry.details), hash=entry.hash)


class ChainVerification(BaseModel):
    reference: str
    intact: bool
    entries: int
    broken_at: int | None = Field(description="The first sequence number that does not hold.")
    reason: str | None
    verdict: Literal["intact", "tampered"]

    @classmethod
    def of(cls, reference: str, verification: Verification) -> ChainVerification:
        return cls(reference=reference, intact=verification.intact,
                   entries=verification.entries, broken_at=verification.broken_at,
                   reason=verification.reason,
                   verdict="intact" if verification.intact else "tampered")


class Timeline(BaseModel):
    reference: str
    entries: list[TimelineEntry]
    verification: ChainVerification = Field(
        description="The chain recomputed now (as `/timeline/verification` says it).")
