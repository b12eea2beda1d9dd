"""Every query of the directory. Repositories read and write; they never decide or commit."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Select,
    String,
    cast,
    delete,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.models import (
    Classification,
    DirectoryLog,
    Entity,
    Governorate,
    Person,
    PersonPermission,
    RoleAssignment,
    RolePermission,
    Sector,
    SeedRun,
)
from shared.events.vocabulary import RequestKind, Role


async def claim_seed(session: AsyncSession, name: str, *, now: datetime) -> bool:
    """Whether this transaction is the one that seeds `name` (exactly one ever is: a second
    claimant waits on the first's row lock, then finds it)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claimed = await session.execute(
        dialect.insert(SeedRun).values(name=name, seeded_at=now)
        .on_conflict_do_nothing().returning(SeedRun.name)
    )
    return claimed.first() is not None


# --- sectors, entities, governorates, classifications ----------------------------------------


async def sectors(session: AsyncSession, *, include_retired: bool) -> Sequence[Sector]:
    query = select(Sector).order_by(Sector.code)
    if not include_retired:
        query = query.where(Sector.retired_at.is_(None))
    return (await session.scalars(query)).all()


async def sector(session: AsyncSession, code: str) -> Sector | None:
    return await session.get(Sector, code)


async def entities(
    session: AsyncSession, *, sector_code: str | None = None, include_retired: bool = False
) -> Sequence[Entity]:
    query = select(Entity).order_by(Entity.sector_code, Entity.code)
    if sector_code is not None:
        query = query.where(Entity.sector_code == sector_code)
    if not include_retired:
        query = query.where(Entity.retired_at.is_(None))
    return (await session.scalars(query)).all()


async def entity(session: AsyncSession, code: str) -> Entity | None:
    return await session.get(Entity, code)


async def entities_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Entity]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = await session.scalars(select(Entity).where(Entity.code.in_(wanted)))
    return {row.code: row for row in rows}


async def has_active_children(session: AsyncSession, *, sector_code: str | None = None,
                              parent_code: str | None = None) -> bool:
    query = select(Entity.code).where(Entity.retired_at.is_(None)).limit(1)
    if sector_code is not None:
        query = query.where(Entity.sector_code == sector_code)
    if parent_code is not None:
        query = query.where(Entity.parent_code == parent_code)
    return (await session.execute(query)).first() is not None


async def governorates(session: AsyncSession) -> Sequence[Governorate]:
    return (await session.scalars(select(Governorate).order_by(Governorate.code))).all()


async def classifications(
    session: AsyncSession, *, kind: RequestKind | None, include_retired: bool
) -> Sequence[Classification]:
    query = select(Classification).order_by(Classification.kind, Classification.code)
    if kind is not None:
        query = query.where(Classification.kind == kind)
    if not include_retired:
        query = query.where(Classification.retired_at.is_(None))
    return (await session.scalars(query)).all()


async def classification(session: AsyncSession, code: str) -> Classification | None:
    return await session.get(Classification, code)


# --- people and their roles --------------------------------------------------------------------


async def person(session: AsyncSession, person_id: uuid.UUID) -> Person | None:
    return await session.get(Person, person_id)


async def full_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Person.id, Person.full_name).where(Person.id.in_(wanted)))
    return {person_id: name for person_id, name in rows}


async def person_by_username(session: AsyncSession, username: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.username == username))


async def people(
    session: AsyncSession,
    *,
    role: Role | None,
    sector_code: str | None,
    entity_code: str | None,
    active: bool | None,
    after: str | None,
    limit: int,
    words: str | None = None,
) -> Sequence[Person]:
    """People by username; optionally only those holding a role or scope now, and only those
    whose username or full name holds `words` (any case; `%` and `_` are plain characters)."""
    query = select(Person).order_by(Person.username).limit(limit)
    if active is not None:
        query = query.where(Person.active.is_(active))
    if words:
        query = query.where(Person.username.icontains(words, autoescape=True)
                            | Person.full_name.icontains(words, autoescape=True))
    if after is not None:
        query = query.where(Person.username > after)
    if role is not None or sector_code is not None or entity_code is not None:
        holding = select(RoleAssignment.person_id).where(RoleAssignment.revoked_at.is_(None))
        if role is not None:
            holding = holding.where(RoleAssignment.role == role)
        if sector_code is not None:
            holding = holding.where(RoleAssignment.sector_code == sector_code)
        if entity_code is not None:
            holding = holding.where(RoleAssignment.entity_code == entity_code)
        query = query.where(Person.id.in_(holding))
    return (await session.scalars(query)).all()


async def current_assignments(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[RoleAssignment]]:
    wanted = set(person_ids)
    found: dict[uuid.UUID, list[RoleAssignment]] = defaultdict(list)
    if wanted:
        rows = await session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.person_id.in_(wanted), RoleAssignment.revoked_at.is_(None))
            .order_by(RoleAssignment.granted_at, RoleAssignment.id)
        )
        for row in rows:
            found[row.person_id].append(row)
    return found


async def assignment(session: AsyncSession, assignment_id: uuid.UUID) -> RoleAssignment | None:
    return await session.get(RoleAssignment, assignment_id)


@dataclass(frozen=True, slots=True)
class Standing:
    """What the directory says of a person right now: whether active, and the current role
    with its scope (role None: no current role)."""

    active: bool
    role: Role | None
    sector_codes: frozenset[str]
    entity_codes: frozenset[str]


def _standing_of(rows: Sequence[Any]) -> Standing | None:
    if not rows:
        return None
    roles = {row.role for row in rows if row.role is not None}
    return Standing(
        active=bool(rows[0].active),
        # A person holds one role at a time (the service keeps it so); anything else is no role.
        role=Role(roles.pop()) if len(roles) == 1 else None,
        sector_codes=frozenset(row.sector_code for row in rows if row.sector_code),
        entity_codes=frozenset(row.entity_code for row in rows if row.entity_code),
    )


def _standing_query(
    person_id: uuid.UUID,
) -> Select[bool, Role, str | None, str | None]:
    return (
        select(Person.active, RoleAssignment.role, RoleAssignment.sector_code,
               RoleAssignment.entity_code)
        .outerjoin(RoleAssignment, (RoleAssignment.person_id == Person.id)
                   & RoleAssignment.revoked_at.is_(None))
        .where(Person.id == person_id)
    )


async def standing(session: AsyncSession, person_id: uuid.UUID) -> Standing | None:
    """One round trip: the person and their current assignments (None: no such person)."""
    return _standing_of((await session.execute(_standing_query(person_id))).all())


@dataclass(frozen=True, slots=True)
class Access:
    standing: Standing | None
    role_permissions: list[str]
    overrides: dict[str, bool]


async def access(session: AsyncSession, person_id: uuid.UUID, role: Role) -> Access:
    """Every staff request's question in one round trip: the person's standing, what `role`
    (the token's) may do, and the person's own grants and denials."""
    none_text, none_flag = cast(null(), String), cast(null(), Boolean)
    standing_rows = _standing_query(person_id).add_columns(
        literal("standing").label("part"), none_text.label("permission"),
        none_flag.label("granted"))
    rows = (await session.execute(union_all(
        standing_rows,
        select(none_flag, cast(null(), String), none_text, none_text, literal("role"),
               RolePermission.permission, none_flag).where(RolePermission.role == role),
        select(none_flag, cast(null(), String), none_text, none_text, literal("person"),
               PersonPermission.permission, PersonPermission.granted)
        .where(PersonPermission.person_id == person_id),
    ))).all()
    return Access(
        standing=_standing_of([r for r in rows if r.part == "standing"]),
        role_permissions=[r.permission for r in rows if r.part == "role"],
        overrides={r.permission: bool(r.granted) for r in rows if r.part == "person"},
    )


async def officers(
    session: AsyncSession, role: Role, *, sector_codes: Iterable[str] = (),
    entity_codes: Iterable[str] = (),
) -> dict[str, list[uuid.UUID]]:
    """Active people currently holding `role`, by the sector (or entity) they hold it for."""
    sectors_wanted, entities_wanted = set(sector_codes), set(entity_codes)
    scope = (RoleAssignment.sector_code if sectors_wanted else RoleAssignment.entity_code)
    wanted = sectors_wanted or entities_wanted
    if not wanted:
        return {}
    rows = await session.execute(
        select(scope, RoleAssignment.person_id)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role == role, RoleAssignment.revoked_at.is_(None),
               scope.in_(wanted), Person.active.is_(True))
        .order_by(scope, RoleAssignment.person_id)
    )
    found: dict[str, list[uuid.UUID]] = defaultdict(list)
    for code, person_id in rows:
        if code is not None:
            found[code].append(person_id)
    return found


# --- permissions -------------------------------------------------------------------------------


async def role_permissions(session: AsyncSession) -> dict[Role, list[str]]:
    found: dict[Role, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(RolePermission.role, RolePermission.permission)
        .order_by(RolePermission.role, RolePermission.permission)
    )
    for role, permission in rows:
        found[role].append(permission)
    return found


async def replace_role_permissions(
    session: AsyncSession, role: Role, permissions: Iterable[str]
) -> None:
    await session.execute(delete(RolePermission).where(RolePermission.role == role))
    rows: list[dict[str, object]] = [
        {"role": role, "permission": p} for p in sorted(set(permissions))]
    if rows:
        await session.execute(insert(RolePermission), rows)


async def person_overrides(session: AsyncSession, person_id: uuid.UUID) -> dict[str, bool]:
    rows = await session.execute(
        select(PersonPermission.permission, PersonPermission.granted)
        .where(PersonPermission.person_id == person_id)
    )
    return {permission: granted for permission, granted in rows}


async def replace_person_overrides(
    session: AsyncSession, person_id: uuid.UUID, overrides: dict[str, bool]
) -> None:
    await session.execute(delete(PersonPermission).where(PersonPermission.person_id == person_id))
    rows: list[dict[str, object]] = [{"person_id": person_id, "permission": p, "granted": g}
                                     for p, g in sorted(overrides.items())]
    if rows:
        await session.execute(insert(PersonPermission), rows)


# --- the change log ------------------------------------------------------------------------------


async def changes(
    session: AsyncSession, *, subject: str | None, key: str | None, before_id: int | None,
    limit: int,
) -> Sequence[DirectoryLog]:
    """Newest first; `before_id` pages back."""
    query = select(DirectoryLog).order_by(DirectoryLog.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(DirectoryLog.subject == subject)
    if key is not None:
        query = query.where(DirectoryLog.key == key)
    if before_id is not None:
        query = query.where(DirectoryLog.id < before_id)
    return (await session.scalars(query)).all()
