"""Tables of the intake service, in its own schema; nothing outside this service reads them.

People (`citizens`: registered accounts and the unregistered requesters that staff key in),
pending sign-ups and their one-time codes, refresh tokens, requests as the requester sees them
(status, timeline, deadlines, the rating of each answer), attachments, the local copy of the
directory, and the audit of what staff looked at. Never stored: a password or a code in the
clear, a request body of an idempotent POST, anything of a corruption report but the (random)
ids of the envelopes taken, so that an id is taken once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus import inbox_table, outbox_table
from shared.db import BigIntegerPK, UtcDateTime, service_metadata
from shared.idempotency import idempotency_table

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)

# Reference numbers are drawn from a sequence (never a locked counter row, which would make
# every submission wait for the one before it). SQLite has no sequences: the migration gives
# it a table of numbers instead (see repository.next_request_number).
request_number_seq = Sequence("request_number_seq", metadata=metadata)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Citizen(Base):
    """A requester: a registered account, or someone a call-center agent or clerk keyed in."""

    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # `registered`: verified identity and phone, a password; `unregistered`: no account.
    account: Mapped[str] = mapped_column(String(16))
    id_type: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(200))
    nationality: Mapped[str | None] = mapped_column(String(2))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2))
    notice_channel: Mapped[str] = mapped_column(String(5))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Registration(Base):
    """A sign-up waiting for its phone code; becomes (or claims) a `Citizen` when verified."""

    __tablename__ = "registrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id_type: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(String(20), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    nationality: Mapped[str] = mapped_column(String(2))
    date_of_birth: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2))
    notice_channel: Mapped[str] = mapped_column(String(5))
    password_hash: Mapped[str] = mapped_column(String(200))
    # What the civil registry said, told to the person only once they have proven the phone.
    identity_outcome: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class PhoneCode(Base):
    """The one live code of a challenge (a registration or a phone change), as an HMAC only.

    Tries are counted in the rate-limit storage (`Throttle.spend_code_try`), not here.
    """

    __tablename__ = "phone_codes"

    challenge_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    citizen_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    phone: Mapped[str] = mapped_column(String(16))
    code_hmac: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One refresh token (as a SHA-256 hash); each use rotates it within its family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("citizens.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CallerCheck(Base):
    """A call-center agent checked a caller's identity against the registry, for one call."""

    __tablename__ = "caller_checks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("citizens.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Sector(Base):
    """Routing's sectors, as announced by `directory.sector_changed`."""

    __tablename__ = "sectors"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]


class Entity(Base):
    """Routing's entities and departments, as announced by `directory.entity_changed`."""

    __tablename__ = "entities"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    sector: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(String(40))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]


class Request(Base):
    """A request as its requester sees it: what they sent and where it stands."""

    __tablename__ = "requests"
    __table_args__ = (
        Index(None, "requester_id", "submitted_at"),
        Index(None, "submitted_by", "submitted_at"),
    )

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Who holds it, as routing announced: the entity (and its sector), and the entity or
    # department it was distributed to (None until then, and again once it moves on). Staff
    # see it by these, with the kernel's rule (`Principal.sees_request`).
    entity: Mapped[str | None] = mapped_column(String(40))
    sector: Mapped[str | None] = mapped_column(String(20))
    distributed_to: Mapped[str | None] = mapped_column(String(40))
    # When the event that last set the three happened: they follow their own events' order
    # (a late `request.distributed` still counts after a later `request.accepted`).
    held_at: Mapped[datetime | None]
    governorate: Mapped[str] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # Subject and description normalised for searching and the duplicate warning.
    search_key: Mapped[str] = mapped_column(Text)
    notice_channel: Mapped[str | None] = mapped_column(String(5))
    language: Mapped[str | None] = mapped_column(String(2))
    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the tracking code (`services.intake.tracking`); None for earlier requests.
    tracking_digest: Mapped[str | None] = mapped_column(String(64))
    declared_not_before_court: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))
    # When the event that set `status` happened: a late, older event never overrides it.
    status_at: Mapped[datetime]
    # The status to go back to when the requester answers a request for information.
    status_before_pause: Mapped[str | None] = mapped_column(String(24))
    actions_taken: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    # The latest answer's round (`request.responded`); None until the first answer.
    answer_round: Mapped[int | None] = mapped_column(SmallInteger)


# The table itself, for the submission's INSERT (Core, not the ORM's bulk path: it is hot).
requests_table: Table = Request.__table__  # type: ignore[assignment]


class Rating(Base):
    """The requester's 1–5 for one answer: each answer round is rated on its own."""

    __tablename__ = "ratings"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    round: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime]


class TimelineEntry(Base):
    """One step of a request's life, from the event that announced it."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    step: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]


class Chase(Base):
    """A requester's chase of a request whose promised deadline passed: one per working day
    (the key), so two at once cannot both count."""

    __tablename__ = "chases"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    working_day: Mapped[date] = mapped_column(Date, primary_key=True)
    chased_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class Deadline(Base):
    """The latest deadline of each clock and stage, from `sla.deadline_set`, and when it
    ended (`sla.deadline_ended`): only running ones are shown."""

    __tablename__ = "deadlines"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    clock: Mapped[str] = mapped_column(String(12), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime]
    set_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Attachment(Base):
    """A file checked by its content, images stripped of their metadata, then stored."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str | None] = mapped_column(String(40), index=True)
    # The name the uploader gave it, cleaned (`attachments.clean_file_name`): shown, never
    # trusted (the type is the content's). None for files uploaded before names were kept.
    file_name: Mapped[str | None] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


class StaffAccess(Base):
    """Who on the staff looked at or keyed in whose request, and when (never what they saw).

    Actions: `identity_checked` and `looked_up` (call-center agents), `submitted` (agents and
    clerks), `contact_viewed` (the requester's contact details) and `attachment_read` (one
    file, `attachment_id`) by the staff who hold the request.
    """

    __tablename__ = "staff_access"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(40), index=True)
    requester_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attachment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    occurred_at: Mapped[datetime]


class SlaRules(Base):
    """The SLA rules as `sla.rules_changed` last announced them (the highest revision wins)."""

    __tablename__ = "sla_rules"

    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]


class TakenEnvelopeId(Base):
    """The id of a corruption report's envelope that intake took, in the receipt's transaction.

    Integrity files one envelope per id; a second envelope under a taken id is refused at the
    door instead of getting a receipt for a report that would never arrive. Nothing else of the
    report is here: no day, no instant, no account.
    """

    __tablename__ = "taken_envelope_ids"

    envelope_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
