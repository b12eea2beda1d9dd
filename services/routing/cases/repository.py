"""Every query of case handling. Inboxes read the partial indexes over open cases, so a store
of a million mostly closed requests costs an officer's page no more than a small one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.cases.schemas import Cursor
from services.routing.models import FINISHED, OPEN_CASES_SQL, AuditEntry, Case, table_of
from shared.events.vocabulary import RequestKind, RequestStatus

# A literal, not bound parameters: PostgreSQL proves a partial index's predicate only from
# constants, and prepared statements would otherwise hide them behind a generic plan.
OPEN: ColumnElement[bool] = text(OPEN_CASES_SQL)  # type: ignore[assignment]


async def case(session: AsyncSession, reference: str, *, lock: bool = False) -> Case | None:
    query = select(Case).where(Case.reference == reference)
    if lock:  # event handlers wait for a concurrent action rather than fail against it
        query = query.with_for_update()
    return await session.scalar(query)


async def cases(session: AsyncSession, references: Iterable[str]) -> dict[str, Case]:
    wanted = set(references)
    rows = await session.scalars(select(Case).where(Case.reference.in_(wanted)))
    return {row.reference: row for row in rows}


async def merged_into(session: AsyncSession, primary: str) -> list[str]:
    rows = await session.scalars(
        select(Case.reference).where(Case.merged_into == primary).order_by(Case.reference))
    return list(rows)


SUMMARY = (Case.reference, Case.kind, Case.status, Case.channel, Case.subject, Case.entity_code,
           Case.sector_code, Case.distributed_to, Case.submitted_at, Case.due_at,
           Case.overdue_since, Case.escalation_level, Case.audit_seq)
"""What an inbox line shows: plain rows of these, not whole mapped cases (a page reads less)."""


async def inbox(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    statuses: Sequence[RequestStatus],
    kinds: Sequence[RequestKind],
    entity: str | None,
    overdue: bool | None,
    escalated: bool | None,
    after: Cursor | None,
    limit: int,
) -> Sequence[Any]:
    """A page of the cases in scope, by deadline (none last), then reference."""
    query = select(*SUMMARY).where(visible)
    if not statuses or all(s not in FINISHED for s in statuses):
        query = query.where(OPEN)  # matches the partial indexes
    if statuses:
        query = query.where(Case.status.in_(statuses))
    if kinds:
        query = query.where(Case.kind.in_(kinds))
    if entity is not None:
        query = query.where(or_(Case.entity_code == entity, Case.distributed_to == entity))
    if overdue is not None:
        query = query.where(Case.overdue_since.is_not(None) if overdue
                            else Case.overdue_since.is_(None))
    if escalated is not None:
        query = query.where(Case.escalation_level > 0 if escalated
                            else Case.escalation_level == 0)
    if after is not None:
        query = query.where(_after(after))
    query = query.order_by(Case.due_at.asc().nulls_last(), Case.reference).limit(limit)
    return (await session.execute(query)).all()


def _after(cursor: Cursor) -> ColumnElement[bool]:
    if cursor.due_at is None:
        return and_(Case.due_at.is_(None), Case.reference > cursor.reference)
    return or_(
        Case.due_at > cursor.due_at,
        and_(Case.due_at == cursor.due_at, Case.reference > cursor.reference),
        Case.due_at.is_(None),
    )


async def insert_new_cases(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the cases not there yet; the references of those inserted."""
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = table_of(Case)
    statement = (
        dialect.insert(table).on_conflict_do_nothing(index_elements=["reference"])
        .returning(table.c.reference)
    )
    return set((await session.execute(statement, rows)).scalars())


async def add_entries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(table_of(AuditEntry).insert(), rows)


async def entries(session: AsyncSession, reference: str) -> Sequence[AuditEntry]:
    return (await session.scalars(
        select(AuditEntry).where(AuditEntry.reference == reference).order_by(AuditEntry.seq)
    )).all()


async def set_deadline(
    session: AsyncSession, *, reference: str, entity: str, due_at: datetime, stage: str,
    set_at: datetime,
) -> None:
    """The entity's current deadline, as the SLA service set it: kept only while that entity
    still works on the request, and never replaced by an older decision."""
    await session.execute(
        update(Case)
        .where(Case.reference == reference, Case.entity_code == entity,
               Case.status.in_([RequestStatus.assigned, RequestStatus.in_progress,
                                RequestStatus.awaiting_information]),
               or_(Case.due_set_at.is_(None), Case.due_set_at <= set_at))
        .values(due_at=due_at, due_stage=stage, due_set_at=set_at,
                # A deadline set in the future lifts the lateness of the one it replaces.
                **({"overdue_since": None} if due_at > set_at else {}))
        .execution_options(synchronize_session=False)
    )
