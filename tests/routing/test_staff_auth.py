"""Staff sign-in (argon2id), rotating refresh tokens, and standing: deactivating a person or
changing their role takes effect on their next request, not at token expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.routing.context import Routing
from services.routing.directory.demo import DEMO_PASSWORD
from services.routing.exceptions import SignInUnavailable
from services.routing.staff import service as staff_service
from shared.events.vocabulary import Role
from tests.routing.conftest import RoutingService, problem
from tests.sessions import two_refreshes_at_once_keep_the_session

PASSWORD = "a long and private phrase 42"


async def sign_in(routing: RoutingService, username: str,
                  password: str = DEMO_PASSWORD) -> httpx.Response:
    return await routing.client.post("/api/v1/staff/auth/token",
                                     json={"username": username, "password": password},
                                     headers={"Accept-Language": "en"})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_person(routing: RoutingService, **role: Any) -> dict[str, Any]:
    username = f"person.{uuid.uuid4().hex[:8]}"
    response = await routing.client.post(
        "/api/v1/directory/people",
        json={"username": username, "full_name": "موظف جديد", "phone": "+962791234567",
              "password": PASSWORD, **({"role": role} if role else {})},
        headers={**await routing.auth("cmu.admin"), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    person: dict[str, Any] = response.json()
    return person


async def admin(routing: RoutingService, method: str, path: str,
                json: dict[str, Any] | None = None) -> httpx.Response:
    headers = {**await routing.auth("cmu.admin"), "Idempotency-Key": str(uuid.uuid4())}
    return await routing.client.request(method, path, json=json, headers=headers)


async def test_signing_in_gives_a_short_token_with_the_role_and_scope_of_the_directory(
    routing: RoutingService,
) -> None:
    response = await sign_in(routing, "MLO.MOH")  # usernames are not case-sensitive
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert (tokens["role"], tokens["sectors"], tokens["entities"], tokens["expires_in"]) == (
        "main_liaison_officer", ["MOH"], [], 600)
    principal = routing.runtime.verifier.verify(tokens["access_token"])
    assert (principal.role, principal.sector_ids, principal.entity_ids) == (
        Role.main_liaison_officer, frozenset({"MOH"}), frozenset())
    me = await routing.client.get("/api/v1/staff/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["username"] == "mlo.moh"
    assert "cases.accept" in me.json()["permissions"]

    sub_officer = (await sign_in(routing, "slo.moh-jfda")).json()
    assert (sub_officer["role"], sub_officer["entities"]) == (
        "sub_liaison_officer", ["MOH-JFDA"])


async def test_a_wrong_password_and_an_unknown_username_get_the_same_answer(
    routing: RoutingService,
) -> None:
    wrong = await sign_in(routing, "mlo.mwi", "not the password")
    unknown = await sign_in(routing, "nobody.here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert problem(wrong) == {**problem(unknown), "instance": problem(wrong)["instance"]}
    assert problem(wrong)["detail"] == "The username or the password is wrong."


async def test_five_wrong_passwords_lock_the_account_for_a_while(
    routing: RoutingService,
) -> None:
    person = await new_person(routing, role="cmu_staff")
    for _ in range(5):
        assert (await sign_in(routing, person["username"], "wrong guess")).status_code == 401
    locked = await sign_in(routing, person["username"], PASSWORD)
    assert locked.status_code == 401  # even the right password, and it says nothing more
    routing.wall_clock.advance(timedelta(minutes=16))
    assert (await sign_in(routing, person["username"], PASSWORD)).status_code == 200


async def test_a_refresh_token_works_once_and_a_reused_one_ends_the_session(
    routing: RoutingService,
) -> None:
    first = (await sign_in(routing, "mlo.mwi")).json()
    refreshed = await routing.client.post("/api/v1/staff/auth/refresh",
                                          json={"refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert routing.runtime.verifier.verify(second["access_token"]).subject == second[
        "person_id"]

    routing.wall_clock.advance(timedelta(seconds=11))  # long after its use: a kept copy
    replayed = await routing.client.post("/api/v1/staff/auth/refresh",
                                         json={"refresh_token": first["refresh_token"]})
    assert replayed.status_code == 401
    # The stolen copy was used: the legitimate holder's newer token dies with it.
    after = await routing.client.post("/api/v1/staff/auth/refresh",
                                      json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


async def test_two_calls_refreshing_at_once_spend_the_token_once_and_keep_the_session(
    routing: RoutingService,
) -> None:
    tokens = (await sign_in(routing, "mlo.mwi")).json()
    await two_refreshes_at_once_keep_the_session(
        routing.client, "/api/v1/staff/auth/refresh", tokens["refresh_token"], routing.wall_clock
    )


async def test_signing_out_ends_the_session(routing: RoutingService) -> None:
    tokens = (await sign_in(routing, "mlo.mwi")).json()
    out = await routing.client.post("/api/v1/staff/auth/sign-out",
                                    json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    again = await routing.client.post("/api/v1/staff/auth/refresh",
                                      json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_refresh_tokens_expire(routing: RoutingService) -> None:
    tokens = (await sign_in(routing, "mlo.mwi")).json()
    routing.wall_clock.advance(timedelta(seconds=tokens["refresh_expires_in"] + 1))
    late = await routing.client.post("/api/v1/staff/auth/refresh",
                                     json={"refresh_token": tokens["refresh_token"]})
    assert late.status_code == 401


async def test_deactivating_a_person_takes_effect_on_their_next_request(
    routing: RoutingService,
) -> None:
    person = await new_person(routing, role="main_liaison_officer", sector="MOT")
    tokens = (await sign_in(routing, person["username"], PASSWORD)).json()
    assert (await routing.client.get("/api/v1/inbox", headers=bearer(tokens))).status_code == 200

    off = await admin(routing, "PATCH", f"/api/v1/directory/people/{person['id']}",
                      {"active": False})
    assert off.status_code == 200, off.text

    refused = await routing.client.get("/api/v1/inbox", headers=bearer(tokens))
    assert refused.status_code == 401
    assert problem(refused)["type"] == "/problems/staff-standing-lost"
    assert (await routing.client.post("/api/v1/staff/auth/refresh", json={
        "refresh_token": tokens["refresh_token"]})).status_code == 401
    assert (await sign_in(routing, person["username"], PASSWORD)).status_code == 401


async def test_changing_a_role_takes_effect_on_their_next_request(
    routing: RoutingService,
) -> None:
    person = await new_person(routing, role="sub_liaison_officer", entity="MOI-DVLD")
    tokens = (await sign_in(routing, person["username"], PASSWORD)).json()
    assert tokens["role"] == "sub_liaison_officer"
    assert (await routing.client.get("/api/v1/inbox", headers=bearer(tokens))).status_code == 200

    promoted = await admin(routing, "POST", f"/api/v1/directory/people/{person['id']}/roles",
                           {"role": "main_liaison_officer", "sector": "MOI"})
    assert promoted.status_code == 201, promoted.text
    assert (await routing.client.get("/api/v1/inbox", headers=bearer(tokens))).status_code == 401

    now = (await sign_in(routing, person["username"], PASSWORD)).json()
    assert (now["role"], now["sectors"], now["entities"]) == ("main_liaison_officer", ["MOI"], [])
    assert (await routing.client.get("/api/v1/inbox", headers=bearer(now))).status_code == 200


async def test_a_wider_or_narrower_scope_also_asks_for_a_new_sign_in(
    routing: RoutingService,
) -> None:
    person = await new_person(routing, role="entity_head", entity="MOF-ISTD")
    tokens = (await sign_in(routing, person["username"], PASSWORD)).json()
    added = await admin(routing, "POST", f"/api/v1/directory/people/{person['id']}/roles",
                        {"role": "entity_head", "entity": "MOF-DLS"})
    assert added.status_code == 201
    assert (await routing.client.get("/api/v1/inbox", headers=bearer(tokens))).status_code == 401
    again = (await sign_in(routing, person["username"], PASSWORD)).json()
    assert again["entities"] == ["MOF-DLS", "MOF-ISTD"]


async def test_someone_without_a_current_role_cannot_sign_in(routing: RoutingService) -> None:
    person = await new_person(routing)
    assert (await sign_in(routing, person["username"], PASSWORD)).status_code == 401


async def test_the_standing_endpoint_answers_for_the_token_presented(
    routing: RoutingService,
) -> None:
    path = "/internal/v1/staff/standing"
    good = await routing.client.get(path, headers=await routing.auth("cmu.staff"))
    assert good.status_code == 200
    assert good.json()["standing"] == "active"
    citizen = await routing.client.get(path, headers={
        "Authorization": f"Bearer {routing.token(Role.citizen)}"})
    assert (citizen.status_code, citizen.json()["standing"]) == (200, "not_staff")
    stranger = await routing.client.get(path, headers={
        "Authorization": f"Bearer {routing.token(Role.cmu_admin)}"})
    assert stranger.status_code == 401
    claims_too_much = await routing.client.get(path, headers={"Authorization": "Bearer " + (
        routing.token(Role.main_liaison_officer, str(uuid.UUID(
            (await sign_in(routing, "mlo.moh")).json()["person_id"])),
            sectors=["MOH", "MOI"]))})
    assert claims_too_much.status_code == 401
    assert (await routing.client.get(path)).status_code == 401
    assert "/internal/" not in str((await routing.client.get("/openapi.json")).json())


async def test_roles_that_do_not_sign_in_here_have_no_staff_routes(
    routing: RoutingService,
) -> None:
    for role in (Role.citizen, Role.operator, Role.service):
        response = await routing.client.get("/api/v1/staff/me", headers={
            "Authorization": f"Bearer {routing.token(role)}"})
        assert response.status_code == 403, role


async def test_changing_my_own_password_ends_my_other_sessions(routing: RoutingService) -> None:
    person = await new_person(routing, role="cmu_staff")
    tokens = (await sign_in(routing, person["username"], PASSWORD)).json()
    path = "/api/v1/staff/me/password"
    wrong = await routing.client.post(path, headers=bearer(tokens), json={
        "current_password": "not it", "new_password": "another long phrase 43"})
    assert wrong.status_code == 422
    weak = await routing.client.post(path, headers=bearer(tokens), json={
        "current_password": PASSWORD, "new_password": "12345678"})
    assert weak.status_code == 422
    changed = await routing.client.post(path, headers=bearer(tokens), json={
        "current_password": PASSWORD, "new_password": "another long phrase 43"})
    assert changed.status_code == 204
    assert (await sign_in(routing, person["username"], PASSWORD)).status_code == 401
    assert (await sign_in(routing, person["username"], "another long phrase 43")
            ).status_code == 200
    assert (await routing.client.post("/api/v1/staff/auth/refresh", json={
        "refresh_token": tokens["refresh_token"]})).status_code == 401


async def test_without_a_signing_key_sign_in_is_unavailable_not_broken(
    routing: RoutingService,
) -> None:
    async with routing.runtime.sessionmaker() as session:
        with pytest.raises(SignInUnavailable) as refused:
            await staff_service.sign_in(session, username="mlo.moh", password=DEMO_PASSWORD,
                                        issuer=None,
                                        settings=routing.runtime.resources_as(Routing).settings,
                                        clock=routing.clock)
    assert refused.value.status == 503
