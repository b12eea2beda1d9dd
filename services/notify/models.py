"""Tables of the notify service, in its own schema; nothing outside this service reads them.

    contacts          the contact book: how each person (citizen or official) is reached
    person_roles      who holds which role, for what scope (CMU staff, ministers, …)
    entities          entity names in both languages, for the words of messages
    requests          what notify knows of each request: its requester, subject, who holds it,
                      overdue
    request_officers  the liaison officers a request is currently with
    calendar_rules    the working-day rules SLA last announced
    notifications     every message: what, to whom, on which channel, and where its delivery is

Phone numbers and email addresses live in `contacts` and, copied at the moment a message is
queued, in `notifications.address`; never in a log. One-time codes live nowhere but in the
memory of the process that sends them (`process.CODES`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    text,
)

from shared.bus import inbox_table, outbox_table
from shared.db import UtcDateTime, service_metadata


class DeliveryStatus(StrEnum):
    """Where a message stands: queued → submitted → delivered, or failed / dead_lettered."""

    queued = "queued"                # waiting for its (next) attempt
    submitted = "submitted"          # the provider accepted it
    delivered = "delivered"          # the handset confirmed it (SMS delivery receipt)
    failed = "failed"                # refused for good: bad address, provider said no, expired
    dead_lettered = "dead_lettered"  # every attempt failed; the CMU sees it and may retry it


class Priority:
    """Lower goes first: a code someone is waiting for beats a digest."""

    code = 0
    notice = 1
    digest = 2


metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

contacts = Table(
    "contacts",
    metadata,
    Column("person_id", Uuid, primary_key=True),
    Column("phone", String(16), nullable=True),
    Column("email", String(254), nullable=True),
    Column("language", String(2), nullable=False),
    Column("notice_channel", String(5), nullable=False),
    Column("active", Boolean, nullable=False),
    # The instant of the event last applied: an older event arriving late changes nothing.
    Column("changed_at", UtcDateTime, nullable=False),
)

person_roles = Table(
    "person_roles",
    metadata,
    Column("person_id", Uuid, nullable=False),
    Column("role", String(40), nullable=False),
    Column("entity", String(40), nullable=False),  # "" when the role has no entity scope
    Column("sector", String(20), nullable=False),  # "" when the role has no sector scope
    PrimaryKeyConstraint("person_id", "role", "entity", "sector"),
    Index(None, "role", "sector"),
)

entities = Table(
    "entities",
    metadata,
    Column("entity", String(40), primary_key=True),
    Column("sector", String(20), nullable=False),
    Column("name_ar", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("requester_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("subject", String(200), nullable=False),
    # Who holds it, as routing announced (the scope a staff member's preview is judged by):
    # the entity and its sector, and the entity or department it was distributed to.
    Column("entity", String(40), nullable=True),
    Column("sector", String(20), nullable=True),
    Column("distributed_to", String(40), nullable=True),
    # The requester's choice for this request; None: their account's preference.
    Column("notice_channel", String(5), nullable=True),
    Column("language", String(2), nullable=True),
    Column("open", Boolean, nullable=False),
    Column("overdue_since", UtcDateTime, nullable=True),
    Index(None, "overdue_since"),
)

request_officers = Table(
    "request_officers",
    metadata,
    Column("reference", String(40), nullable=False),
    Column("officer_id", Uuid, nullable=False),
    PrimaryKeyConstraint("reference", "officer_id"),
    Index(None, "officer_id"),
)

# The working-day rules as SLA last announced them (`sla.rules_changed`), for the digest's days.
calendar_rules = Table(
    "calendar_rules",
    metadata,
    Column("id", SmallInteger, primary_key=True),  # always 1: one set of rules
    Column("revision", Integer, nullable=False),
    Column("rules", JSON, nullable=False),
)

QUEUED = "status = 'queued'"
"""The due index's predicate, spelled as a literal: a bound parameter would not match it."""
REMEMBERED = "address <> ''"
"""Messages whose address retention has not forgotten yet (the predicate of their index)."""

notifications = Table(
    "notifications",
    metadata,
    # uuid5 of (source event, recipient, channel): the same event never queues a message twice.
    Column("id", Uuid, primary_key=True),
    Column("source_event_id", Uuid, nullable=False),
    Column("kind", String(60), nullable=False),
    Column("channel", String(5), nullable=False),
    Column("recipient_id", Uuid, nullable=True),  # None for a code sent before an account exists
    Column("reference", String(40), nullable=True),
    Column("address", String(254), nullable=False),
    Column("language", String(2), nullable=False),
    # What the message says, as data; rendered at each attempt. A code is never in it.
    Column("context", JSON, nullable=False),
    Column("fell_back", Boolean, nullable=False),  # email was asked for but SMS was used
    Column("status", String(20), nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    # The process holding a code in memory: only it can send the message.
    Column("holder", String(40), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("provider_message_id", String(100), nullable=True),
    Column("reason_code", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("failed_at", UtcDateTime, nullable=True),
    # What the dispatcher claims, and only that: a message leaves this index once it is sent,
    # and a claim (lease, attempts) changes no column of it, so PostgreSQL updates it in place.
    Index("ix_notifications_due", "channel", "priority", "next_attempt_at",
          postgresql_where=text(QUEUED), sqlite_where=text(QUEUED)),
    # What retention has still to forget, oldest first; forgotten rows leave it.
    Index("ix_notifications_remembered", "created_at",
          postgresql_where=text(REMEMBERED), sqlite_where=text(REMEMBERED)),
    Index(None, "recipient_id", "created_at"),
    Index(None, "reference"),
    Index(None, "created_at"),
    postgresql_with={"fillfactor": 80},  # room on each page for the in-place updates
)
