"""The directory's HTTP face: public reads (citizens choose an entity, intake validates one)
and the CMU administrators' edits, each declared with the permission it needs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.access import Staff, requires
from services.routing.context import RoutingDep
from services.routing.directory import repository, service
from services.routing.directory.schemas import (
    Announcement,
    AssignmentPublic,
    ClassificationCreate,
    ClassificationPublic,
    ClassificationUpdate,
    EntityCreate,
    EntityPublic,
    EntityUpdate,
    GovernoratePublic,
    LogEntryPublic,
    LogPage,
    PasswordReset,
    PermissionCatalog,
    PersonCreate,
    PersonPage,
    PersonPermissionsPublic,
    PersonPermissionsUpdate,
    PersonPublic,
    PersonUpdate,
    RoleGrant,
    RolePermissionsUpdate,
    SectorCreate,
    SectorPublic,
    SectorUpdate,
)
from services.routing.exceptions import DirectoryNotFound
from services.routing.models import Person, RoleAssignment
from services.routing.permissions import Permission, effective
from shared.dependencies import IdempotencyKeyDep, SessionDep
from shared.events.vocabulary import RequestKind, Role

public = APIRouter(prefix="/api/v1", tags=["directory"])
admin = APIRouter(prefix="/api/v1", tags=["directory administration"])

Directory = Annotated[Staff, requires(Permission.manage_directory)]
StaffAdmin = Annotated[Staff, requires(Permission.manage_staff)]
IncludeRetired = Annotated[bool, Query(description="Also list retired ones (history).")]
LAST_LOG_ID = 2**63 - 1  # the log's ids are PostgreSQL bigints: a larger `before` cannot be one


# --- public reads --------------------------------------------------------------------------------


@public.get("/sectors")
async def list_sectors(session: SessionDep, include_retired: IncludeRetired = False
                       ) -> list[SectorPublic]:
    return [SectorPublic.of(s) for s in
            await repository.sectors(session, include_retired=include_retired)]


@public.get("/sectors/{code}")
async def read_sector(code: str, session: SessionDep) -> SectorPublic:
    sector = await repository.sector(session, code)
    if sector is None:
        raise DirectoryNotFound("sector", code)
    return SectorPublic.of(sector)


@public.get("/entities")
async def list_entities(session: SessionDep,
                        sector: Annotated[str | None, Query(max_length=20)] = None,
                        include_retired: IncludeRetired = False) -> list[EntityPublic]:
    return [EntityPublic.of(e) for e in await repository.entities(
        session, sector_code=sector, include_retired=include_retired)]


@public.get("/entities/{code}")
async def read_entity(code: str, session: SessionDep) -> EntityPublic:
    entity = await repository.entity(session, code)
    if entity is None:
        raise DirectoryNotFound("entity", code)
    return EntityPublic.of(entity)


@public.get("/governorates")
async def list_governorates(session: SessionDep) -> list[GovernoratePublic]:
    return [GovernoratePublic.of(g) for g in await repository.governorates(session)]


@public.get("/classifications")
async def list_classifications(session: SessionDep, kind: RequestKind | None = None,
                               include_retired: IncludeRetired = False
                               ) -> list[ClassificationPublic]:
    return [ClassificationPublic.of(c) for c in await repository.classifications(
        session, kind=kind, include_retired=include_retired)]


# --- sectors, entities, classifications (CMU administrators) ------------------------------------


@admin.post("/sectors", status_code=201)
async def create_sector(body: SectorCreate, staff: Directory, session: SessionDep,
                        routing: RoutingDep, idempotency: IdempotencyKeyDep,
                        response: Response) -> SectorPublic:
    async def create() -> SectorPublic:
        return SectorPublic.of(await service.create_sector(
            session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
            new=body))

    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=SectorPublic, create=create)


@admin.patch("/sectors/{code}")
async def update_sector(code: str, body: SectorUpdate, staff: Directory, session: SessionDep,
                        routing: RoutingDep) -> SectorPublic:
    return SectorPublic.of(await service.update_sector(
        session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
        code=code, changes=body))


@admin.delete("/sectors/{code}")
async def retire_sector(code: str, staff: Directory, session: SessionDep,
                        routing: RoutingDep) -> SectorPublic:
    """Retire: the sector stays in history and old requests, takes nothing new."""
    return SectorPublic.of(await service.retire_sector(
        session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
        code=code))


@admin.post("/entities", status_code=201)
async def create_entity(body: EntityCreate, staff: Directory, session: SessionDep,
                        routing: RoutingDep, idempotency: IdempotencyKeyDep,
                        response: Response) -> EntityPublic:
    async def create() -> EntityPublic:
        return EntityPublic.of(await service.create_entity(
            session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
            new=body))

    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=EntityPublic, create=create)


@admin.patch("/entities/{code}")
async def update_entity(code: str, body: EntityUpdate, staff: Directory, session: SessionDep,
                        routing: RoutingDep) -> EntityPublic:
    """Rename, re-kind, move to another sector or parent. Open requests stay where they are."""
    return EntityPublic.of(await service.update_entity(
        session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
        code=code, changes=body))


@admin.delete("/entities/{code}")
async def retire_entity(code: str, staff: Directory, session: SessionDep,
                        routing: RoutingDep) -> EntityPublic:
    """Retire: the entity stays in history and old requests, takes nothing new."""
    return EntityPublic.of(await service.retire_entity(
        session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
        code=code))


@admin.post("/classifications", status_code=201)
async def create_classification(body: ClassificationCreate, staff: Directory,
                                session: SessionDep, routing: RoutingDep,
                                idempotency: IdempotencyKeyDep,
                                response: Response) -> ClassificationPublic:
    async def create() -> ClassificationPublic:
        return ClassificationPublic.of(await service.create_classification(
            session, clock=routing.clock, actor_id=staff.person_id, new=body))

    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=ClassificationPublic,
                                  create=create)


@admin.patch("/classifications/{code}")
async def update_classification(code: str, body: ClassificationUpdate, staff: Directory,
                                session: SessionDep, routing: RoutingDep
                                ) -> ClassificationPublic:
    """Rename, or change the most working days an officer may set (new acceptances only)."""
    return ClassificationPublic.of(await service.update_classification(
        session, clock=routing.clock, actor_id=staff.person_id, code=code, changes=body))


@admin.delete("/classifications/{code}")
async def retire_classification(code: str, staff: Directory, session: SessionDep,
                                routing: RoutingDep) -> ClassificationPublic:
    return ClassificationPublic.of(await service.retire_classification(
        session, clock=routing.clock, actor_id=staff.person_id, code=code))


@admin.post("/directory/announcements")
async def announce(staff: Directory, session: SessionDep, routing: RoutingDep) -> Announcement:
    """Announce the whole directory again on the bus (a service that missed it catches up)."""
    return Announcement(**await service.announce_everything(session, outbox=routing.outbox))


@admin.get("/directory/log")
async def read_log(
    staff: Directory, session: SessionDep,
    subject: Annotated[str | None, Query(max_length=30)] = None,
    key: Annotated[str | None, Query(max_length=80)] = None,
    before: Annotated[int | None, Query(ge=1, le=LAST_LOG_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LogPage:
    """Every change to the directory, newest first: who, when, before and after."""
    entries = await repository.changes(session, subject=subject, key=key, before_id=before,
                                       limit=limit)
    return LogPage(items=[LogEntryPublic.of(e) for e in entries],
                   next_before=entries[-1].id if len(entries) == limit else None)


# --- people, roles and permissions (CMU administrators) -----------------------------------------


def _assignment(assignment: RoleAssignment) -> AssignmentPublic:
    return AssignmentPublic(
        id=assignment.id, role=assignment.role, sector=assignment.sector_code,
        entity=assignment.entity_code, granted_at=assignment.granted_at,
        granted_by=assignment.granted_by, revoked_at=assignment.revoked_at,
    )


async def _people_public(session: AsyncSession, people: Sequence[Person]) -> list[PersonPublic]:
    held = await repository.current_assignments(session, [p.id for p in people])
    return [
        PersonPublic(
            id=p.id, username=p.username, full_name=p.full_name, phone=p.phone, email=p.email,
            language=p.language, notice_channel=p.notice_channel, active=p.active,
            role=held[p.id][0].role if held[p.id] else None,
            assignments=[_assignment(a) for a in held[p.id]],
        )
        for p in people
    ]


async def _person_public(session: AsyncSession, person: Person) -> PersonPublic:
    return (await _people_public(session, [person]))[0]


async def _person(session: AsyncSession, person_id: uuid.UUID) -> Person:
    person = await repository.person(session, person_id)
    if person is None:
        raise DirectoryNotFound("person", str(person_id))
    return person


@admin.get("/directory/people")
async def list_people(
    staff: StaffAdmin, session: SessionDep, role: Role | None = None,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    entity: Annotated[str | None, Query(max_length=40)] = None, active: bool | None = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    q: Annotated[str | None, Query(max_length=100,
                                   description="Part of the username or the full name.")] = None,
) -> PersonPage:
    people = await repository.people(session, role=role, sector_code=sector,
                                     entity_code=entity, active=active, after=after,
                                     limit=limit, words=q.strip() if q else None)
    return PersonPage(items=await _people_public(session, people),
                      next_after=people[-1].username if len(people) == limit else None)


@admin.get("/directory/people/{person_id}")
async def read_person(person_id: uuid.UUID, staff: StaffAdmin, session: SessionDep
                      ) -> PersonPublic:
    return await _person_public(session, await _person(session, person_id))


@admin.post("/directory/people", status_code=201)
async def create_person(body: PersonCreate, staff: StaffAdmin, session: SessionDep,
                        routing: RoutingDep, idempotency: IdempotencyKeyDep,
                        response: Response) -> PersonPublic:
    async def create() -> PersonPublic:
        person = await service.create_person(session, outbox=routing.outbox,
                                             clock=routing.clock, actor_id=staff.person_id,
                                             new=body)
        await session.flush()
        return await _person_public(session, person)

    # The fingerprint, not the body, is what the idempotency table keeps: no password stored.
    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=PersonPublic, create=create)


@admin.patch("/directory/people/{person_id}")
async def update_person(person_id: uuid.UUID, body: PersonUpdate, staff: StaffAdmin,
                        session: SessionDep, routing: RoutingDep) -> PersonPublic:
    """Change contact points or language, or deactivate (`active: false`: at once, everywhere)."""
    person = await service.update_person(session, outbox=routing.outbox, clock=routing.clock,
                                         actor_id=staff.person_id, person_id=person_id,
                                         changes=body)
    return await _person_public(session, person)


@admin.post("/directory/people/{person_id}/password", status_code=204)
async def reset_password(person_id: uuid.UUID, body: PasswordReset, staff: StaffAdmin,
                         session: SessionDep, routing: RoutingDep) -> None:
    """Set a new password for someone; their sessions end."""
    await service.reset_password(session, clock=routing.clock, actor_id=staff.person_id,
                                 person_id=person_id, new_password=body.new_password)


@admin.post("/directory/people/{person_id}/roles", status_code=201)
async def grant_role(person_id: uuid.UUID, body: RoleGrant, staff: StaffAdmin,
                     session: SessionDep, routing: RoutingDep, idempotency: IdempotencyKeyDep,
                     response: Response) -> AssignmentPublic:
    """Give a role for a scope; another role than the current one replaces it."""

    async def create() -> AssignmentPublic:
        return _assignment(await service.grant_role(
            session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
            person_id=person_id, grant=body))

    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=AssignmentPublic,
                                  create=create)


@admin.delete("/directory/people/{person_id}/roles/{assignment_id}")
async def revoke_role(person_id: uuid.UUID, assignment_id: uuid.UUID, staff: StaffAdmin,
                      session: SessionDep, routing: RoutingDep) -> AssignmentPublic:
    return _assignment(await service.revoke_role(
        session, outbox=routing.outbox, clock=routing.clock, actor_id=staff.person_id,
        person_id=person_id, assignment_id=assignment_id))


@admin.get("/directory/permissions")
async def read_permissions(staff: StaffAdmin, session: SessionDep) -> PermissionCatalog:
    return PermissionCatalog(permissions=list(Permission),
                             roles=await repository.role_permissions(session))


@admin.put("/directory/permissions/roles/{role}")
async def set_role_permissions(role: Role, body: RolePermissionsUpdate, staff: StaffAdmin,
                               session: SessionDep, routing: RoutingDep) -> list[str]:
    """What everyone in a role may do, from their next request."""
    return await service.set_role_permissions(session, clock=routing.clock,
                                              actor_id=staff.person_id, role=role,
                                              permissions=body.permissions)


async def _person_permissions(session: AsyncSession, person: Person) -> PersonPermissionsPublic:
    standing = await repository.standing(session, person.id)
    role = standing.role if standing else None
    overrides = await repository.person_overrides(session, person.id)
    role_permissions = (await repository.role_permissions(session)).get(role, []) if role else []
    return PersonPermissionsPublic(
        person_id=person.id, role=role,
        grants=sorted(p for p, allowed in overrides.items() if allowed),
        denials=sorted(p for p, allowed in overrides.items() if not allowed),
        effective=sorted(effective(role_permissions, overrides)),
    )


@admin.get("/directory/people/{person_id}/permissions")
async def read_person_permissions(person_id: uuid.UUID, staff: StaffAdmin,
                                  session: SessionDep) -> PersonPermissionsPublic:
    return await _person_permissions(session, await _person(session, person_id))


@admin.put("/directory/people/{person_id}/permissions")
async def set_person_permissions(person_id: uuid.UUID, body: PersonPermissionsUpdate,
                                 staff: StaffAdmin, session: SessionDep, routing: RoutingDep
                                 ) -> PersonPermissionsPublic:
    """One person's exceptions to their role: grants and denials, from their next request."""
    await service.set_person_permissions(session, clock=routing.clock,
                                         actor_id=staff.person_id, person_id=person_id,
                                         grants=body.grants, denials=body.denials)
    return await _person_permissions(session, await _person(session, person_id))
