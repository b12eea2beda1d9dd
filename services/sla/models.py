"""Tables of the sla service, in its own schema; nothing outside this service reads them.

    rules_state        one row: the revision of the rules, how far open deadlines follow it
    rules_changes      every change of the rules: who, when, what (the CMU's audit trail)
    policy_versions    the SLA policy, one row per version
    holiday_overrides  the CMU's word on single dates (holiday / working day)
    ramadan_periods    Ramadan as announced by the CMU
    requests           what SLA knows of a request (its holder, whether it is closed)
    request_events     the lifecycle events a request's deadlines are derived from
    timers             every deadline and escalation: pending, paused, fired or cancelled
    directory_roles    who is entity head, minister or CMU staff, for escalation recipients
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    text,
)

from shared.bus import inbox_table, outbox_table
from shared.db import BigIntegerPK, UtcDateTime, service_metadata
from shared.idempotency import idempotency_table

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)


rules_state = Table(
    "rules_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    # Every change of policy or overrides takes the next revision and announces it.
    Column("revision", Integer, nullable=False),
    Column("announced_revision", Integer, nullable=False),
    # Open deadlines follow the rules up to this revision (the scheduler catches up).
    Column("recomputed_revision", Integer, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

rules_changes = Table(
    "rules_changes",
    metadata,
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("change", String(40), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("changed_by", Uuid, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("policy", JSON, nullable=False),
    Column("effective_from", UtcDateTime, nullable=False),
    # The CMU chose to move open deadlines to this version, not only new ones.
    Column("applies_to_open", Boolean, nullable=False),
    Column("reason", String(2000), nullable=True),
    Column("created_by", Uuid, nullable=True),
)

holiday_overrides = Table(
    "holiday_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("status", String(12), nullable=False),
    Column("name_ar", String(120), nullable=True),
    Column("name_en", String(120), nullable=True),
    Column("changed_by", Uuid, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)

ramadan_periods = Table(
    "ramadan_periods",
    metadata,
    Column("first_day", Date, primary_key=True),
    Column("last_day", Date, nullable=False),
    Column("changed_by", Uuid, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("kind", String(20), nullable=True),  # None until request.submitted arrives
    Column("entity", String(40), nullable=True),  # who holds it now
    Column("sector", String(20), nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "closed_at"),
)

request_events = Table(
    "request_events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("reference", String(40), nullable=False, index=True),
    Column("type", String(60), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False),
    # clock:round:stage:action, e.g. entity:2:first_response:escalation_1 (the second holder).
    Column("key", String(80), nullable=False),
    Column("clock", String(12), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("action", String(16), nullable=False),
    Column("entity", String(40), nullable=True),
    Column("sector", String(20), nullable=True),
    Column("policy_version", Integer, nullable=False),
    # The working time still to run (microseconds of a normal working day) from anchor_at;
    # a holiday change recomputes due_at from these two alone.
    Column("anchor_at", UtcDateTime, nullable=False),
    Column("budget_us", BigInteger, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),  # None while paused
    Column("state", String(12), nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    # When its stage ended (answered, holding ended, closed), as announced by
    # sla.deadline_ended; a timer that fell due before then still fires.
    Column("ended_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("reference", "key"),
    # The poll reads the head of this index only: its cost does not grow with open timers.
    Index(
        "ix_timers_pending_due",
        "due_at",
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
)

directory_roles = Table(
    "directory_roles",
    metadata,
    Column("person_id", Uuid, nullable=False),
    Column("role", String(40), nullable=False),
    Column("scope", String(40), nullable=False),  # the entity, the sector, or "*" (the CMU)
    Column("granted", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("person_id", "role", "scope"),
    Index(None, "role", "scope"),
)
