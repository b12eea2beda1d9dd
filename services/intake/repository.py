"""Every query of the intake service, on PostgreSQL and SQLite alike.

Keyword-only functions over the caller's session; none of them commits (the route's or the
consumer's transaction does). Upserts use each dialect's `ON CONFLICT`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import (
    Attachment,
    CallerCheck,
    Chase,
    Citizen,
    Deadline,
    Entity,
    PhoneCode,
    Rating,
    RefreshToken,
    Registration,
    Request,
    Sector,
    StaffAccess,
    TakenEnvelopeId,
    TimelineEntry,
    request_number_seq,
    requests_table,
)
from shared.events.vocabulary import RequestStatus

OPEN_STATUSES = tuple(
    s.value for s in RequestStatus if s not in (RequestStatus.closed, RequestStatus.rejected)
)
# SQLite's stand-in for the sequence (created by the migration on SQLite only).
_request_numbers = table("request_numbers", column("id", Integer))


def _dialect_insert(session: AsyncSession, model: Any) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


# --- the directory --------------------------------------------------------------------------------


async def save_sector(session: AsyncSession, *, values: dict[str, Any]) -> None:
    """Insert or update a sector, unless what we hold was announced later than this."""
    await _save_newer(session, Sector, Sector.code, values)


async def save_entity(session: AsyncSession, *, values: dict[str, Any]) -> None:
    await _save_newer(session, Entity, Entity.code, values)


async def _save_newer(session: AsyncSession, model: Any, key: Any, values: dict[str, Any]) -> None:
    statement = _dialect_insert(session, model).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[key],
            set_={name: statement.excluded[name] for name in values if name != key.key},
            where=model.changed_at <= statement.excluded.changed_at,
        )
    )


async def active_entity(session: AsyncSession, *, code: str) -> Entity | None:
    return (
        await session.execute(select(Entity).where(Entity.code == code, Entity.retired.is_(False)))
    ).scalar_one_or_none()


async def entity(session: AsyncSession, *, code: str) -> Entity | None:
    return await session.get(Entity, code)


# --- people ---------------------------------------------------------------------------------------


async def citizen(session: AsyncSession, *, citizen_id: uuid.UUID,
                  for_update: bool = False) -> Citizen | None:
    statement = select(Citizen).where(Citizen.id == citizen_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def full_names(session: AsyncSession, citizen_ids: set[uuid.UUID]
                     ) -> dict[uuid.UUID, str]:
    """The names of these requesters, in one statement (a batch of submissions names them)."""
    if not citizen_ids:
        return {}
    rows = await session.execute(
        select(Citizen.id, Citizen.full_name).where(Citizen.id.in_(citizen_ids)))
    return {row.id: row.full_name for row in rows}


async def citizen_by_identity(
    session: AsyncSession, *, id_type: str, id_number: str, for_update: bool = False
) -> Citizen | None:
    statement = select(Citizen).where(Citizen.id_type == id_type, Citizen.id_number == id_number)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def unregistered_by_phone(session: AsyncSession, *, phone: str) -> Citizen | None:
    return (
        await session.execute(
            select(Citizen)
            .where(Citizen.phone == phone, Citizen.account == "unregistered",
                   Citizen.id_number.is_(None))
            .order_by(Citizen.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()


async def registration(session: AsyncSession, *, registration_id: uuid.UUID,
                       for_update: bool = False) -> Registration | None:
    statement = select(Registration).where(Registration.id == registration_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def phone_code(session: AsyncSession, *, challenge_id: uuid.UUID) -> PhoneCode | None:
    # Locked: two guesses at once must each count against the same attempts.
    return (
        await session.execute(
            select(PhoneCode).where(PhoneCode.challenge_id == challenge_id).with_for_update()
        )
    ).scalar_one_or_none()


async def caller_check(
    session: AsyncSession, *, check_id: uuid.UUID, agent_id: str, now: datetime
) -> CallerCheck | None:
    return (
        await session.execute(
            select(CallerCheck).where(
                CallerCheck.id == check_id,
                CallerCheck.agent_id == agent_id,
                CallerCheck.expires_at > now,
            )
        )
    ).scalar_one_or_none()


# --- refresh tokens ---------------------------------------------------------------------------


async def refresh_token(session: AsyncSession, *, token_hash: str) -> RefreshToken | None:
    # Locked: two refreshes with one token at once — one rotates it, the other is a reuse.
    return (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
    ).scalar_one_or_none()


async def revoke_family(session: AsyncSession, *, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all_of(session: AsyncSession, *, citizen_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.citizen_id == citizen_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- requests ---------------------------------------------------------------------------------


async def next_request_numbers(session: AsyncSession, count: int) -> list[int]:
    """`count` new serial numbers: one round trip on PostgreSQL, however many."""
    if session.get_bind().dialect.name == "postgresql":
        numbers = await session.execute(
            select(request_number_seq.next_value()).select_from(func.generate_series(1, count))
        )
        return [int(number) for number in numbers.scalars()]
    return [
        int((await session.execute(
            insert(_request_numbers).values().returning(_request_numbers.c.id)
        )).scalar_one())
        for _ in range(count)
    ]


async def add_requests(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    # Values bound at execution: one cached statement, and one multi-row INSERT for them all.
    await session.execute(insert(requests_table), list(rows))


async def request(session: AsyncSession, *, reference: str) -> Request | None:
    return await session.get(Request, reference)


async def requests_of(
    session: AsyncSession,
    *,
    requester_id: uuid.UUID | None = None,
    submitted_by: str | None = None,
    before: datetime | None,
    limit: int,
) -> Sequence[Request]:
    statement = select(Request).order_by(Request.submitted_at.desc()).limit(limit)
    if requester_id is not None:
        statement = statement.where(Request.requester_id == requester_id)
    if submitted_by is not None:
        statement = statement.where(Request.submitted_by == submitted_by)
    if before is not None:
        statement = statement.where(Request.submitted_at < before)
    return (await session.execute(statement)).scalars().all()


async def open_requests_to(
    session: AsyncSession, *, requester_id: uuid.UUID, entity: str, limit: int = 50
) -> Sequence[Request]:
    """The requester's latest open requests to an entity (the duplicate warning's candidates)."""
    return (
        await session.execute(
            select(Request).where(
                Request.requester_id == requester_id,
                Request.entity == entity,
                Request.status.in_(OPEN_STATUSES),
            ).order_by(Request.submitted_at.desc()).limit(limit)
        )
    ).scalars().all()


async def set_status(
    session: AsyncSession,
    *,
    reference: str,
    status: RequestStatus | None,
    at: datetime,
    **fields: Any,
) -> bool:
    """Move a request to `status` (and set `fields`), unless a later event moved it already.

    With `status` None only the fields change (still only if nothing later happened).
    """
    values: dict[str, Any] = dict(fields)
    if status is not None:
        values.update(status=status.value, status_at=at)
    result = await session.execute(
        update(Request)
        .where(Request.reference == reference, Request.status_at <= at)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_holder(session: AsyncSession, *, reference: str, at: datetime,
                     **holder: str | None) -> None:
    """Set who holds a request (entity, sector, distributed_to), unless an event later than
    `at` set it already."""
    await session.execute(
        update(Request)
        .where(Request.reference == reference,
               or_(Request.held_at.is_(None), Request.held_at <= at))
        .values(**holder, held_at=at)
    )


async def add_timeline_entry(
    session: AsyncSession,
    *,
    reference: str,
    event_id: uuid.UUID,
    step: str,
    at: datetime,
    details: dict[str, Any],
) -> None:
    await session.execute(
        _dialect_insert(session, TimelineEntry)
        .values(reference=reference, event_id=event_id, step=step, occurred_at=at,
                details=details)
        .on_conflict_do_nothing(index_elements=[TimelineEntry.event_id])
    )


async def chased_on(session: AsyncSession, *, reference: str, day: date) -> bool:
    found = await session.execute(
        select(Chase.reference).where(Chase.reference == reference, Chase.working_day == day))
    return found.first() is not None


async def add_chase(session: AsyncSession, *, reference: str, day: date, at: datetime,
                    note: str | None) -> bool:
    """Record a chase for `day`; False when one was recorded for it already (even this very
    moment, by another call)."""
    result = await session.execute(
        _dialect_insert(session, Chase)
        .values(reference=reference, working_day=day, chased_at=at, note=note)
        .on_conflict_do_nothing(index_elements=[Chase.reference, Chase.working_day])
    )
    return bool(getattr(result, "rowcount", 0))


async def chase_count(session: AsyncSession, *, reference: str) -> int:
    return int((await session.execute(
        select(func.count()).select_from(Chase).where(Chase.reference == reference))
    ).scalar_one())


async def timeline(session: AsyncSession, *, reference: str) -> Sequence[TimelineEntry]:
    return (
        await session.execute(
            select(TimelineEntry)
            .where(TimelineEntry.reference == reference)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        )
    ).scalars().all()


async def rating(session: AsyncSession, *, reference: str, round: int) -> Rating | None:
    return await session.get(Rating, (reference, round))


async def add_rating(session: AsyncSession, *, values: dict[str, Any]) -> bool:
    """Record a rating of one answer; False when that answer was rated already (meanwhile)."""
    result = await session.execute(
        _dialect_insert(session, Rating).values(**values)
        .on_conflict_do_nothing(index_elements=[Rating.reference, Rating.round])
    )
    return bool(getattr(result, "rowcount", 0))


async def save_deadline(session: AsyncSession, *, values: dict[str, Any]) -> None:
    """Keep the latest-set due time of each (reference, clock, stage); it runs unless an end
    later than it was heard already (the events may arrive out of order)."""
    statement = _dialect_insert(session, Deadline).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Deadline.reference, Deadline.clock, Deadline.stage],
            set_={"entity": statement.excluded.entity, "due_at": statement.excluded.due_at,
                  "set_at": statement.excluded.set_at,
                  "ended_at": case((Deadline.ended_at > statement.excluded.set_at,
                                    Deadline.ended_at), else_=None)},
            where=Deadline.set_at <= statement.excluded.set_at,
        )
    )


async def end_deadline(session: AsyncSession, *, values: dict[str, Any]) -> None:
    """Mark the deadline of (reference, clock, stage) ended, if it was set before the end (one
    set at the same instant is the next one: a transfer ends one entity's and starts
    another's). Heard before its `sla.deadline_set`, the end is kept in its place."""
    ended_at = values["ended_at"]
    if values["due_at"] is None:  # ended while paused: nothing to keep in its place
        await session.execute(
            update(Deadline).where(
                Deadline.reference == values["reference"], Deadline.clock == values["clock"],
                Deadline.stage == values["stage"], Deadline.set_at < ended_at,
            ).values(ended_at=ended_at)
        )
        return
    statement = _dialect_insert(session, Deadline).values(**values, set_at=ended_at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Deadline.reference, Deadline.clock, Deadline.stage],
            set_={"ended_at": statement.excluded.ended_at},
            where=Deadline.set_at < statement.excluded.ended_at,
        )
    )


async def running_deadlines(session: AsyncSession, *, reference: str) -> Sequence[Deadline]:
    return (
        await session.execute(
            select(Deadline)
            .where(Deadline.reference == reference, Deadline.ended_at.is_(None))
            .order_by(Deadline.due_at)
        )
    ).scalars().all()


async def record_staff_access(session: AsyncSession, *, values: dict[str, Any]) -> None:
    await session.execute(insert(StaffAccess).values(**values))


async def staff_access_to(
    session: AsyncSession, *, reference: str, before: int | None, limit: int
) -> Sequence[StaffAccess]:
    """What staff did with a request, newest first (`before`: an entry's id, for the next page)."""
    statement = (select(StaffAccess).where(StaffAccess.reference == reference)
                 .order_by(StaffAccess.id.desc()).limit(limit))
    if before is not None:
        statement = statement.where(StaffAccess.id < before)
    return (await session.execute(statement)).scalars().all()


# --- attachments ------------------------------------------------------------------------------


async def add_attachment(session: AsyncSession, *, values: dict[str, Any]) -> None:
    await session.execute(insert(Attachment).values(**values))


async def attach(
    session: AsyncSession,
    *,
    attachment_ids: Sequence[uuid.UUID],
    owner_id: str,
    reference: str,
) -> int:
    """Link the owner's unattached uploads to a request; returns how many were linked."""
    result = await session.execute(
        update(Attachment)
        .where(Attachment.id.in_(attachment_ids), Attachment.owner_id == owner_id,
               Attachment.reference.is_(None))
        .values(reference=reference)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def attachment_ids(session: AsyncSession, *, reference: str) -> list[uuid.UUID]:
    return list(
        (
            await session.execute(
                select(Attachment.id)
                .where(Attachment.reference == reference)
                .order_by(Attachment.created_at)
            )
        ).scalars()
    )


async def attachments_of(session: AsyncSession, *, reference: str) -> Sequence[Attachment]:
    """The request's files, oldest first; their bytes not loaded."""
    return (
        await session.execute(
            select(Attachment).where(Attachment.reference == reference)
            .order_by(Attachment.created_at, Attachment.id)
        )
    ).scalars().all()


async def attachments_on(session: AsyncSession, *, reference: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(Attachment)
                .where(Attachment.reference == reference)
            )
        ).scalar_one()
    )


async def attachment(session: AsyncSession, *, attachment_id: uuid.UUID) -> Attachment | None:
    """The attachment's row, its bytes not loaded (`attachment_bytes` reads them)."""
    return await session.get(Attachment, attachment_id)


async def attachment_bytes(session: AsyncSession, *, attachment_id: uuid.UUID) -> bytes:
    return bytes(
        (await session.execute(select(Attachment.content).where(Attachment.id == attachment_id)))
        .scalar_one()
    )


async def purge_unattached(session: AsyncSession, *, older_than: datetime) -> None:
    await session.execute(
        delete(Attachment).where(
            Attachment.reference.is_(None), Attachment.created_at < older_than
        )
    )


# --- corruption reports ---------------------------------------------------------------------


async def take_envelope_id(session: AsyncSession, *, envelope_id: uuid.UUID) -> bool:
    """Take a report envelope's id; False when it was taken before (or is being taken by a
    transaction that then commits: PostgreSQL waits for it)."""
    taken = await session.execute(
        _dialect_insert(session, TakenEnvelopeId)
        .values(envelope_id=envelope_id)
        .on_conflict_do_nothing()
        .returning(TakenEnvelopeId.envelope_id)
    )
    return taken.first() is not None
