"""Tables of the integrity service, in its own schema; nothing outside this service reads them.

The commission's public keys, the sealed reports (write-once: the database itself refuses to
change or remove a filed envelope), the commission's acknowledgements, the reports it declared
cannot be opened, and the status notes it releases to reporters. Never stored: a private key,
anything in the clear of a report, a receipt (only its digest), an instant a report was made
(only its day).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
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


class Base(DeclarativeBase):
    metadata = metadata


class CommissionKey(Base):
    """One of the commission's X25519 public keys; the newest (highest serial) seals reports."""

    __tablename__ = "commission_keys"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(128), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registered_by: Mapped[str] = mapped_column(String(64))


class SealedReport(Base):
    """A report as filed: ciphertext only, written once (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "sealed_reports"
    __table_args__ = (Index(None, "created_day", "envelope_id"),)

    envelope_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(128), ForeignKey("commission_keys.key_id"))
    created_day: Mapped[date] = mapped_column(Date)
    size_bucket: Mapped[int] = mapped_column(Integer)
    envelope: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    identity_envelope: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    has_identity: Mapped[bool]
    receipt_digest: Mapped[str | None] = mapped_column(String(64), unique=True)


class Acknowledgement(Base):
    """The commission confirmed it received a report; once per report."""

    __tablename__ = "acknowledgements"

    envelope_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sealed_reports.envelope_id"), primary_key=True
    )
    acknowledged_on: Mapped[date] = mapped_column(Date)
    acknowledged_by: Mapped[str] = mapped_column(String(64))


class CannotBeOpened(Base):
    """The commission could not open a report (damaged or badly sealed); once per report. The
    reporter's receipt then asks for a new report."""

    __tablename__ = "cannot_be_opened"

    envelope_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sealed_reports.envelope_id"), primary_key=True
    )
    declared_on: Mapped[date] = mapped_column(Date)
    declared_by: Mapped[str] = mapped_column(String(64))


class StatusNote(Base):
    """Plain text the commission chose to release to the reporter, shown with the receipt."""

    __tablename__ = "status_notes"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, autoincrement=True)
    envelope_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sealed_reports.envelope_id"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    posted_on: Mapped[date] = mapped_column(Date)
    posted_by: Mapped[str] = mapped_column(String(64))
