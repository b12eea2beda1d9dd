"""Tables of the routing service, in its own schema; nothing outside this service reads them.

The directory (sectors, entities and departments, governorates, classifications, people, their
roles and permissions, and the log of every change to it), staff sign-in sessions, the cases
(one row per request routing holds) and their hash-chained audit trail.

Never stored: a password or a refresh token in the clear (argon2id hashes, SHA-256 digests),
contact points of requesters (intake and notify keep those), anything of a corruption report.
A requester's name is kept only folded into a case's search key, which no answer shows.
`audit_entries` and `directory_log` are append-only: the migration installs triggers that
refuse UPDATE and DELETE on them, and the audit chain shows any change made around them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus import inbox_table, outbox_table
from shared.db import BigIntegerPK, UtcDateTime, service_metadata
from shared.events.vocabulary import (
    Channel,
    ClosingCode,
    Language,
    LegalGround,
    NoticeChannel,
    RequestKind,
    RequestStatus,
    Role,
)
from shared.idempotency import idempotency_table

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)

FINISHED: Final = (RequestStatus.closed, RequestStatus.rejected)
"""Statuses a case never leaves; every other status is open and sits in someone's queue."""
OPEN_CASES_SQL: Final = "status NOT IN ('closed', 'rejected')"


class Base(DeclarativeBase):
    metadata = metadata
    # Enums are stored by value in plain VARCHARs: a new member needs no migration.
    type_annotation_map = {
        datetime: UtcDateTime,
        enum.Enum: SqlEnum(
            enum.Enum, native_enum=False, length=40,
            values_callable=lambda members: [m.value for m in members],
        ),
        list[str]: JSON,
    }


# --- the directory ---------------------------------------------------------------------------


class Sector(Base):
    """A ministry, or the Prime Ministry: it has one main liaison officer and one minister."""

    __tablename__ = "sectors"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class Entity(Base):
    """A government entity, or a department of one (`parent_code` set)."""

    __tablename__ = "entities"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sectors.code"), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("entities.code"))
    kind: Mapped[str] = mapped_column(String(30))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    receives_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class Governorate(Base):
    __tablename__ = "governorates"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class Classification(Base):
    """What a request is about; bounds the processing time an officer may set."""

    __tablename__ = "classifications"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[RequestKind]
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    max_working_days: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class Person(Base):
    """Staff: everyone who signs in at routing (officers, heads, ministers, CMU, agents, …)."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[Language]
    notice_channel: Mapped[NoticeChannel]
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(SmallInteger, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RoleAssignment(Base):
    """A person holds a role, scoped to a sector or an entity; revoking keeps the row."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        Index("ix_role_assignments_current_sector", "role", "sector_code",
              postgresql_where=text("revoked_at IS NULL"),
              sqlite_where=text("revoked_at IS NULL")),
        Index("ix_role_assignments_current_entity", "role", "entity_code",
              postgresql_where=text("revoked_at IS NULL"),
              sqlite_where=text("revoked_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[Role]
    sector_code: Mapped[str | None] = mapped_column(ForeignKey("sectors.code"))
    entity_code: Mapped[str | None] = mapped_column(ForeignKey("entities.code"))
    granted_at: Mapped[datetime]
    granted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class RolePermission(Base):
    """What everyone in a role may do (the group's permissions), editable at run time."""

    __tablename__ = "role_permissions"

    role: Mapped[Role] = mapped_column(primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


class PersonPermission(Base):
    """One person's exception to their role's permissions: a grant, or a denial."""

    __tablename__ = "person_permissions"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)


class DirectoryLog(Base):
    """Append-only log of every change to the directory: who, when, what, before and after."""

    __tablename__ = "directory_log"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: the seed
    subject: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(80), index=True)
    change: Mapped[str] = mapped_column(String(30))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON of before/after


class SeedRun(Base):
    """One row per seed that ran: the claim that makes seeding happen exactly once."""

    __tablename__ = "seed_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seeded_at: Mapped[datetime]


# --- staff sign-in ---------------------------------------------------------------------------


class StaffSession(Base):
    """One refresh token (its SHA-256 only). Rotating replaces it within its family; presenting
    a rotated one again revokes the whole family (a stolen token was used)."""

    __tablename__ = "staff_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    family_expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# --- cases -----------------------------------------------------------------------------------


def _open_index(name: str, *columns: str, include: tuple[str, ...] = ()) -> Index:
    """An index over open cases only: inboxes read them; the closed million stays out of it."""
    return Index(name, *columns, postgresql_where=text(OPEN_CASES_SQL),
                 sqlite_where=text(OPEN_CASES_SQL), postgresql_include=list(include))


COUNTED: Final = ("distributed_to", "status", "due_at", "overdue_since", "escalation_level")
"""What the inbox's counters read besides the scope (the covering index carries them)."""


class Case(Base):
    """A request as routing handles it: where it is, who holds it, what was decided."""

    __tablename__ = "cases"
    __table_args__ = (
        # Inboxes, each sorted by deadline: a main officer's or minister's sector, a
        # sub-officer's distribution, an entity head's entity, the CMU's queues.
        _open_index("ix_cases_open_sector_due", "sector_code", "due_at", "reference"),
        _open_index("ix_cases_open_distributed_due", "distributed_to", "due_at", "reference"),
        _open_index("ix_cases_open_entity_due", "entity_code", "due_at", "reference"),
        _open_index("ix_cases_open_status_due", "status", "due_at", "reference"),
        _open_index("ix_cases_open_due", "due_at", "reference"),
        # The inbox's counters, read from the index alone (an index-only scan): a scope's
        # sector or entity, and everything the counters look at.
        _open_index("ix_cases_open_counters", "sector_code", "entity_code", include=COUNTED),
        Index("ix_cases_merged_into", "merged_into",
              postgresql_where=text("merged_into IS NOT NULL"),
              sqlite_where=text("merged_into IS NOT NULL")),
        # The search page: every status, newest first (the CMU's, a sector's, an entity's).
        Index("ix_cases_submitted", "submitted_at", "reference"),
        Index("ix_cases_sector_submitted", "sector_code", "submitted_at", "reference"),
        Index("ix_cases_entity_submitted", "entity_code", "submitted_at", "reference"),
        # PostgreSQL only, in the migration (`20261214_…_staff_search`): the generated
        # `search_vector` (tsvector of `subject_key`, weighted A, and `search_key`) with its GIN
        # index `ix_cases_search`, and `ix_cases_reference_prefix` (LIKE 'prefix%' on the
        # reference whatever the database's collation).
    )

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[RequestKind]
    status: Mapped[RequestStatus]
    channel: Mapped[Channel]
    requested_entity: Mapped[str | None] = mapped_column(String(40))
    entity_code: Mapped[str | None] = mapped_column(String(40))
    sector_code: Mapped[str | None] = mapped_column(String(20))
    distributed_to: Mapped[str | None] = mapped_column(String(40))
    officer_ids: Mapped[list[str]]
    governorate: Mapped[str | None] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[str]]
    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    submitted_at: Mapped[datetime]
    placed_at: Mapped[datetime]
    classification: Mapped[str | None] = mapped_column(String(64))
    processing_working_days: Mapped[int | None] = mapped_column(SmallInteger)
    extensions: Mapped[int] = mapped_column(SmallInteger, default=0)
    transfer_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    resume_status: Mapped[RequestStatus | None]
    outcome: Mapped[ClosingCode | None]
    closing_code: Mapped[ClosingCode | None]
    legal_ground: Mapped[LegalGround | None]
    merged_into: Mapped[str | None] = mapped_column(String(40))
    # How many answers it has had: the latest answer's round (`request.responded`'s round).
    answer_round: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # the latest answer's
    # The entity's current deadline and how late it is, as the SLA service says.
    due_at: Mapped[datetime | None]
    due_stage: Mapped[str | None] = mapped_column(String(30))
    due_set_at: Mapped[datetime | None]
    overdue_since: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The staff's search (`shared.text.search_key`, written once at placement): the subject's
    # key, and the description's with the requester's name, which is kept nowhere else here
    # and never shown. Never loaded with the case (raise if touched).
    subject_key: Mapped[str] = mapped_column(Text, server_default="", deferred=True,
                                             deferred_raiseload=True)
    search_key: Mapped[str] = mapped_column(Text, server_default="", deferred=True,
                                            deferred_raiseload=True)
    # The timeline's head: its length is the case's version (the ETag, optimistic locking),
    # set by the code that appends (`cases.service.record`) and checked by every UPDATE.
    audit_seq: Mapped[int] = mapped_column(Integer)
    audit_head: Mapped[str] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": audit_seq, "version_id_generator": False}


class AuditEntry(Base):
    """One step on a request's timeline, chained to the one before it by SHA-256."""

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("reference", "seq"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_role: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as one (for Core statements on the hot paths)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table

