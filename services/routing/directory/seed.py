"""Seeding an empty directory from `services/routing/seed_data/`, announced row by row.

Sectors, entities, governorates, classifications and each role's default permissions are the
master data every deployment starts with; demo staff (see `demo.py`) are added outside
production only. Each seed is claimed in `seed_runs` inside the transaction that writes it,
so with several replicas starting together exactly one seeds and announces, once: the others
wait on the claim and then find it taken.

Every seeded sector, entity, person and role goes out as a `directory.*` event through the
outbox, so every other service learns the directory from its own queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.directory import repository
from services.routing.directory.demo import (
    DEMO_OPERATOR,
    DEMO_PASSWORD,
    DemoPerson,
    demo_people,
    demo_phone,
)
from services.routing.directory.service import (
    classification_snapshot,
    entity_changed,
    entity_snapshot,
    log,
    person_changed,
    person_snapshot,
    role_changed,
    sector_changed,
    sector_snapshot,
)
from services.routing.models import (
    Classification,
    Entity,
    Governorate,
    Person,
    RoleAssignment,
    RolePermission,
    Sector,
)
from services.routing.permissions import DEFAULTS
from shared.bus import Outbox
from shared.clock import Clock
from shared.events.envelope import EventPayload
from shared.events.vocabulary import DirectoryChange, Language, NoticeChannel, RequestKind
from shared.passwords import hash_password

SEED_DATA: Final = Path(__file__).resolve().parent.parent / "seed_data"
MASTER_DATA: Final = "directory"
DEMO_STAFF: Final = "demo_staff"
DEMO_OPERATOR_SEED: Final = "demo_operator"


def _read(name: str) -> Any:
    return json.loads((SEED_DATA / name).read_text(encoding="utf-8"))


async def seed_directory(
    session: AsyncSession, *, outbox: Outbox, clock: Clock, demo_staff: bool
) -> None:
    now = clock.now()
    if await repository.claim_seed(session, MASTER_DATA, now=now):
        await outbox.add_many(session, await _seed_master_data(session, now))
    if demo_staff and await repository.claim_seed(session, DEMO_STAFF, now=now):
        sectors = [s.code for s in await repository.sectors(session, include_retired=False)]
        entities = [e.code for e in await repository.entities(session)]
        await outbox.add_many(session, await _seed_demo_people(
            session, now, demo_people(sectors, entities), first_phone=1))
    # A claim of its own: a development database seeded before the operator existed gets it too.
    if demo_staff and await repository.claim_seed(session, DEMO_OPERATOR_SEED, now=now):
        await outbox.add_many(session, await _seed_demo_people(
            session, now, [DEMO_OPERATOR], first_phone=0))


async def _seed_master_data(session: AsyncSession, now: datetime) -> list[EventPayload]:
    data = _read("entities.json")
    events: list[EventPayload] = []
    for row in data["sectors"]:
        sector = Sector(code=row["code"], name_ar=row["name_ar"], name_en=row["name_en"],
                        created_at=now, updated_at=now, retired_at=None)
        session.add(sector)
        log(session, at=now, actor_id=None, subject="sector", key=sector.code,
            change="seeded", after=sector_snapshot(sector))
        events.append(sector_changed(sector, DirectoryChange.created))
    await session.flush()  # entities refer to their sectors (no relationship orders them)
    for row in data["entities"]:
        entity = Entity(code=row["code"], sector_code=row["sector"],
                        parent_code=row.get("parent"), kind=row["kind"],
                        name_ar=row["name_ar"], name_en=row["name_en"],
                        receives_reports=bool(row.get("receives_reports", False)),
                        created_at=now, updated_at=now, retired_at=None)
        session.add(entity)
        log(session, at=now, actor_id=None, subject="entity", key=entity.code,
            change="seeded", after=entity_snapshot(entity))
        events.append(entity_changed(entity, DirectoryChange.created))
    for row in _read("governorates.json"):
        session.add(Governorate(code=row["code"], name_ar=row["name_ar"],
                                name_en=row["name_en"]))
    for row in _read("classifications.json")["classifications"]:
        classification = Classification(
            code=row["code"], kind=RequestKind(row["kind"]), name_ar=row["name_ar"],
            name_en=row["name_en"], max_working_days=row["max_working_days"], created_at=now,
            updated_at=now, retired_at=None,
        )
        session.add(classification)
        log(session, at=now, actor_id=None, subject="classification", key=classification.code,
            change="seeded", after=classification_snapshot(classification))
    for role, permissions in DEFAULTS.items():
        for permission in sorted(permissions):
            session.add(RolePermission(role=role, permission=permission.value))
        log(session, at=now, actor_id=None, subject="permissions", key=role.value,
            change="seeded", after={"permissions": sorted(p.value for p in permissions)})
    await session.flush()
    return events


async def _seed_demo_people(
    session: AsyncSession, now: datetime, roster: Iterable[DemoPerson], *, first_phone: int
) -> list[EventPayload]:
    """Demo people with their roles, phones numbered from `first_phone` (`demo_phone`)."""
    # One hash for all: the same published password, and seeding stays fast.
    password_hash = await hash_password(DEMO_PASSWORD)
    people: list[EventPayload] = []
    roles: list[EventPayload] = []
    assignments: list[RoleAssignment] = []
    for index, demo in enumerate(roster, start=first_phone):
        person = Person(
            id=demo.id, username=demo.username, full_name=demo.full_name,
            phone=demo_phone(index), email=demo.email, language=Language.ar,
            notice_channel=NoticeChannel.sms, password_hash=password_hash, active=True,
            failed_sign_ins=0, locked_until=None, created_at=now, updated_at=now,
        )
        assignment = RoleAssignment(
            id=demo.id, person_id=demo.id, role=demo.role, sector_code=demo.sector,
            entity_code=demo.entity, granted_at=now, granted_by=None, revoked_at=None,
            revoked_by=None,
        )
        session.add(person)
        assignments.append(assignment)
        log(session, at=now, actor_id=None, subject="person", key=str(person.id),
            change="seeded", after={**person_snapshot(person), "demo": True})
        people.append(person_changed(person, DirectoryChange.created))
        roles.append(role_changed(assignment, granted=True))
    await session.flush()  # assignments refer to people
    session.add_all(assignments)
    await session.flush()
    # People first: a consumer learning a role already knows the person.
    return people + roles
