"""The catalog: every event type on the bus and the payload model of each (type, version).

Importing this module registers every model in `REGISTRY` (declaring a class is registering it).
`PRODUCERS` names the one service allowed to publish each type; the AsyncAPI document
(`shared.events.asyncapi`) is built from both, so this file is the single truth.

Personal data travels only where a consumer needs it: contact points (phone, email, language,
notice channel) appear only in `citizen.*` and `directory.person_changed`, which feed notify's
contact book; request events carry identifiers and never repeat them. The one name on a request
event is `request.submitted`'s `requester_name`, which routing's staff search needs; its
`tracking_code` (which opens the request without an account) is there for notify's
acknowledgement alone.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.calendar import CalendarPolicy, DayOverride, RamadanPeriod, WorkingCalendar
from shared.errors import Text, field_error
from shared.events.envelope import EventPayload
from shared.events.vocabulary import (
    Channel,
    ClassificationCode,
    ClockKind,
    ClosedBy,
    ClosingCode,
    CodePurpose,
    DirectoryChange,
    EmailAddress,
    EntityCode,
    EscalationLevel,
    GovernorateCode,
    Language,
    LegalGround,
    LongText,
    NoticeChannel,
    PhoneNumber,
    Reason,
    ReferenceNumber,
    RequestKind,
    Role,
    SectorCode,
    ShortText,
    SlaStage,
)


class EventType(StrEnum):
    """Every event type; the value is also the RabbitMQ routing key."""

    citizen_registered = "citizen.registered"
    citizen_contact_changed = "citizen.contact_changed"
    citizen_code_requested = "citizen.code_requested"

    request_submitted = "request.submitted"
    request_triaged = "request.triaged"
    request_assigned = "request.assigned"
    request_distributed = "request.distributed"
    request_accepted = "request.accepted"
    request_jurisdiction_refused = "request.jurisdiction_refused"
    request_transferred = "request.transferred"
    request_info_requested = "request.info_requested"
    request_info_provided = "request.info_provided"
    request_extended = "request.extended"
    request_responded = "request.responded"
    request_rated = "request.rated"
    request_chased = "request.chased"
    request_review_opened = "request.review_opened"
    request_reopened = "request.reopened"
    request_closed = "request.closed"
    request_rejected = "request.rejected"

    sla_deadline_set = "sla.deadline_set"
    sla_deadline_ended = "sla.deadline_ended"
    sla_escalated = "sla.escalated"
    sla_breached = "sla.breached"
    sla_rating_window_expired = "sla.rating_window_expired"
    sla_rules_changed = "sla.rules_changed"

    notification_sent = "notification.sent"
    notification_failed = "notification.failed"

    report_sealed = "report.sealed"
    report_forwarded = "report.forwarded"
    report_acknowledged = "report.acknowledged"
    report_cannot_be_opened = "report.cannot_be_opened"

    analytics_report_published = "analytics.report_published"

    directory_sector_changed = "directory.sector_changed"
    directory_entity_changed = "directory.entity_changed"
    directory_person_changed = "directory.person_changed"
    directory_role_changed = "directory.role_changed"


PRODUCERS: dict[EventType, str] = {
    EventType.citizen_registered: "intake",
    EventType.citizen_contact_changed: "intake",
    EventType.citizen_code_requested: "intake",
    EventType.request_submitted: "intake",
    EventType.request_triaged: "routing",
    EventType.request_assigned: "routing",
    EventType.request_distributed: "routing",
    EventType.request_accepted: "routing",
    EventType.request_jurisdiction_refused: "routing",
    EventType.request_transferred: "routing",
    EventType.request_info_requested: "routing",
    EventType.request_info_provided: "intake",
    EventType.request_extended: "routing",
    EventType.request_responded: "routing",
    EventType.request_rated: "intake",
    EventType.request_chased: "intake",
    EventType.request_review_opened: "routing",
    EventType.request_reopened: "routing",
    EventType.request_closed: "routing",
    EventType.request_rejected: "routing",
    EventType.sla_deadline_set: "sla",
    EventType.sla_deadline_ended: "sla",
    EventType.sla_escalated: "sla",
    EventType.sla_breached: "sla",
    EventType.sla_rating_window_expired: "sla",
    EventType.sla_rules_changed: "sla",
    EventType.notification_sent: "notify",
    EventType.notification_failed: "notify",
    EventType.report_sealed: "intake",
    EventType.report_forwarded: "integrity",
    EventType.report_acknowledged: "integrity",
    EventType.report_cannot_be_opened: "integrity",
    EventType.analytics_report_published: "analytics",
    EventType.directory_sector_changed: "routing",
    EventType.directory_entity_changed: "routing",
    EventType.directory_person_changed: "routing",
    EventType.directory_role_changed: "routing",
}
"""The service that publishes each type (the design's producer column)."""

AttachmentIds = Annotated[list[UUID], Field(max_length=20)]

# Sized for a report with a few attachments; larger evidence would need an object store.
MAX_SEALED_ENVELOPE_CHARS = 16 * 1024 * 1024
MAX_SEALED_IDENTITY_CHARS = 64 * 1024
_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


# --- citizens (intake) -------------------------------------------------------------------------


class CitizenRegistered(EventPayload, type=EventType.citizen_registered, version=1):
    """Emitted when a citizen's identity and phone are verified and the account exists."""

    citizen_id: UUID
    phone: PhoneNumber = Field(repr=False)
    email: EmailAddress | None = Field(default=None, repr=False)
    language: Language
    notice_channel: NoticeChannel


class CitizenContactChanged(EventPayload, type=EventType.citizen_contact_changed, version=1):
    """Emitted when a citizen's contact points or preferences change; carries the whole new set."""

    citizen_id: UUID
    phone: PhoneNumber = Field(repr=False)
    email: EmailAddress | None = Field(default=None, repr=False)
    language: Language
    notice_channel: NoticeChannel


class CitizenCodeRequested(EventPayload, type=EventType.citizen_code_requested, version=1):
    """Emitted when a one-time code must be sent by SMS; the code is never logged or stored."""

    challenge_id: UUID = Field(description="The registration or change this code confirms.")
    phone: PhoneNumber = Field(repr=False)
    code: str = Field(
        pattern=r"^[0-9]{4,8}$",
        repr=False,
        json_schema_extra={"x-sensitive": True},
        description="Transient secret: deliver it, never log or store it.",
    )
    purpose: CodePurpose
    language: Language
    expires_at: AwareDatetime


# --- request lifecycle -------------------------------------------------------------------------


SubmittableKind = Literal[
    RequestKind.complaint, RequestKind.suggestion, RequestKind.inquiry, RequestKind.praise
]
"""Every kind but `report`: reports never travel in the clear, they go as `report.sealed`."""


class RequestSubmitted(EventPayload, type=EventType.request_submitted, version=1):
    """Emitted when intake accepts a request and gives it a reference number."""

    reference: ReferenceNumber
    kind: SubmittableKind
    entity: EntityCode | None = Field(description="None when no entity is clear: CMU triage.")
    sector: SectorCode | None
    governorate: GovernorateCode | None
    channel: Channel
    subject: ShortText
    description: LongText
    attachment_ids: AttachmentIds = Field(default_factory=list)
    requester_id: UUID
    submitted_by: UUID | None = Field(
        default=None, description="The agent or clerk who keyed it in for the requester."
    )
    submitted_at: AwareDatetime
    # How the requester wants to hear about this request; None: their account's preference.
    notice_channel: NoticeChannel | None = None
    language: Language | None = None
    # Where the matter is (a town or city as the requester names it), for reports by place.
    city: ShortText | None = None
    requester_name: ShortText | None = Field(
        default=None, description="The requester's name, for the staff's search only: routing "
        "keeps it in its search index and never shows it; analytics drops it.")
    tracking_code: ShortText | None = Field(
        default=None, description="With the reference, opens the request to its requester "
        "without an account: notify puts it in the acknowledgement; nobody else keeps it.")


class TriageReason(StrEnum):
    no_entity = "no_entity"                        # the requester could not name one
    jurisdiction_refused = "jurisdiction_refused"  # an officer said it is not theirs
    transfer_limit = "transfer_limit"              # three transfers: only the CMU decides now
    no_liaison_officer = "no_liaison_officer"      # the entity's sector has no active main officer


class RequestTriaged(EventPayload, type=EventType.request_triaged, version=1):
    """Emitted when a request goes to the CMU's triage queue to find the right entity."""

    reference: ReferenceNumber
    reason: TriageReason


class RequestAssigned(EventPayload, type=EventType.request_assigned, version=1):
    """Emitted when a request reaches a main liaison officer (at first, or after CMU triage)."""

    reference: ReferenceNumber
    entity: EntityCode
    sector: SectorCode
    officer_ids: list[UUID] = Field(min_length=1, max_length=20)
    assigned_by: UUID | None = Field(default=None, description="CMU staff; None when automatic.")


class RequestDistributed(EventPayload, type=EventType.request_distributed, version=1):
    """Emitted when a main liaison officer hands a request to sub-liaison officers."""

    reference: ReferenceNumber
    entity: EntityCode
    sector: SectorCode
    officer_ids: list[UUID] = Field(min_length=1, max_length=20)
    actor_id: UUID


class RequestAccepted(EventPayload, type=EventType.request_accepted, version=1):
    """Emitted when an officer accepts jurisdiction, classifies and sets the processing time."""

    reference: ReferenceNumber
    classification: ClassificationCode
    processing_working_days: int = Field(ge=1, le=250)
    actor_id: UUID


class RequestJurisdictionRefused(
    EventPayload, type=EventType.request_jurisdiction_refused, version=1
):
    """Emitted when an officer says the request is not the entity's; it goes to CMU triage."""

    reference: ReferenceNumber
    from_entity: EntityCode
    suggested_entity: EntityCode | None = None
    reason: Reason
    transfer_count: int = Field(ge=0)
    actor_id: UUID


class RequestTransferred(EventPayload, type=EventType.request_transferred, version=1):
    """Emitted when a request moves to another entity; the new entity's clock starts."""

    reference: ReferenceNumber
    from_entity: EntityCode | None
    to_entity: EntityCode
    to_sector: SectorCode
    reason: Reason
    # Not capped at 3: after the third transfer the CMU decides, and its decision is a transfer too.
    transfer_count: int = Field(ge=1)
    actor_id: UUID


class RequestInfoRequested(EventPayload, type=EventType.request_info_requested, version=1):
    """Emitted when an officer asks the requester for information; both clocks pause."""

    reference: ReferenceNumber
    question: Reason
    actor_id: UUID


class RequestInfoProvided(EventPayload, type=EventType.request_info_provided, version=1):
    """Emitted when the requester answers an information request; both clocks resume."""

    reference: ReferenceNumber
    answer: LongText
    attachment_ids: AttachmentIds = Field(default_factory=list)


class RequestExtended(EventPayload, type=EventType.request_extended, version=1):
    """Emitted when an officer extends the deadline (at most twice, with a reason shown)."""

    reference: ReferenceNumber
    extension_number: Literal[1, 2]
    added_working_days: int = Field(ge=1, le=250)
    reason: Reason
    actor_id: UUID


AnswerRound = Annotated[int, Field(ge=1, le=1000)]
"""Which answer of a request: 1 for the first, one more each time the CMU reopens it and the
entity answers again. Each answer is rated on its own."""


class RequestResponded(EventPayload, type=EventType.request_responded, version=1):
    """Emitted when an officer answers the request; the rating window opens."""

    reference: ReferenceNumber
    actions_taken: LongText
    solution: LongText
    actor_id: UUID
    also_answers: list[ReferenceNumber] = Field(
        default_factory=list,
        max_length=100,
        description="Duplicates merged into this request: their requesters get this answer too.",
    )
    round: AnswerRound | None = Field(
        default=None, description="Which answer this is; None only from older producers."
    )


class RequestRated(EventPayload, type=EventType.request_rated, version=1):
    """Emitted when the requester rates an answer (1 sends it to CMU review).

    Once per answer round: after a reopening the new answer is rated again, so a consumer
    that wants one rating per request takes the latest round's."""

    reference: ReferenceNumber
    score: int = Field(ge=1, le=5)
    comment: Reason | None = None
    round: AnswerRound | None = Field(
        default=None,
        description="The answer rated (`request.responded`'s round); None only from older "
        "producers, meaning the latest answer.",
    )


class RequestChased(EventPayload, type=EventType.request_chased, version=1):
    """Emitted when the requester chases a request whose promised deadline has passed (at most
    once per working day): its holding officers and its entity's head are told."""

    reference: ReferenceNumber
    entity: EntityCode | None = Field(description="The entity holding it when chased.")
    sector: SectorCode | None
    stage: SlaStage = Field(description="The overdue deadline the requester was promised.")
    due_at: AwareDatetime = Field(description="When it was due.")
    note: Reason | None = Field(default=None, description="The requester's own words, if any.")
    chase: int = Field(ge=1, description="How many times the request was chased, this one "
                       "included: 1 the first time.")


class RequestReviewOpened(EventPayload, type=EventType.request_review_opened, version=1):
    """Emitted when a dissatisfied rating moves the request to CMU review."""

    reference: ReferenceNumber
    entity: EntityCode
    sector: SectorCode


class RequestReopened(EventPayload, type=EventType.request_reopened, version=1):
    """Emitted when the CMU decides a reviewed request goes back to the entity."""

    reference: ReferenceNumber
    entity: EntityCode
    sector: SectorCode
    decision: Reason = Field(description="The CMU's reasoning, shown to the requester.")
    actor_id: UUID


class RequestClosed(EventPayload, type=EventType.request_closed, version=1):
    """Emitted when a request is closed, by a person or by the platform's rules."""

    reference: ReferenceNumber
    closing_code: ClosingCode
    closed_by: ClosedBy
    actor_id: UUID | None = Field(default=None, description="None when closed_by is system.")
    confirmed_after_review: bool = False
    merged_into: ReferenceNumber | None = Field(
        default=None,
        description="Closed as a duplicate: the request that carries it and will answer it.",
    )


class RequestRejected(EventPayload, type=EventType.request_rejected, version=1):
    """Emitted when a request is found inadmissible; the reason is shown to the requester."""

    reference: ReferenceNumber
    legal_ground: LegalGround
    reason: Reason
    actor_id: UUID


# --- deadlines (sla) ---------------------------------------------------------------------------


class SlaDeadlineSet(EventPayload, type=EventType.sla_deadline_set, version=1):
    """Emitted when a deadline is set or recomputed (pause, extension, holiday change)."""

    reference: ReferenceNumber
    clock: ClockKind
    entity: EntityCode | None = Field(
        description="The entity whose clock it is; None for requester."
    )
    stage: SlaStage
    due_at: AwareDatetime


class SlaDeadlineEnded(EventPayload, type=EventType.sla_deadline_ended, version=1):
    """Emitted when a deadline announced by `sla.deadline_set` stops running: its stage was
    answered (in time or late), its entity stopped holding the request, or the request closed.

    The same clock and stage may start again later (a new entity, a reopening, a new answer's
    rating window): that comes as a new `sla.deadline_set`, later than this end."""

    reference: ReferenceNumber
    clock: ClockKind
    entity: EntityCode | None = Field(
        description="The entity whose clock it is; None for requester."
    )
    stage: SlaStage
    due_at: AwareDatetime | None = Field(
        description="When it was due; None when it ended while paused (the requester asked)."
    )
    ended_at: AwareDatetime


class SlaEscalated(EventPayload, type=EventType.sla_escalated, version=1):
    """Emitted when a deadline passes unanswered: level 1 to the entity head, 2 to the minister."""

    reference: ReferenceNumber
    level: EscalationLevel
    entity: EntityCode
    sector: SectorCode
    stage: SlaStage
    overdue_since: AwareDatetime
    recipient_ids: list[UUID] = Field(
        default_factory=list,
        max_length=50,
        description="The entity head (level 1) or the minister (level 2) from the directory, "
        "and the CMU's staff when the policy says they hear of escalations.",
    )


class SlaBreached(EventPayload, type=EventType.sla_breached, version=1):
    """Emitted when a deadline passes; counted against the clock's owner."""

    reference: ReferenceNumber
    clock: ClockKind
    entity: EntityCode | None
    stage: SlaStage
    due_at: AwareDatetime


class SlaRatingWindowExpired(EventPayload, type=EventType.sla_rating_window_expired, version=1):
    """Emitted when a working day passes after the response without a rating; routing closes."""

    reference: ReferenceNumber
    due_at: AwareDatetime


WorkingDays = Annotated[int, Field(ge=1, le=250)]
"""A duration of the policy, in whole working days (see `shared.calendar`)."""


class SlaPolicy(BaseModel):
    """The time rules the CMU edits (as versions): the working calendar and every duration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calendar: CalendarPolicy = CalendarPolicy()
    first_response_working_days: WorkingDays = 1
    entity_head_after_working_days: WorkingDays = Field(
        default=1, description="Level 1: the entity head hears when nobody has responded."
    )
    minister_after_working_days: WorkingDays = Field(
        default=2, description="Level 2: the sector's minister hears when nobody has responded."
    )
    inquiry_working_days: WorkingDays = 2
    suggestion_working_days: WorkingDays = 7
    rating_window_working_days: WorkingDays = 1
    review_working_days: WorkingDays = Field(
        default=2, description="The CMU's review of a rating of 1."
    )
    cmu_hears_of_escalations: bool = True

    @model_validator(mode="after")
    def _escalation_climbs(self) -> SlaPolicy:
        if self.entity_head_after_working_days < self.first_response_working_days:
            raise field_error("escalation_too_early", Text(
                "لا يُبلَّغ رئيس الجهة قبل موعد الرد الأول.",
                "The entity head hears no earlier than the first response is due."))
        if self.minister_after_working_days <= self.entity_head_after_working_days:
            raise field_error("escalation_order", Text(
                "يُبلَّغ الوزير بعد رئيس الجهة.", "The minister hears after the entity head."))
        return self


class SlaRulesChanged(EventPayload, type=EventType.sla_rules_changed, version=1):
    """Emitted when the SLA policy or the CMU's calendar overrides change; carries them whole.

    A consumer keeps the event with the highest `revision` and builds the calendar from it with
    `calendar()`; until the first one arrives, `SlaPolicy()` and no overrides are the rules.
    """

    revision: int = Field(ge=1, description="Grows with every change; the highest wins.")
    policy_version: int = Field(ge=1)
    policy: SlaPolicy
    holiday_overrides: list[DayOverride] = Field(default_factory=list, max_length=5000)
    ramadan_periods: list[RamadanPeriod] = Field(default_factory=list, max_length=200)

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(
            self.policy.calendar, self.holiday_overrides, self.ramadan_periods
        )


# --- notifications (notify) --------------------------------------------------------------------

# Machine-readable only: a free-text reason could echo the address it failed to reach.
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{0,99}$")]


class NotificationSent(EventPayload, type=EventType.notification_sent, version=1):
    """Emitted when a notice was handed to (or confirmed by) the SMS or email gateway."""

    notification_id: UUID
    source_event_id: UUID
    channel: NoticeChannel
    template: TemplateName
    status: Literal["accepted", "delivered"]
    attempts: int = Field(ge=1)


class NotificationFailed(EventPayload, type=EventType.notification_failed, version=1):
    """Emitted when a notice could not be delivered and notify has stopped trying."""

    notification_id: UUID
    source_event_id: UUID
    channel: NoticeChannel
    template: TemplateName
    status: Literal["rejected", "undeliverable", "expired"]
    reason_code: ReasonCode
    attempts: int = Field(ge=1)


# --- corruption reports (intake, integrity) ----------------------------------------------------


class ReportSealed(EventPayload, type=EventType.report_sealed, version=1):
    """Emitted when intake has sealed a report to the commission's key; only ciphertext travels."""

    envelope_id: UUID
    key_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    envelope: str = Field(
        min_length=4,
        max_length=MAX_SEALED_ENVELOPE_CHARS,
        pattern=_BASE64,
        description="The sealed envelope's bytes, standard base64 (format: shared/sealing.py).",
    )
    # A day, not an instant: a precise time helps identify the reporter.
    created_day: date
    identity_envelope: str | None = Field(
        default=None,
        min_length=4,
        max_length=MAX_SEALED_IDENTITY_CHARS,
        pattern=_BASE64,
        description="The reporter's identity, sealed apart (same envelope id); None: anonymous.",
    )
    receipt_digest: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the reporter's receipt (shared.sealing.receipt_digest), so "
        "integrity can answer the receipt's status; the receipt itself never travels.",
    )


class ReportForwarded(EventPayload, type=EventType.report_forwarded, version=1):
    """Emitted when integrity has filed a sealed report in the commission's inbox."""

    envelope_id: UUID


class ReportAcknowledged(EventPayload, type=EventType.report_acknowledged, version=1):
    """Emitted when the commission acknowledges a report."""

    envelope_id: UUID


class ReportCannotBeOpened(EventPayload, type=EventType.report_cannot_be_opened, version=1):
    """Emitted when the commission declares that a filed report cannot be opened (damaged or
    badly sealed); the reporter's receipt then asks for a new report."""

    envelope_id: UUID


# --- periodic reports (analytics) -------------------------------------------------------------


class ReportCadence(StrEnum):
    weekly = "weekly"    # Sunday to Saturday, Asia/Amman
    monthly = "monthly"  # a calendar month, Asia/Amman


class AnalyticsReportPublished(
    EventPayload, type=EventType.analytics_report_published, version=1
):
    """Emitted when a scheduled periodic report is ready: notify tells its audience where it is.

    No figures and no personal data travel: only where to read it, the report's page through a
    signed link that expires (a minister opens it on a phone without signing in; signed in,
    staff read it by the API within their scope). `sector` None means the government-wide
    report for the prime minister's office (decision makers); a sector's report goes to its
    minister.
    """

    report_id: UUID
    cadence: ReportCadence
    period_start: date
    period_end: date = Field(description="Inclusive last day of the period.")
    sector: SectorCode | None = None
    link: str = Field(
        min_length=1, max_length=300, pattern=r"^/api/v1/analytics/[A-Za-z0-9/._?=&-]+$",
        description=("Path under the public API (through the gateway) of the report's page, "
                     "with its signed, expiring token: it opens without signing in."),
    )


# --- directory (routing) -----------------------------------------------------------------------


class DirectorySectorChanged(EventPayload, type=EventType.directory_sector_changed, version=1):
    """Emitted when the CMU creates, renames or retires a sector (a ministry, or the PM)."""

    sector: SectorCode
    name_ar: ShortText
    name_en: ShortText
    change: DirectoryChange


class DirectoryEntityChanged(EventPayload, type=EventType.directory_entity_changed, version=1):
    """Emitted when the CMU creates, renames, moves or retires an entity or department."""

    entity: EntityCode
    sector: SectorCode
    parent: EntityCode | None = Field(default=None, description="Set for a department.")
    name_ar: ShortText
    name_en: ShortText
    change: DirectoryChange


class DirectoryPersonChanged(EventPayload, type=EventType.directory_person_changed, version=1):
    """Emitted when an official's contact points change; feeds notify's contact book."""

    person_id: UUID
    phone: PhoneNumber | None = Field(default=None, repr=False)
    email: EmailAddress | None = Field(default=None, repr=False)
    language: Language
    notice_channel: NoticeChannel
    change: DirectoryChange


class DirectoryRoleChanged(EventPayload, type=EventType.directory_role_changed, version=1):
    """Emitted when a person gains or loses a role, e.g. becomes an entity's head or minister."""

    person_id: UUID
    role: Role
    entity: EntityCode | None = Field(default=None, description="Scope of entity-level roles.")
    sector: SectorCode | None = Field(default=None, description="Scope of sector-level roles.")
    granted: bool
