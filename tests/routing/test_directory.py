"""The directory: seeded once and announced row by row, read by anyone, edited by CMU
administrators with every change logged and announced; retiring keeps history; permissions
change without a deploy and count at the next request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from services.routing.context import seed_once
from services.routing.directory.demo import demo_person_id
from services.routing.main import DEFINITION
from services.routing.models import Person, RoleAssignment, Sector, SeedRun, outbox
from shared.bus import InMemoryBus
from shared.clock import SimulatedClock
from shared.runtime import Runtime
from tests.conftest import fresh_schema
from tests.platform import eventually
from tests.routing.conftest import RoutingService, migrate, problem, routing_settings

SEED = Path(__file__).parents[2] / "services" / "routing" / "seed_data"
SEEDED = json.loads((SEED / "entities.json").read_text(encoding="utf-8"))
SECTORS, ENTITIES = len(SEEDED["sectors"]), len(SEEDED["entities"])
DEMO_PEOPLE = 7 + 2 * SECTORS + 2 * ENTITIES  # with the CMU's, the commission's, the operator


async def admin(routing: RoutingService, method: str, path: str,
                json: dict[str, Any] | None = None, *, who: str = "cmu.admin",
                key: str | None = None, params: dict[str, str] | None = None
                ) -> httpx.Response:
    headers = {**await routing.auth(who), "Idempotency-Key": key or str(uuid.uuid4()),
               "Accept-Language": "en"}
    return await routing.client.request(method, path, json=json, headers=headers,
                                        params=params)


async def announced(routing: RoutingService, event_type: str, key: str, value: str,
                    count: int = 1) -> list[dict[str, Any]]:
    async def arrived() -> list[dict[str, Any]]:
        found = [e.payload for e in routing.observed.of(event_type)
                 if e.payload.get(key) == value]
        assert len(found) == count, (event_type, value, len(found))
        return found

    return await eventually(arrived)


# --- seeding -------------------------------------------------------------------------------------


async def test_seeding_announces_every_seeded_row_once(routing: RoutingService) -> None:
    async def all_announced() -> Counter[str]:
        counts = Counter(e.type for e in routing.observed.envelopes
                         if e.type.startswith("directory."))
        assert counts["directory.role_changed"] >= DEMO_PEOPLE
        return counts

    counts = await eventually(all_announced)
    sectors = [e.payload["sector"] for e in routing.observed.of("directory.sector_changed")]
    assert sorted(sectors[:SECTORS]) == sorted(s["code"] for s in SEEDED["sectors"])
    entities = [e.payload for e in routing.observed.of("directory.entity_changed")][:ENTITIES]
    assert {e["entity"] for e in entities} == {e["code"] for e in SEEDED["entities"]}
    assert all(e["change"] == "created" for e in entities)
    people = routing.observed.of("directory.person_changed")[:DEMO_PEOPLE]
    assert len({p.payload["person_id"] for p in people}) == DEMO_PEOPLE
    assert counts["directory.sector_changed"] >= SECTORS
    minister = next(e.payload for e in routing.observed.of("directory.role_changed")
                    if e.payload["person_id"] == str(demo_person_id("minister.moh")))
    assert (minister["role"], minister["sector"], minister["granted"]) == (
        "minister", "MOH", True)


async def test_replicas_starting_together_seed_exactly_once(
    postgres_url: str,
) -> None:
    async with fresh_schema(postgres_url) as schema:
        settings = routing_settings(postgres_url, schema, "bkhtest-unused", run_workers=False)
        await migrate(settings)
        replicas = [await Runtime.open(DEFINITION, settings, bus=InMemoryBus(),
                                       clock=SimulatedClock()) for _ in range(3)]
        try:
            assert await asyncio.gather(*(seed_once(r) for r in replicas)) == [True] * 3
            assert await seed_once(replicas[0])  # and again later: nothing more
            async with replicas[0].sessionmaker() as session:
                events: dict[str, int] = dict((await session.execute(
                    select(outbox.c.event_type, func.count()).group_by(outbox.c.event_type)
                )).all())
                sectors = await session.scalar(select(func.count()).select_from(Sector))
                people = await session.scalar(select(func.count()).select_from(Person))
                claims = (await session.scalars(select(SeedRun.name))).all()
        finally:
            for replica in replicas:
                await replica.close()
    assert (sectors, people, sorted(claims)) == (
        SECTORS, DEMO_PEOPLE, ["demo_operator", "demo_staff", "directory"])
    assert events == {"directory.sector_changed": SECTORS, "directory.entity_changed": ENTITIES,
                      "directory.person_changed": DEMO_PEOPLE,
                      "directory.role_changed": DEMO_PEOPLE}


async def test_a_directory_seeded_before_the_demo_operator_existed_gets_it_at_the_next_start(
    postgres_url: str,
) -> None:
    operator = demo_person_id("operator")
    async with fresh_schema(postgres_url) as schema:
        settings = routing_settings(postgres_url, schema, "bkhtest-unused", run_workers=False)
        await migrate(settings)
        runtime = await Runtime.open(DEFINITION, settings, bus=InMemoryBus(),
                                     clock=SimulatedClock())
        try:
            assert await seed_once(runtime)
            async with runtime.sessionmaker.begin() as session:  # as an older release left it
                await session.execute(delete(RoleAssignment).where(
                    RoleAssignment.person_id == operator))
                await session.execute(delete(Person).where(Person.id == operator))
                await session.execute(delete(SeedRun).where(SeedRun.name == "demo_operator"))
            assert await seed_once(runtime)
            async with runtime.sessionmaker() as session:
                seeded = await session.scalar(select(Person.username).where(Person.id == operator))
                others = await session.scalar(select(func.count()).select_from(Person))
        finally:
            await runtime.close()
    assert seeded == "operator"
    assert others == DEMO_PEOPLE  # the others were not seeded twice


def test_production_has_no_demo_staff() -> None:
    production = {"environment": "production", "jwt_public_keys_file": "/keys/jwks.json",
                  "database_url": "postgresql+asyncpg://db/x", "amqp_url": "amqp://mq/"}
    assert DEFINITION.load_settings(**production).demo_staff is False  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="BKH_DEMO_STAFF must be off"):
        DEFINITION.load_settings(**production, demo_staff=True)
    assert DEFINITION.load_settings(environment="test").demo_staff is True  # type: ignore[attr-defined]


# --- reading -------------------------------------------------------------------------------------


async def test_anyone_reads_the_directory_in_both_languages(routing: RoutingService) -> None:
    entities = (await routing.client.get("/api/v1/entities")).json()
    assert len(entities) >= ENTITIES
    gam = next(e for e in entities if e["code"] == "PM-GAM")
    assert (gam["sector"], gam["name_ar"], gam["name_en"]) == (
        "PM", "أمانة عمان الكبرى", "Greater Amman Municipality")
    assert {e["sector"] for e in (await routing.client.get(
        "/api/v1/entities", params={"sector": "MOH"})).json()} == {"MOH"}
    governorates = (await routing.client.get("/api/v1/governorates")).json()
    assert len(governorates) == 12
    assert {"code": "JO-AM", "name_ar": "العاصمة", "name_en": "Amman"} in governorates
    inquiries = (await routing.client.get("/api/v1/classifications",
                                          params={"kind": "inquiry"})).json()
    assert {c["max_working_days"] for c in inquiries} == {2}
    assert (await routing.client.get("/api/v1/sectors/MOH")).json()["name_en"] == (
        "Ministry of Health")
    missing = await routing.client.get("/api/v1/entities/NOPE-1")
    assert missing.status_code == 404
    assert problem(missing)["type"] == "/problems/directory-not-found"


# --- editing -------------------------------------------------------------------------------------


async def test_an_administrator_adds_a_department_logged_and_announced_once(
    routing: RoutingService,
) -> None:
    body = {"code": "MOH-PHC", "sector": "MOH", "parent": "MOH-HQ", "kind": "department",
            "name_ar": "مديرية الرعاية الصحية الأولية", "name_en": "Primary Health Care"}
    missing_key = await routing.client.post("/api/v1/entities", json=body,
                                            headers=await routing.auth("cmu.admin"))
    assert missing_key.status_code == 400
    key = str(uuid.uuid4())
    first = await admin(routing, "POST", "/api/v1/entities", body, key=key)
    again = await admin(routing, "POST", "/api/v1/entities", body, key=key)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["parent"] == "MOH-HQ"
    [event] = await announced(routing, "directory.entity_changed", "entity", "MOH-PHC")
    assert (event["parent"], event["change"]) == ("MOH-HQ", "created")
    log = (await admin(routing, "GET", "/api/v1/directory/log",
                       json=None)).json()["items"]
    entry = next(e for e in log if e["key"] == "MOH-PHC")
    assert (entry["change"], entry["actor_id"]) == (
        "created", str(demo_person_id("cmu.admin")))
    assert entry["details"]["after"]["name_en"] == "Primary Health Care"
    taken = await admin(routing, "POST", "/api/v1/entities", body)
    assert taken.status_code == 409


async def test_a_department_must_stay_in_its_parents_sector_without_loops(
    routing: RoutingService,
) -> None:
    elsewhere = await admin(routing, "POST", "/api/v1/entities", {
        "code": "MOH-ODD", "sector": "MOH", "parent": "MOI-HQ", "kind": "department",
        "name_ar": "دائرة", "name_en": "Department"})
    assert elsewhere.status_code == 422
    made = await admin(routing, "POST", "/api/v1/entities", {
        "code": "MOH-LAB", "sector": "MOH", "parent": "MOH-JFDA", "kind": "department",
        "name_ar": "المختبرات", "name_en": "Laboratories"})
    assert made.status_code == 201
    loop = await admin(routing, "PATCH", "/api/v1/entities/MOH-JFDA", {"parent": "MOH-LAB"})
    assert loop.status_code == 422


async def test_renaming_an_entity_is_logged_with_before_and_after(
    routing: RoutingService,
) -> None:
    renamed = await admin(routing, "PATCH", "/api/v1/entities/MOTA-DOA",
                          {"name_en": "Department of Antiquities of Jordan"})
    assert renamed.status_code == 200, renamed.text
    [event] = await announced(routing, "directory.entity_changed", "name_en",
                              "Department of Antiquities of Jordan")
    assert event["change"] == "updated"
    log = (await admin(routing, "GET", "/api/v1/directory/log?subject=entity&key=MOTA-DOA")
           ).json()["items"]
    assert log[0]["details"]["before"]["name_en"] != log[0]["details"]["after"]["name_en"]
    empty = await admin(routing, "PATCH", "/api/v1/entities/MOTA-DOA", {})
    assert empty.status_code == 422


async def test_retiring_an_entity_keeps_its_history_and_takes_no_new_requests(
    routing: RoutingService,
) -> None:
    old = await routing.submit(entity="MOF-GBD")
    retired = await admin(routing, "DELETE", "/api/v1/entities/MOF-GBD")
    assert retired.status_code == 200
    assert retired.json()["retired_at"] is not None
    [event] = await announced(routing, "directory.entity_changed", "change", "retired")
    assert event["entity"] == "MOF-GBD"
    listed = [e["code"] for e in (await routing.client.get("/api/v1/entities")).json()]
    assert "MOF-GBD" not in listed
    history = [e["code"] for e in (await routing.client.get(
        "/api/v1/entities", params={"include_retired": "true"})).json()]
    assert "MOF-GBD" in history
    assert (await routing.client.get("/api/v1/entities/MOF-GBD")).status_code == 200
    assert (await routing.case(old)) is not None  # its requests stay as they were
    new = await routing.submit(entity="MOF-GBD")
    case = await routing.case(new)
    assert case is not None
    assert case.status.value == "triage"
    grant = await admin(routing, "POST", f"/api/v1/directory/people/{demo_person_id('cmu.staff')}"
                        "/roles", {"role": "sub_liaison_officer", "entity": "MOF-GBD"})
    assert grant.status_code == 409


async def test_a_sector_with_current_entities_cannot_be_retired(routing: RoutingService) -> None:
    refused = await admin(routing, "DELETE", "/api/v1/sectors/MOY")
    assert refused.status_code == 409
    assert (await routing.client.get("/api/v1/sectors/MOY")).json()["retired_at"] is None


async def test_classifications_are_edited_and_bound_acceptance(routing: RoutingService) -> None:
    made = await admin(routing, "POST", "/api/v1/classifications", {
        "code": "complaint.roads", "kind": "complaint", "name_ar": "الطرق",
        "name_en": "Roads", "max_working_days": 20})
    assert made.status_code == 201, made.text
    changed = await admin(routing, "PATCH", "/api/v1/classifications/complaint.roads",
                          {"max_working_days": 4})
    assert changed.json()["max_working_days"] == 4
    reference = await routing.submit(entity="MPWH-HQ")
    too_long = await routing.act("mlo.mpwh", reference, "accept", {
        "classification": "complaint.roads", "processing_working_days": 5})
    assert too_long.status_code == 422
    await admin(routing, "DELETE", "/api/v1/classifications/complaint.roads")
    retired = await routing.act("mlo.mpwh", reference, "accept", {
        "classification": "complaint.roads", "processing_working_days": 2})
    assert retired.status_code == 422


async def test_people_are_created_with_a_good_password_and_announced_for_notify(
    routing: RoutingService,
) -> None:
    body = {"username": "rana.officer", "full_name": "رنا", "phone": "+962791112233",
            "email": "rana@moh.gov.jo", "language": "en", "notice_channel": "email",
            "password": "password123", "role": {"role": "sub_liaison_officer",
                                                 "entity": "MOH-HQ"}}
    weak = await admin(routing, "POST", "/api/v1/directory/people", body)
    assert weak.status_code == 422
    made = await admin(routing, "POST", "/api/v1/directory/people",
                       {**body, "password": "a long private phrase 7"})
    assert made.status_code == 201, made.text
    person = made.json()
    assert (person["role"], [a["entity"] for a in person["assignments"]]) == (
        "sub_liaison_officer", ["MOH-HQ"])
    assert "password" not in json.dumps(person)
    [event] = await announced(routing, "directory.person_changed", "person_id", person["id"])
    assert (event["email"], event["language"], event["change"]) == (
        "rana@moh.gov.jo", "en", "created")
    [role] = await announced(routing, "directory.role_changed", "person_id", person["id"])
    assert (role["role"], role["entity"], role["granted"]) == (
        "sub_liaison_officer", "MOH-HQ", True)
    log = (await admin(routing, "GET", f"/api/v1/directory/log?key={person['id']}")).json()
    assert "hash" not in json.dumps(log)
    assert "a long private phrase" not in json.dumps(log)
    bad_scope = await admin(routing, "POST", f"/api/v1/directory/people/{person['id']}/roles",
                            {"role": "minister", "entity": "MOH-HQ"})
    assert bad_scope.status_code == 422
    not_staff = await admin(routing, "POST", f"/api/v1/directory/people/{person['id']}/roles",
                            {"role": "citizen"})
    assert not_staff.status_code == 422


async def test_a_refusal_names_the_field_it_is_about_for_forms(routing: RoutingService) -> None:
    """A back-office form shows each problem beside its field: `errors` names the field, as the
    validation errors of the same body do."""

    async def fields(method: str, path: str, body: dict[str, Any]) -> list[str]:
        answer = await admin(routing, method, path, body)
        assert answer.status_code in (409, 422), answer.text
        errors = problem(answer)["errors"]
        assert all(e["message"] and e["code"] for e in errors)
        return [e["field"] for e in errors]

    person = {"username": "lina.officer", "full_name": "لينا", "phone": "+962791112255",
              "password": "a long private phrase 9"}
    people = "/api/v1/directory/people"
    assert await fields("POST", people, {**person, "password": "short"}) == ["password"]
    assert await fields("POST", people, {**person, "username": "cmu.admin"}) == ["username"]
    assert await fields("POST", people, {**person, "role": {
        "role": "sub_liaison_officer", "sector": "MOH"}}) == ["role.entity"]
    assert await fields("POST", people, {**person, "role": {
        "role": "sub_liaison_officer", "entity": "NO-SUCH"}}) == ["role.entity"]
    assert await fields("POST", people, {**person, "role": {
        "role": "minister", "sector": "NOSUCH"}}) == ["role.sector"]
    someone = demo_person_id("slo.moh-hq")
    assert await fields("POST", f"{people}/{someone}/password",
                        {"new_password": "password123"}) == ["new_password"]
    assert await fields("POST", f"{people}/{someone}/roles", {"role": "cmu_staff",
                                                             "entity": "MOH-HQ"}) == ["entity"]
    assert await fields("PATCH", f"{people}/{someone}", {"phone": None}) == ["phone"]
    assert await fields("POST", "/api/v1/entities", {
        "code": "MOH-HQ", "sector": "MOH", "kind": "ministry", "name_ar": "ع",
        "name_en": "x"}) == ["code"]
    assert await fields("POST", "/api/v1/entities", {
        "code": "MOH-NEW", "sector": "NOSUCH", "kind": "ministry", "name_ar": "ع",
        "name_en": "x"}) == ["sector"]
    assert await fields("POST", "/api/v1/entities", {
        "code": "MOH-NEW", "sector": "MOH", "parent": "MOI-HQ", "kind": "department",
        "name_ar": "ع", "name_en": "x"}) == ["parent"]
    assert await fields("POST", "/api/v1/sectors", {
        "code": "MOH", "name_ar": "ع", "name_en": "x"}) == ["code"]


async def test_people_are_found_by_part_of_their_username_or_name(
    routing: RoutingService,
) -> None:
    made = await admin(routing, "POST", "/api/v1/directory/people", {
        "username": "maha_100.officer", "full_name": "مها الزعبي", "phone": "+962791112266",
        "password": "a long private phrase 10"})
    assert made.status_code == 201, made.text

    async def found(words: str) -> list[str]:
        answer = await admin(routing, "GET", "/api/v1/directory/people",
                             params={"q": words, "limit": "200"})
        assert answer.status_code == 200, answer.text
        return [p["username"] for p in answer.json()["items"]]

    assert await found("الزعبي") == ["maha_100.officer"]
    assert await found("MAHA_100") == ["maha_100.officer"]
    assert await found("a_1") == ["maha_100.officer"]
    assert await found("mo_") == []  # `_` and `%` are characters here, not wildcards
    assert await found("100%") == []
    assert "maha_100.officer" not in await found("slo.")


async def test_revoking_a_role_keeps_the_assignment_in_history(routing: RoutingService) -> None:
    made = (await admin(routing, "POST", "/api/v1/directory/people", {
        "username": "sami.head", "full_name": "سامي", "phone": "+962791112244",
        "password": "a long private phrase 8",
        "role": {"role": "entity_head", "entity": "MOL-HQ"}})).json()
    assignment = made["assignments"][0]["id"]
    revoked = await admin(routing, "DELETE",
                          f"/api/v1/directory/people/{made['id']}/roles/{assignment}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    roles = await announced(routing, "directory.role_changed", "person_id", made["id"], 2)
    assert [r["granted"] for r in roles] == [True, False]
    person = (await admin(routing, "GET", f"/api/v1/directory/people/{made['id']}")).json()
    assert (person["role"], person["assignments"]) == (None, [])


async def test_administrators_cannot_lock_themselves_out(routing: RoutingService) -> None:
    me = demo_person_id("cmu.admin")
    assert (await admin(routing, "PATCH", f"/api/v1/directory/people/{me}",
                        {"active": False})).status_code == 409
    assert (await admin(routing, "POST", f"/api/v1/directory/people/{me}/roles",
                        {"role": "cmu_staff"})).status_code == 409
    keep = await admin(routing, "PUT", "/api/v1/directory/permissions/roles/cmu_admin",
                       {"permissions": ["cases.read"]})
    assert keep.status_code == 409


async def test_a_roles_permissions_change_without_a_deploy(routing: RoutingService) -> None:
    reference = await routing.submit(entity="MOSD-HQ")
    catalog = (await admin(routing, "GET", "/api/v1/directory/permissions")).json()
    before = catalog["roles"]["main_liaison_officer"]
    fewer = [p for p in before if p != "cases.accept"]
    changed = await admin(routing, "PUT",
                          "/api/v1/directory/permissions/roles/main_liaison_officer",
                          {"permissions": fewer})
    assert changed.status_code == 200, changed.text
    try:
        refused = await routing.act("mlo.mosd", reference, "accept", {
            "classification": "complaint.other", "processing_working_days": 2})
        assert refused.status_code == 403
        assert problem(refused)["permission"] == "cases.accept"
    finally:
        await admin(routing, "PUT", "/api/v1/directory/permissions/roles/main_liaison_officer",
                    {"permissions": before})
    assert (await routing.act("mlo.mosd", reference, "accept", {
        "classification": "complaint.other", "processing_working_days": 2})).status_code == 200


async def test_one_persons_permissions_are_granted_or_denied_apart_from_their_role(
    routing: RoutingService,
) -> None:
    officer = demo_person_id("mlo.memr")
    denied = await admin(routing, "PUT", f"/api/v1/directory/people/{officer}/permissions",
                         {"denials": ["cases.respond"], "grants": ["audit.verify"]})
    assert denied.status_code == 200, denied.text
    assert "cases.respond" not in denied.json()["effective"]
    assert "audit.verify" in denied.json()["effective"]
    reference = await routing.submit(entity="MEMR-HQ")
    await routing.act("mlo.memr", reference, "accept", {
        "classification": "complaint.other", "processing_working_days": 2})
    assert (await routing.act("mlo.memr", reference, "respond", {
        "actions_taken": "a", "solution": "b"})).status_code == 403
    verified = await routing.client.get(f"/api/v1/cases/{reference}/timeline/verification",
                                        headers=await routing.auth("mlo.memr"))
    assert verified.status_code == 200
    both = await admin(routing, "PUT", f"/api/v1/directory/people/{officer}/permissions",
                       {"denials": ["cases.respond"], "grants": ["cases.respond"]})
    assert both.status_code == 422


async def test_only_administrators_edit_the_directory(routing: RoutingService) -> None:
    body = {"code": "MOX", "name_ar": "س", "name_en": "X"}
    for who in ("cmu.staff", "mlo.moh", "decision.maker"):
        refused = await admin(routing, "POST", "/api/v1/sectors", body, who=who)
        assert refused.status_code == 403, who
    anonymous = await routing.client.post("/api/v1/sectors", json=body,
                                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert anonymous.status_code == 401
    assert (await routing.client.get("/api/v1/sectors/MOX")).status_code == 404


async def test_the_whole_directory_can_be_announced_again(routing: RoutingService) -> None:
    before = len(routing.observed.of("directory.sector_changed"))
    response = await admin(routing, "POST", "/api/v1/directory/announcements")
    assert response.status_code == 200
    counts = response.json()
    assert counts["sectors"] >= SECTORS
    assert counts["people"] >= DEMO_PEOPLE

    async def again() -> None:
        assert len(routing.observed.of("directory.sector_changed")) >= before + SECTORS

    await eventually(again)
