"""Decisions about the directory: CMU administrators create, rename, move and retire; every
change is logged (who, when, before, after) and announced by a `directory.*` event in the same
transaction, so the other services' copies follow.

Retiring keeps the row: old requests still name it and the history stays readable; a retired
sector, entity or classification takes no new requests and no new officers. People are never
deleted: they are deactivated, which takes effect on their next request.

What it must never do: log or announce a password or its hash; leave the CMU without anyone
who can manage staff; commit (the caller's transaction does).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.directory import repository
from services.routing.directory.schemas import (
    ClassificationCreate,
    ClassificationUpdate,
    EntityCreate,
    EntityUpdate,
    PersonCreate,
    PersonUpdate,
    RoleGrant,
    SectorCreate,
    SectorUpdate,
)
from services.routing.exceptions import (
    AlreadyExists,
    DirectoryNotFound,
    InvalidInput,
    Retired,
)
from services.routing.models import (
    Classification,
    DirectoryLog,
    Entity,
    Person,
    RoleAssignment,
    Sector,
    StaffSession,
)
from services.routing.permissions import Permission
from shared.bus import Outbox
from shared.clock import Clock
from shared.errors import Conflict, Text, on_field
from shared.events.catalog import (
    DirectoryEntityChanged,
    DirectoryPersonChanged,
    DirectoryRoleChanged,
    DirectorySectorChanged,
)
from shared.events.envelope import EventPayload
from shared.events.vocabulary import STAFF_ROLES, DirectoryChange, Role
from shared.passwords import hash_password, password_problem

SECTOR_ROLES: Final = frozenset({Role.main_liaison_officer, Role.minister})
ENTITY_ROLES: Final = frozenset({Role.sub_liaison_officer, Role.entity_head})


def canonical_json(value: Any) -> str:
    """One spelling of a value: sorted keys, no spaces, Arabic kept as written."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


# --- what is logged and announced --------------------------------------------------------------


def log(
    session: AsyncSession, *, at: datetime, actor_id: uuid.UUID | None, subject: str, key: str,
    change: str, before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    session.add(DirectoryLog(
        occurred_at=at, actor_id=actor_id, subject=subject, key=key, change=change,
        details=canonical_json({"before": before, "after": after}),
    ))


def sector_snapshot(sector: Sector) -> dict[str, Any]:
    return {"name_ar": sector.name_ar, "name_en": sector.name_en,
            "retired_at": sector.retired_at}


def entity_snapshot(entity: Entity) -> dict[str, Any]:
    return {"sector": entity.sector_code, "parent": entity.parent_code, "kind": entity.kind,
            "name_ar": entity.name_ar, "name_en": entity.name_en,
            "retired_at": entity.retired_at}


def classification_snapshot(classification: Classification) -> dict[str, Any]:
    return {"kind": classification.kind, "name_ar": classification.name_ar,
            "name_en": classification.name_en,
            "max_working_days": classification.max_working_days,
            "retired_at": classification.retired_at}


def person_snapshot(person: Person) -> dict[str, Any]:
    # Never the password hash.
    return {"username": person.username, "full_name": person.full_name, "phone": person.phone,
            "email": person.email, "language": person.language,
            "notice_channel": person.notice_channel, "active": person.active}


def assignment_snapshot(assignment: RoleAssignment) -> dict[str, Any]:
    return {"person_id": assignment.person_id, "role": assignment.role,
            "sector": assignment.sector_code, "entity": assignment.entity_code}


def sector_changed(sector: Sector, change: DirectoryChange) -> DirectorySectorChanged:
    return DirectorySectorChanged(sector=sector.code, name_ar=sector.name_ar,
                                  name_en=sector.name_en, change=change)


def entity_changed(entity: Entity, change: DirectoryChange) -> DirectoryEntityChanged:
    return DirectoryEntityChanged(entity=entity.code, sector=entity.sector_code,
                                  parent=entity.parent_code, name_ar=entity.name_ar,
                                  name_en=entity.name_en, change=change)


def person_changed(person: Person, change: DirectoryChange) -> DirectoryPersonChanged:
    return DirectoryPersonChanged(person_id=person.id, phone=person.phone, email=person.email,
                                  language=person.language,
                                  notice_channel=person.notice_channel, change=change)


def role_changed(assignment: RoleAssignment, *, granted: bool) -> DirectoryRoleChanged:
    return DirectoryRoleChanged(person_id=assignment.person_id, role=assignment.role,
                                entity=assignment.entity_code, sector=assignment.sector_code,
                                granted=granted)


def _retired(at: datetime | None) -> DirectoryChange:
    return DirectoryChange.retired if at is not None else DirectoryChange.updated


# --- sectors, entities, classifications ---------------------------------------------------------

Master = Sector | Entity | Classification


@dataclass(frozen=True, slots=True)
class _Kind:
    """How changes of one kind of master data are logged and announced."""

    subject: str
    snapshot: Callable[[Any], dict[str, Any]]
    announce: Callable[[Any, DirectoryChange], EventPayload] | None = None


SECTORS: Final = _Kind("sector", sector_snapshot, sector_changed)
ENTITIES: Final = _Kind("entity", entity_snapshot, entity_changed)
CLASSIFICATIONS: Final = _Kind("classification", classification_snapshot)


async def _record(session: AsyncSession, kind: _Kind, row: Master, *, outbox: Outbox | None,
                  clock: Clock, actor_id: uuid.UUID, change: str,
                  before: dict[str, Any] | None = None) -> None:
    """Stamp, log (before and after) and announce one change of a row."""
    now = clock.now()
    row.updated_at = now
    log(session, at=now, actor_id=actor_id, subject=kind.subject, key=row.code, change=change,
        before=before, after=kind.snapshot(row))
    if kind.announce is not None and outbox is not None:
        state = DirectoryChange.created if change == "created" else _retired(row.retired_at)
        await outbox.add(session, kind.announce(row, state))


def _apply(row: Master, changes: BaseModel) -> None:
    for field in changes.model_fields_set:
        value = getattr(changes, field)
        if value is not None:
            setattr(row, field, value)


async def _retire(session: AsyncSession, kind: _Kind, row: Master, *, outbox: Outbox | None,
                  clock: Clock, actor_id: uuid.UUID, blocked: Text | None = None) -> Master:
    """Retire once (again is a no-op); `blocked` says why it cannot be, when it cannot."""
    if row.retired_at is not None:
        return row
    if blocked is not None:
        raise Conflict(blocked)
    before = kind.snapshot(row)
    row.retired_at = clock.now()
    await _record(session, kind, row, outbox=outbox, clock=clock, actor_id=actor_id,
                  change="retired", before=before)
    return row


async def _sector(session: AsyncSession, code: str) -> Sector:
    found = await repository.sector(session, code)
    if found is None:
        raise DirectoryNotFound("sector", code)
    return found


async def _active_sector(session: AsyncSession, code: str, *, field: str | None = None
                         ) -> Sector:
    """A sector a body names (in `field`): unknown is bad input (422), retired a conflict."""
    found = await repository.sector(session, code)
    if found is None:
        raise on_field(InvalidInput(Text(f"لا يوجد قطاع بالرمز {code}.",
                                         f"There is no sector {code}."), sector=code), field)
    if found.retired_at is not None:
        raise on_field(Retired(Text(f"أُوقف العمل بالقطاع {code}.",
                                    f"The sector {code} is retired.")), field)
    return found


async def create_sector(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID,
    new: SectorCreate,
) -> Sector:
    if await repository.sector(session, new.code) is not None:
        raise on_field(AlreadyExists(Text(f"القطاع {new.code} موجود.",
                                          f"The sector {new.code} exists.")), "code")
    sector = Sector(code=new.code, name_ar=new.name_ar, name_en=new.name_en,
                    created_at=clock.now(), retired_at=None)
    session.add(sector)
    await _record(session, SECTORS, sector, outbox=outbox, clock=clock, actor_id=actor_id,
                  change="created")
    return sector


async def update_sector(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID, code: str,
    changes: SectorUpdate,
) -> Sector:
    sector = await _sector(session, code)
    before = sector_snapshot(sector)
    _apply(sector, changes)
    await _record(session, SECTORS, sector, outbox=outbox, clock=clock, actor_id=actor_id,
                  change="updated", before=before)
    return sector


async def retire_sector(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID, code: str,
) -> Sector:
    sector = await _sector(session, code)
    blocked = (Text("أوقف العمل بجهات القطاع أولاً.", "Retire the sector's entities first.")
               if await repository.has_active_children(session, sector_code=code) else None)
    await _retire(session, SECTORS, sector, outbox=outbox, clock=clock, actor_id=actor_id,
                  blocked=blocked)
    return sector


async def _entity(session: AsyncSession, code: str) -> Entity:
    found = await repository.entity(session, code)
    if found is None:
        raise DirectoryNotFound("entity", code)
    return found


async def active_entity(session: AsyncSession, code: str, *, field: str | None = None
                        ) -> Entity:
    """An entity a body names (in `field`): unknown is bad input (422), retired a conflict (409)."""
    found = await repository.entity(session, code)
    if found is None:
        raise on_field(InvalidInput(Text(f"لا توجد جهة بالرمز {code}.",
                                         f"There is no entity {code}."), entity=code), field)
    if found.retired_at is not None:
        raise on_field(Retired(Text(f"أُوقف العمل بالجهة {code}.",
                                    f"The entity {code} is retired.")), field)
    return found


async def _check_parent(session: AsyncSession, entity_code: str, parent_code: str,
                        sector_code: str) -> None:
    parent: Entity | None = await active_entity(session, parent_code, field="parent")
    assert parent is not None
    if parent.sector_code != sector_code:
        raise on_field(InvalidInput(Text("الجهة الأم في قطاع آخر.",
                                         "The parent is in another sector.")), "parent")
    seen = {entity_code}
    while parent is not None:  # a department's parent may not be below it
        if parent.code in seen:
            raise on_field(InvalidInput(Text("تسلسل الجهات يدور على نفسه.",
                                             "The parent chain would loop.")), "parent")
        seen.add(parent.code)
        parent = (await repository.entity(session, parent.parent_code)
                  if parent.parent_code else None)


async def create_entity(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID,
    new: EntityCreate,
) -> Entity:
    if await repository.entity(session, new.code) is not None:
        raise on_field(AlreadyExists(Text(f"الجهة {new.code} موجودة.",
                                          f"The entity {new.code} exists.")), "code")
    await _active_sector(session, new.sector, field="sector")
    if new.parent is not None:
        await _check_parent(session, new.code, new.parent, new.sector)
    entity = Entity(code=new.code, sector_code=new.sector, parent_code=new.parent,
                    kind=new.kind.value, name_ar=new.name_ar, name_en=new.name_en,
                    receives_reports=False, created_at=clock.now(), retired_at=None)
    session.add(entity)
    await _record(session, ENTITIES, entity, outbox=outbox, clock=clock, actor_id=actor_id,
                  change="created")
    return entity


async def update_entity(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID, code: str,
    changes: EntityUpdate,
) -> Entity:
    entity = await _entity(session, code)
    if entity.retired_at is not None:
        raise Retired(Text(f"أُوقف العمل بالجهة {code}.", f"The entity {code} is retired."))
    before = entity_snapshot(entity)
    fields = changes.model_fields_set
    sector_code = changes.sector if "sector" in fields and changes.sector else entity.sector_code
    if sector_code != entity.sector_code:
        await _active_sector(session, sector_code, field="sector")
        if await repository.has_active_children(session, parent_code=code):
            raise Conflict(Text("انقل الدوائر التابعة أولاً.", "Move its departments first."))
    parent_code = changes.parent if "parent" in fields else entity.parent_code
    if parent_code is not None:
        await _check_parent(session, code, parent_code, sector_code)
    entity.sector_code, entity.parent_code = sector_code, parent_code
    if changes.kind is not None:
        entity.kind = changes.kind.value
    entity.name_ar = changes.name_ar or entity.name_ar
    entity.name_en = changes.name_en or entity.name_en
    await _record(session, ENTITIES, entity, outbox=outbox, clock=clock, actor_id=actor_id,
                  change="updated", before=before)
    return entity


async def retire_entity(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID, code: str,
) -> Entity:
    entity = await _entity(session, code)
    blocked = (Text("أوقف العمل بالدوائر التابعة أولاً.", "Retire its departments first.")
               if await repository.has_active_children(session, parent_code=code) else None)
    await _retire(session, ENTITIES, entity, outbox=outbox, clock=clock, actor_id=actor_id,
                  blocked=blocked)
    return entity


async def _classification(session: AsyncSession, code: str) -> Classification:
    found = await repository.classification(session, code)
    if found is None:
        raise DirectoryNotFound("classification", code)
    return found


async def create_classification(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, new: ClassificationCreate,
) -> Classification:
    if await repository.classification(session, new.code) is not None:
        raise on_field(AlreadyExists(Text(f"التصنيف {new.code} موجود.",
                                          f"The classification {new.code} exists.")), "code")
    classification = Classification(
        code=new.code, kind=new.kind, name_ar=new.name_ar, name_en=new.name_en,
        max_working_days=new.max_working_days, created_at=clock.now(), retired_at=None,
    )
    session.add(classification)
    await _record(session, CLASSIFICATIONS, classification, outbox=None, clock=clock,
                  actor_id=actor_id, change="created")
    return classification


async def update_classification(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, code: str,
    changes: ClassificationUpdate,
) -> Classification:
    classification = await _classification(session, code)
    before = classification_snapshot(classification)
    _apply(classification, changes)
    await _record(session, CLASSIFICATIONS, classification, outbox=None, clock=clock,
                  actor_id=actor_id, change="updated", before=before)
    return classification


async def retire_classification(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, code: str,
) -> Classification:
    classification = await _classification(session, code)
    await _retire(session, CLASSIFICATIONS, classification, outbox=None, clock=clock,
                  actor_id=actor_id)
    return classification


# --- people --------------------------------------------------------------------------------------


async def _person(session: AsyncSession, person_id: uuid.UUID) -> Person:
    found = await repository.person(session, person_id)
    if found is None:
        raise DirectoryNotFound("person", str(person_id))
    return found


def _checked_password(password: str, *personal: str | None, field: str = "password") -> str:
    """The password, unless the rules refuse it (the refusal names the body's `field`)."""
    problem = password_problem(password, personal=tuple(p for p in personal if p))
    if problem is not None:
        raise on_field(InvalidInput(problem, field=field), field)
    return password


async def revoke_sessions(session: AsyncSession, person_id: uuid.UUID, *, now: datetime) -> None:
    """Sign the person out everywhere: no refresh token of theirs works any more."""
    await session.execute(
        update(StaffSession)
        .where(StaffSession.person_id == person_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def create_person(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID | None,
    new: PersonCreate,
) -> Person:
    """A new staff member (`actor_id` None: the operators' bootstrap, `bootstrap.py`)."""
    if await repository.person_by_username(session, new.username) is not None:
        raise on_field(AlreadyExists(Text("اسم المستخدم مستخدم.", "The username is taken.")),
                       "username")
    password = _checked_password(new.password, new.username, new.full_name, new.phone,
                                 new.email)
    now = clock.now()
    person = Person(
        id=uuid.uuid4(), username=new.username, full_name=new.full_name, phone=new.phone,
        email=new.email, language=new.language, notice_channel=new.notice_channel,
        password_hash=await hash_password(password), active=True, failed_sign_ins=0,
        locked_until=None, created_at=now, updated_at=now,
    )
    session.add(person)
    log(session, at=now, actor_id=actor_id, subject="person", key=str(person.id),
        change="created", after=person_snapshot(person))
    await outbox.add(session, person_changed(person, DirectoryChange.created))
    if new.role is not None:
        await session.flush()  # the assignment refers to the person
        await grant_role(session, outbox=outbox, clock=clock, actor_id=actor_id,
                         person_id=person.id, grant=new.role, within="role.")
    return person


async def update_person(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID,
    person_id: uuid.UUID, changes: PersonUpdate,
) -> Person:
    person = await _person(session, person_id)
    fields = changes.model_fields_set
    if changes.active is False and person_id == actor_id:
        raise Conflict(Text("لا يمكنك إيقاف حسابك بنفسك.", "You cannot deactivate yourself."))
    before = person_snapshot(person)
    for field in ("full_name", "language", "notice_channel", "active"):
        value = getattr(changes, field)
        if field in fields and value is not None:
            setattr(person, field, value)
    for field in ("phone", "email"):  # contact points may be cleared with null
        if field in fields:
            setattr(person, field, getattr(changes, field))
    contact_point = "phone" if person.notice_channel == "sms" else "email"
    if getattr(person, contact_point) is None:
        raise on_field(InvalidInput(Text("قناة الإشعار تحتاج رقم هاتف أو بريداً.",
                                         "The notice channel needs its contact point.")),
                       contact_point)
    now = clock.now()
    person.updated_at = now
    deactivated = before["active"] and not person.active
    if deactivated:
        await revoke_sessions(session, person.id, now=now)
    change = "deactivated" if deactivated else (
        "reactivated" if person.active and not before["active"] else "updated")
    log(session, at=now, actor_id=actor_id, subject="person", key=str(person.id),
        change=change, before=before, after=person_snapshot(person))
    await outbox.add(session, person_changed(
        person, DirectoryChange.updated if person.active else DirectoryChange.retired))
    return person


async def reset_password(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, person_id: uuid.UUID,
    new_password: str,
) -> Person:
    person = await _person(session, person_id)
    password = _checked_password(new_password, person.username, person.full_name, person.phone,
                                 person.email, field="new_password")
    await set_password(session, person, password, now=clock.now())
    log(session, at=clock.now(), actor_id=actor_id, subject="person", key=str(person.id),
        change="password_reset")
    return person


async def set_password(session: AsyncSession, person: Person, password: str, *,
                       now: datetime) -> None:
    person.password_hash = await hash_password(password)
    person.failed_sign_ins = 0
    person.locked_until = None
    person.updated_at = now
    await revoke_sessions(session, person.id, now=now)


# --- roles ---------------------------------------------------------------------------------------


async def _scope(session: AsyncSession, grant: RoleGrant, *, within: str = ""
                 ) -> tuple[str | None, str | None]:
    """The grant's sector and entity, checked; a refusal names the field it is about (under
    `within`, the grant's place in the body: `role.` when it comes with a new person)."""
    if grant.role not in STAFF_ROLES:
        raise on_field(InvalidInput(Text("هذا الدور لا يُمنح لموظف.",
                                         "This role is not a staff role."), role=grant.role),
                       f"{within}role")
    if grant.role in SECTOR_ROLES:
        if grant.sector is None or grant.entity is not None:
            raise on_field(InvalidInput(Text("هذا الدور يُمنح لقطاع واحد.",
                                             "This role is held for one sector."),
                                        role=grant.role),
                           f"{within}{'sector' if grant.sector is None else 'entity'}")
        await _active_sector(session, grant.sector, field=f"{within}sector")
        return grant.sector, None
    if grant.role in ENTITY_ROLES:
        if grant.entity is None or grant.sector is not None:
            raise on_field(InvalidInput(Text("هذا الدور يُمنح لجهة أو دائرة واحدة.",
                                             "This role is held for one entity or department."),
                                        role=grant.role),
                           f"{within}{'entity' if grant.entity is None else 'sector'}")
        await active_entity(session, grant.entity, field=f"{within}entity")
        return None, grant.entity
    if grant.sector is not None or grant.entity is not None:
        raise on_field(InvalidInput(Text("هذا الدور لا يُقيَّد بقطاع أو جهة.",
                                         "This role has no sector or entity."), role=grant.role),
                       f"{within}{'sector' if grant.sector is not None else 'entity'}")
    return None, None


async def grant_role(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID | None,
    person_id: uuid.UUID, grant: RoleGrant, within: str = "",
) -> RoleAssignment:
    """Give a role for a scope. A person holds one role at a time: another role ends the
    current one (its scopes are revoked, announced, and the person's tokens stop working).
    `within`: where the grant sits in the request's body, for the fields a refusal names."""
    person = await _person(session, person_id)
    sector_code, entity_code = await _scope(session, grant, within=within)
    current = (await repository.current_assignments(session, [person.id]))[person.id]
    if person_id == actor_id and any(a.role is not grant.role for a in current):
        raise Conflict(Text("لا يمكنك تغيير دورك بنفسك.", "You cannot change your own role."))
    if any(a.role is grant.role and a.sector_code == sector_code
           and a.entity_code == entity_code for a in current):
        raise AlreadyExists(Text("هذا التكليف قائم.", "This assignment already exists."))
    now = clock.now()
    for other in current:
        if other.role is not grant.role:
            await _revoke(session, outbox, other, actor_id=actor_id, now=now)
    assignment = RoleAssignment(
        id=uuid.uuid4(), person_id=person.id, role=grant.role, sector_code=sector_code,
        entity_code=entity_code, granted_at=now, granted_by=actor_id, revoked_at=None,
        revoked_by=None,
    )
    session.add(assignment)
    log(session, at=now, actor_id=actor_id, subject="role", key=str(assignment.id),
        change="granted", after=assignment_snapshot(assignment))
    await outbox.add(session, role_changed(assignment, granted=True))
    return assignment


async def revoke_role(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, actor_id: uuid.UUID,
    person_id: uuid.UUID, assignment_id: uuid.UUID,
) -> RoleAssignment:
    assignment = await repository.assignment(session, assignment_id)
    if assignment is None or assignment.person_id != person_id:
        raise DirectoryNotFound("assignment", str(assignment_id))
    if person_id == actor_id:
        raise Conflict(Text("لا يمكنك تغيير دورك بنفسك.", "You cannot change your own role."))
    if assignment.revoked_at is None:
        await _revoke(session, outbox, assignment, actor_id=actor_id, now=clock.now())
    return assignment


async def _revoke(session: AsyncSession, outbox: Outbox, assignment: RoleAssignment, *,
                  actor_id: uuid.UUID | None, now: datetime) -> None:
    assignment.revoked_at = now
    assignment.revoked_by = actor_id
    log(session, at=now, actor_id=actor_id, subject="role", key=str(assignment.id),
        change="revoked", before=assignment_snapshot(assignment))
    await outbox.add(session, role_changed(assignment, granted=False))


# --- permissions ---------------------------------------------------------------------------------


def _staff_role(role: Role) -> Role:
    if role not in STAFF_ROLES:
        raise InvalidInput(Text("هذا الدور ليس دور موظف.", "This is not a staff role."),
                           role=role)
    return role


async def set_role_permissions(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, role: Role,
    permissions: Iterable[Permission],
) -> list[str]:
    wanted = sorted({p.value for p in permissions})
    if _staff_role(role) is Role.cmu_admin and Permission.manage_staff.value not in wanted:
        # Otherwise nobody could ever grant it back.
        raise Conflict(Text("يجب أن يبقى لمسؤولي الوحدة إدارة الموظفين.",
                            "CMU administrators must keep managing staff."))
    before = (await repository.role_permissions(session)).get(role, [])
    await repository.replace_role_permissions(session, role, wanted)
    log(session, at=clock.now(), actor_id=actor_id, subject="permissions", key=role.value,
        change="updated", before={"permissions": before}, after={"permissions": wanted})
    return wanted


async def set_person_permissions(
    session: AsyncSession, *, clock: Clock, actor_id: uuid.UUID, person_id: uuid.UUID,
    grants: Iterable[Permission], denials: Iterable[Permission],
) -> dict[str, bool]:
    await _person(session, person_id)
    if person_id == actor_id:
        raise Conflict(Text("لا يمكنك تعديل صلاحياتك بنفسك.",
                            "You cannot change your own permissions."))
    overrides = {p.value: True for p in grants} | {p.value: False for p in denials}
    before = await repository.person_overrides(session, person_id)
    await repository.replace_person_overrides(session, person_id, overrides)
    log(session, at=clock.now(), actor_id=actor_id, subject="permissions", key=str(person_id),
        change="updated", before={"overrides": before}, after={"overrides": overrides})
    return overrides


# --- announcing ----------------------------------------------------------------------------------


async def announce_everything(session: AsyncSession, *, outbox: Outbox) -> dict[str, int]:
    """Announce the whole directory again (idempotent for consumers: each event carries the
    whole row). For a service whose queue did not exist when something was first announced."""
    sectors = await repository.sectors(session, include_retired=True)
    entities = await repository.entities(session, include_retired=True)
    people = (await session.scalars(select(Person).order_by(Person.username))).all()
    assignments = await repository.current_assignments(session, [p.id for p in people])
    payloads: list[EventPayload] = [sector_changed(s, _retired(s.retired_at)) for s in sectors]
    payloads += [entity_changed(e, _retired(e.retired_at)) for e in entities]
    payloads += [person_changed(p, DirectoryChange.updated if p.active
                                else DirectoryChange.retired) for p in people]
    roles = [role_changed(a, granted=True) for held in assignments.values() for a in held]
    payloads += roles
    await outbox.add_many(session, payloads)
    return {"sectors": len(sectors), "entities": len(entities), "people": len(people),
            "roles": len(roles)}
