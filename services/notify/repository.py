"""Every query of the notify service. Keyword-only functions; none of them commits.

Writes that may repeat (a redelivered event, a second replica) are upserts or guarded updates,
so running one twice leaves the same rows. Both PostgreSQL and SQLite (the embedded mode) speak
every statement here; `FOR UPDATE SKIP LOCKED` is PostgreSQL's, and SQLite, with one writer at
a time, needs no lock to claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, and_, bindparam, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.models import (
    QUEUED,
    REMEMBERED,
    DeliveryStatus,
    calendar_rules,
    contacts,
    entities,
    notifications,
    person_roles,
    request_officers,
    requests,
)

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A row of any shape, as the queries here return them."""


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


# --- the contact book -------------------------------------------------------------------------


async def upsert_contacts(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Newer wins: a change that happened before the stored one is ignored."""
    if not rows:
        return
    statement = _insert(session, contacts)
    statement = statement.on_conflict_do_update(
        index_elements=[contacts.c.person_id],
        set_={name: statement.excluded[name] for name in
              ("phone", "email", "language", "notice_channel", "active", "changed_at")},
        where=contacts.c.changed_at <= statement.excluded.changed_at,
    )
    await session.execute(statement, list(rows))


async def contacts_of(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, AnyRow]:
    ids = set(person_ids)
    if not ids:
        return {}
    rows = await session.execute(select(contacts).where(contacts.c.person_id.in_(ids)))
    return {row.person_id: row for row in rows}


async def grant_role(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(_insert(session, person_roles).on_conflict_do_nothing(), [dict(row)])


async def revoke_role(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(delete(person_roles).where(
        *(person_roles.c[name] == value for name, value in row.items())))


async def holders_of(
    session: AsyncSession, role: str, *, sector: str | None = None, entity: str | None = None
) -> list[uuid.UUID]:
    """People holding `role` (within `sector`, or for `entity`, when given)."""
    query = select(person_roles.c.person_id).where(person_roles.c.role == role).distinct()
    if sector is not None:
        query = query.where(person_roles.c.sector == sector)
    if entity is not None:
        query = query.where(person_roles.c.entity == entity)
    return list((await session.execute(query)).scalars())


async def upsert_entity(session: AsyncSession, row: Mapping[str, Any]) -> None:
    statement = _insert(session, entities)
    statement = statement.on_conflict_do_update(
        index_elements=[entities.c.entity],
        set_={name: statement.excluded[name] for name in ("sector", "name_ar", "name_en")},
    )
    await session.execute(statement, [dict(row)])


async def entity_names(
    session: AsyncSession, codes: Iterable[str | None]
) -> dict[str, AnyRow]:
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    rows = await session.execute(select(entities).where(entities.c.entity.in_(wanted)))
    return {row.entity: row for row in rows}


# --- what notify knows of requests ------------------------------------------------------------


async def upsert_requests(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    statement = _insert(session, requests)
    statement = statement.on_conflict_do_update(
        index_elements=[requests.c.reference],
        set_={name: statement.excluded[name] for name in
              ("requester_id", "kind", "subject", "entity", "sector", "notice_channel",
               "language")},
    )
    await session.execute(statement, list(rows))


async def request_facts(session: AsyncSession, references: Iterable[str]) -> dict[str, AnyRow]:
    wanted = set(references)
    if not wanted:
        return {}
    rows = await session.execute(select(requests).where(requests.c.reference.in_(wanted)))
    return {row.reference: row for row in rows}


async def update_request(session: AsyncSession, reference: str, **values: Any) -> None:
    await session.execute(
        update(requests).where(requests.c.reference == reference).values(**values))


async def mark_overdue(session: AsyncSession, reference: str, since: datetime) -> None:
    """The earliest breach stands: a later one for the same request does not move it."""
    await session.execute(
        update(requests)
        .where(requests.c.reference == reference, requests.c.open.is_(True),
               or_(requests.c.overdue_since.is_(None), requests.c.overdue_since > since))
        .values(overdue_since=since))


async def add_officers(
    session: AsyncSession, reference: str, officer_ids: Iterable[uuid.UUID]
) -> None:
    rows = [{"reference": reference, "officer_id": officer} for officer in set(officer_ids)]
    if rows:
        await session.execute(_insert(session, request_officers).on_conflict_do_nothing(), rows)


async def officers_of(session: AsyncSession, reference: str) -> list[uuid.UUID]:
    """The officers who hold the request now, in a stable order."""
    rows = await session.execute(
        select(request_officers.c.officer_id)
        .where(request_officers.c.reference == reference)
        .order_by(request_officers.c.officer_id))
    return list(rows.scalars())


async def clear_officers(session: AsyncSession, reference: str) -> None:
    await session.execute(
        delete(request_officers).where(request_officers.c.reference == reference))


async def overdue_with_officers(session: AsyncSession) -> list[AnyRow]:
    """(officer_id, reference, overdue_since) of every open overdue request, oldest first."""
    query = (
        select(request_officers.c.officer_id, requests.c.reference, requests.c.overdue_since)
        .join(requests, requests.c.reference == request_officers.c.reference)
        .where(requests.c.open.is_(True), requests.c.overdue_since.is_not(None))
        .order_by(request_officers.c.officer_id, requests.c.overdue_since, requests.c.reference)
    )
    return list((await session.execute(query)).all())


# --- the working-day rules ---------------------------------------------------------------------


async def keep_calendar_rules(session: AsyncSession, *, revision: int, rules: Any) -> None:
    """The highest revision wins, whatever order the announcements arrive in."""
    statement = _insert(session, calendar_rules)
    statement = statement.on_conflict_do_update(
        index_elements=[calendar_rules.c.id],
        set_={"revision": statement.excluded.revision, "rules": statement.excluded.rules},
        where=calendar_rules.c.revision < statement.excluded.revision,
    )
    await session.execute(statement, [{"id": 1, "revision": revision, "rules": rules}])


async def calendar_rules_now(session: AsyncSession) -> Any | None:
    return (await session.execute(select(calendar_rules.c.rules))).scalar_one_or_none()


# --- notifications ----------------------------------------------------------------------------


async def insert_notifications(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> set[uuid.UUID]:
    """Insert the new ones; a notification already there (same id) is left as it is."""
    if not rows:
        return set()
    statement = (
        _insert(session, notifications).on_conflict_do_nothing()
        .returning(notifications.c.id)
    )
    return set((await session.execute(statement, list(rows))).scalars())


# What a dispatcher needs of a claimed row, and whether its recipient may still hear from us.
_CLAIMED = (
    notifications.c.id, notifications.c.source_event_id, notifications.c.kind,
    notifications.c.channel, notifications.c.recipient_id, notifications.c.reference,
    notifications.c.address, notifications.c.language, notifications.c.context,
    notifications.c.attempts, notifications.c.holder, notifications.c.expires_at,
    notifications.c.created_at, contacts.c.active.label("recipient_active"),
)


async def claim(
    session: AsyncSession, *, channel: str, now: datetime, lease_until: datetime, limit: int,
    holder: str,
) -> list[AnyRow]:
    """Take up to `limit` due messages of `channel` for one attempt, leased until `lease_until`.

    A code's notification is due only in the process holding its code — or once it expired,
    when anyone may close it. A lease that ran out (its sender died) makes a message due again.
    """
    n = notifications
    due = (
        select(n.c.id)
        .where(
            n.c.channel == channel,
            text(QUEUED),  # literal, so that the partial index `ix_notifications_due` serves it
            n.c.next_attempt_at <= now,
            or_(n.c.lease_until.is_(None), n.c.lease_until <= now),
            or_(n.c.holder.is_(None), n.c.holder == holder, n.c.expires_at <= now),
        )
        .order_by(n.c.priority, n.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    await session.execute(
        update(n).where(n.c.id.in_(ids))
        .values(lease_until=lease_until, attempts=n.c.attempts + 1))
    rows = await session.execute(
        select(*_CLAIMED)
        .select_from(n.outerjoin(contacts, contacts.c.person_id == n.c.recipient_id))
        .where(n.c.id.in_(ids)))
    return list(rows.all())


async def lock_notifications(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, AnyRow]:
    """The messages as they stand, locked until the transaction ends (no two moves race)."""
    wanted = set(ids)
    if not wanted:
        return {}
    n = notifications
    rows = await session.execute(
        select(n.c.id, n.c.status, n.c.source_event_id, n.c.channel, n.c.kind, n.c.attempts,
               n.c.reference)
        .where(n.c.id.in_(wanted)).with_for_update())
    return {row.id: row for row in rows}


async def apply_changes(session: AsyncSession, changes: Sequence[Mapping[str, Any]]) -> None:
    """One UPDATE per set of changed columns, each run for many rows (`id` names the row)."""
    by_columns: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for change in changes:
        by_columns.setdefault(tuple(sorted(k for k in change if k != "id")), []).append(change)
    for columns, group in by_columns.items():
        statement = (
            update(notifications)
            .where(notifications.c.id == bindparam("b_id"))
            .values({column: bindparam(f"b_{column}") for column in columns})
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            statement, [{f"b_{key}": value for key, value in change.items()} for change in group])


async def notifications_by_id(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, AnyRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(notifications).where(notifications.c.id.in_(wanted)))
    return {row.id: row for row in rows}


async def find_notifications(
    session: AsyncSession,
    *,
    recipient_id: uuid.UUID | None = None,
    reference: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
) -> list[AnyRow]:
    """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
    n = notifications
    query = select(n).order_by(n.c.created_at.desc(), n.c.id.desc()).limit(limit)
    if recipient_id is not None:
        query = query.where(n.c.recipient_id == recipient_id)
    if reference is not None:
        query = query.where(n.c.reference == reference)
    if status is not None:
        query = query.where(n.c.status == status)
    if channel is not None:
        query = query.where(n.c.channel == channel)
    if before is not None:
        created_at, last_id = before
        query = query.where(or_(n.c.created_at < created_at,
                                and_(n.c.created_at == created_at, n.c.id < last_id)))
    return list((await session.execute(query)).all())


FORGET_BATCH = 5_000
"""Messages forgotten per statement: short transactions, however long the backlog."""


async def forget_finished(session: AsyncSession, *, created_before: datetime) -> int:
    """Blank the address and words of messages created before the cutoff and no longer queued;
    how many were forgotten (at most `FORGET_BATCH`: call again while it returns that many)."""
    n = notifications
    oldest = (
        select(n.c.id)
        .where(text(REMEMBERED), n.c.created_at < created_before,
               n.c.status != DeliveryStatus.queued)
        .order_by(n.c.created_at)
        .limit(FORGET_BATCH)
    )
    result = await session.execute(
        update(n).where(n.c.id.in_(oldest.scalar_subquery()))
        .values(address="", context={})
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))


def is_forgotten(row: AnyRow) -> bool:
    return bool(row.address == "")


async def requeue_dead_letter(
    session: AsyncSession, notification_id: uuid.UUID, *, now: datetime
) -> bool:
    result = await session.execute(
        update(notifications)
        .where(notifications.c.id == notification_id,
               notifications.c.status == DeliveryStatus.dead_lettered,
               notifications.c.holder.is_(None), notifications.c.address != "")
        .values(status=DeliveryStatus.queued, attempts=0, next_attempt_at=now,
                lease_until=None, reason_code=None, failed_at=None))
    return bool(getattr(result, "rowcount", 0))
