"""Every query of the integrity service. Never commits: the caller's transaction does.

Sealed reports are only ever inserted; nothing here updates or deletes one (and the database
would refuse: see the migration's triggers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.integrity.models import (
    Acknowledgement,
    CannotBeOpened,
    CommissionKey,
    SealedReport,
    StatusNote,
)

# A receipt that matches nothing still runs the notes query, against this id, so that a
# receipt's answer takes the same path whether or not it exists.
_NO_REPORT = uuid.UUID(int=0)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- keys ---------------------------------------------------------------------------------------


async def newest_key(session: AsyncSession) -> CommissionKey | None:
    return await session.scalar(
        select(CommissionKey).order_by(CommissionKey.serial.desc()).limit(1)
    )


async def keys_newest_first(session: AsyncSession) -> list[CommissionKey]:
    return list(
        await session.scalars(select(CommissionKey).order_by(CommissionKey.serial.desc()))
    )


async def key_ids(session: AsyncSession) -> frozenset[str]:
    return frozenset(await session.scalars(select(CommissionKey.key_id)))


async def add_key(session: AsyncSession, key: CommissionKey) -> bool:
    """Insert a key unless its id or its bytes are already registered; True when inserted."""
    inserted = await session.execute(
        _insert(session)(CommissionKey)
        .values(
            key_id=key.key_id,
            public_key=key.public_key,
            fingerprint=key.fingerprint,
            registered_at=key.registered_at,
            registered_by=key.registered_by,
        )
        .on_conflict_do_nothing()
        .returning(CommissionKey.serial)
    )
    serial = inserted.scalar()
    if serial is None:
        return False
    key.serial = serial
    return True


# --- filing -------------------------------------------------------------------------------------


async def file_reports(session: AsyncSession, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert sealed reports, each once; returns the ids inserted now (not those filed before)."""
    inserted = await session.execute(
        _insert(session)(SealedReport)
        .on_conflict_do_nothing(index_elements=[SealedReport.envelope_id])
        .returning(SealedReport.envelope_id),
        rows,
    )
    return set(inserted.scalars())


async def filed_envelope(session: AsyncSession, envelope_id: uuid.UUID) -> bytes | None:
    return await session.scalar(
        select(SealedReport.envelope).where(SealedReport.envelope_id == envelope_id)
    )


# --- the commission's inbox ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filed:
    envelope_id: uuid.UUID
    created_day: date
    key_id: str
    size_bucket: int
    has_identity: bool
    acknowledged_on: date | None
    cannot_be_opened_on: date | None
    notes: int


def _inbox_query() -> Any:
    notes = (
        select(func.count(StatusNote.id))
        .where(StatusNote.envelope_id == SealedReport.envelope_id)
        .scalar_subquery()
    )
    return (
        select(
            SealedReport.envelope_id,
            SealedReport.created_day,
            SealedReport.key_id,
            SealedReport.size_bucket,
            SealedReport.has_identity,
            Acknowledgement.acknowledged_on,
            CannotBeOpened.declared_on.label("cannot_be_opened_on"),
            notes.label("notes"),
        )
        .outerjoin(Acknowledgement, Acknowledgement.envelope_id == SealedReport.envelope_id)
        .outerjoin(CannotBeOpened, CannotBeOpened.envelope_id == SealedReport.envelope_id)
    )


def _filed(row: Row[Any]) -> Filed:
    return Filed(**row._mapping)


async def inbox_page(
    session: AsyncSession,
    *,
    limit: int,
    older_than: tuple[date, uuid.UUID] | None = None,
    acknowledged: bool | None = None,
) -> list[Filed]:
    """Newest day first; within a day by envelope id (random, so it says nothing of order)."""
    query = _inbox_query()
    if older_than is not None:
        day, envelope_id = older_than
        query = query.where(
            (SealedReport.created_day < day)
            | ((SealedReport.created_day == day) & (SealedReport.envelope_id < envelope_id))
        )
    if acknowledged is True:
        query = query.where(Acknowledgement.envelope_id.is_not(None))
    elif acknowledged is False:
        query = query.where(Acknowledgement.envelope_id.is_(None))
    query = query.order_by(SealedReport.created_day.desc(), SealedReport.envelope_id.desc())
    return [_filed(row) for row in (await session.execute(query.limit(limit))).all()]


async def filed(session: AsyncSession, envelope_id: uuid.UUID) -> Filed | None:
    row = (
        await session.execute(_inbox_query().where(SealedReport.envelope_id == envelope_id))
    ).first()
    return None if row is None else _filed(row)


async def envelope_bytes(
    session: AsyncSession, envelope_id: uuid.UUID, *, identity: bool
) -> tuple[bool, bytes | None]:
    """(whether the report exists, the requested envelope's bytes)."""
    column = SealedReport.identity_envelope if identity else SealedReport.envelope
    row = (
        await session.execute(select(column).where(SealedReport.envelope_id == envelope_id))
    ).first()
    return (False, None) if row is None else (True, row[0])


async def acknowledge(session: AsyncSession, acknowledgement: Acknowledgement) -> bool:
    """Record the acknowledgement unless there already is one; True when recorded."""
    return await _once_per_report(
        session, Acknowledgement, envelope_id=acknowledgement.envelope_id,
        acknowledged_on=acknowledgement.acknowledged_on,
        acknowledged_by=acknowledgement.acknowledged_by,
    )


async def declare_cannot_be_opened(session: AsyncSession, declaration: CannotBeOpened) -> bool:
    """Record that a report cannot be opened unless it was declared so; True when recorded."""
    return await _once_per_report(
        session, CannotBeOpened, envelope_id=declaration.envelope_id,
        declared_on=declaration.declared_on, declared_by=declaration.declared_by,
    )


async def _once_per_report(
    session: AsyncSession, model: type[Acknowledgement | CannotBeOpened], **values: Any
) -> bool:
    inserted = await session.execute(
        _insert(session)(model)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(model.envelope_id)
    )
    return inserted.scalar() is not None


async def add_note(session: AsyncSession, note: StatusNote) -> StatusNote:
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, envelope_id: uuid.UUID) -> list[StatusNote]:
    return list(
        await session.scalars(
            select(StatusNote).where(StatusNote.envelope_id == envelope_id).order_by(StatusNote.id)
        )
    )


# --- receipts -----------------------------------------------------------------------------------


async def by_receipt(
    session: AsyncSession, digest: str
) -> tuple[Filed | None, list[StatusNote]]:
    """The report a receipt digest names and its notes; the same two queries either way."""
    found = (
        await session.execute(_inbox_query().where(SealedReport.receipt_digest == digest))
    ).first()
    report = None if found is None else _filed(found)
    notes = await notes_of(session, report.envelope_id if report else _NO_REPORT)
    return report, notes
