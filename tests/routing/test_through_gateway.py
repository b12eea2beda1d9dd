"""Routing behind the gateway, as clients reach it: staff sign in at the public door, and a
deactivation or role change stops their very next request at the edge — whichever service
it was for (the other services are stand-ins here; they must never see such a request)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.config import SERVICE_NAMES, GatewaySettings
from gateway.main import create_gateway
from tests.gateway.conftest import FakeService, fake_service
from tests.routing.conftest import RoutingService

PASSWORD = "a long private phrase 21"


@dataclass
class Door:
    client: httpx.AsyncClient
    others: dict[str, FakeService]


@pytest.fixture
async def door(routing: RoutingService) -> AsyncIterator[Door]:
    others = {name: fake_service(name) for name in SERVICE_NAMES if name != "routing"}
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "routing": httpx.ASGITransport(app=routing.app),
        **{name: httpx.ASGITransport(app=fake.app) for name, fake in others.items()},
    }
    gateway = create_gateway(GatewaySettings(environment="test"), transports=transports)
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                          base_url="http://gateway.test") as client,
    ):
        yield Door(client, others)


async def as_admin(routing: RoutingService, door: Door, method: str, path: str,
                   body: dict[str, Any]) -> httpx.Response:
    headers = {**await routing.auth("cmu.admin"), "Idempotency-Key": str(uuid.uuid4())}
    return await door.client.request(method, path, json=body, headers=headers)


async def sign_in(door: Door, username: str) -> dict[str, str]:
    response = await door.client.post("/api/v1/staff/auth/token",
                                      json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_commission_member(routing: RoutingService, door: Door) -> dict[str, Any]:
    made = await as_admin(routing, door, "POST", "/api/v1/directory/people", {
        "username": f"iacc.{uuid.uuid4().hex[:6]}", "full_name": "عضو الهيئة",
        "phone": "+962791239999", "password": PASSWORD,
        "role": {"role": "integrity_commission"}})
    assert made.status_code == 201, made.text
    person: dict[str, Any] = made.json()
    return person


async def test_a_deactivated_person_is_stopped_at_the_edge_on_the_next_request(
    routing: RoutingService, door: Door,
) -> None:
    person = await new_commission_member(routing, door)
    token = await sign_in(door, person["username"])
    integrity = door.others["integrity"]
    assert (await door.client.get("/api/v1/integrity/inbox", headers=token)).status_code == 200
    forwarded = len(integrity.seen)

    off = await as_admin(routing, door, "PATCH", f"/api/v1/directory/people/{person['id']}",
                         {"active": False})
    assert off.status_code == 200

    refused = await door.client.get("/api/v1/integrity/inbox",
                                    headers={**token, "Accept-Language": "en"})
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/staff-standing-lost"
    assert len(integrity.seen) == forwarded  # never reached the service
    # Routing's own routes: routing refuses it itself (the gateway leaves them to it).
    for path in ("/api/v1/inbox", "/api/v1/staff/me"):
        mine = await door.client.get(path, headers=token)
        assert mine.status_code == 401, path
        assert mine.json()["type"] == "/problems/staff-standing-lost"


async def test_a_role_change_is_stopped_at_the_edge_and_a_new_sign_in_carries_it(
    routing: RoutingService, door: Door,
) -> None:
    person = await new_commission_member(routing, door)
    token = await sign_in(door, person["username"])
    changed = await as_admin(routing, door, "POST",
                             f"/api/v1/directory/people/{person['id']}/roles",
                             {"role": "decision_maker"})
    assert changed.status_code == 201
    assert (await door.client.get("/api/v1/analytics/kpis", headers=token)).status_code == 401
    assert not door.others["analytics"].seen
    fresh = await sign_in(door, person["username"])
    assert (await door.client.get("/api/v1/analytics/kpis", headers=fresh)).status_code == 200
    me = await door.client.get("/api/v1/staff/me", headers=fresh)
    assert me.json()["role"] == "decision_maker"


async def test_the_public_document_shows_routings_paths(door: Door) -> None:
    document = (await door.client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    for path in ("/api/v1/inbox", "/api/v1/cases/{reference}", "/api/v1/entities",
                 "/api/v1/requests/{reference}/accept", "/api/v1/requests/{reference}/merge",
                 "/api/v1/staff/auth/token", "/api/v1/directory/people"):
        assert path in paths, path
    assert paths["/api/v1/requests/{reference}/accept"]["post"]["x-permission"] == (
        "cases.accept")
    assert not any(path.startswith("/internal") for path in paths)
