"""Staff standing at the edge: the gateway asks routing about every staff token it forwards.

Routing is a stand-in here, served over real HTTP, that says which tokens lost their standing;
the real routing service behind the gateway is tested in tests/routing/test_through_gateway.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.config import GatewaySettings
from gateway.standing import STANDING_PATH
from shared.events.vocabulary import STAFF_ROLES, Role
from tests.breakable_link import BreakableLink
from tests.gateway.conftest import GatewayFactory, Tokens, UvicornThread, bearer

PROBLEM = "application/problem+json"


@dataclass
class StandInRouting:
    """Answers the standing call: 401 for the tokens in `lost`, 200 for the others."""

    url: str = ""
    lost: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def routing() -> Iterator[StandInRouting]:
    stand_in = StandInRouting()
    app = FastAPI()

    @app.get(STANDING_PATH)
    async def standing(request: Request) -> JSONResponse:
        token = request.headers["authorization"].removeprefix("Bearer ")
        stand_in.asked.append(token)
        if token in stand_in.lost:
            return JSONResponse({"type": "/problems/staff-standing-lost", "status": 401},
                                status_code=401, media_type=PROBLEM)
        return JSONResponse({"standing": "active"})

    @app.get("/{path:path}")
    async def serve(path: str) -> JSONResponse:
        stand_in.served.append(f"/{path}")
        return JSONResponse({"served": path})

    with UvicornThread(app) as server:
        stand_in.url = server.url
        yield stand_in


@pytest.fixture(autouse=True)
def _forget(routing: StandInRouting) -> None:
    routing.lost.clear()
    routing.asked.clear()
    routing.served.clear()


async def test_a_staff_token_in_good_standing_goes_through(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    token = tokens.issue(Role.integrity_commission, "commission-1")
    async with make_gateway(urls={"routing": routing.url}) as gw:
        response = await gw.client.get("/api/v1/integrity/inbox", headers=bearer(token))
        assert response.status_code == 200
        assert routing.asked == [token]
        assert gw.services["integrity"].last.headers["authorization"] == f"Bearer {token}"


async def test_a_staff_token_that_lost_its_standing_is_refused_at_the_edge(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    token = tokens.issue(Role.main_liaison_officer, "officer-1")
    routing.lost.add(token)
    async with make_gateway(urls={"routing": routing.url}) as gw:
        response = await gw.client.get(
            "/api/v1/analytics/kpis", headers={**bearer(token), "Accept-Language": "en"})
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert body["type"] == "/problems/staff-standing-lost"
        assert "sign in again" in body["detail"]
        assert not gw.services["analytics"].seen


async def test_every_staff_role_is_checked_and_no_other_role_is(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    async with make_gateway(urls={"routing": routing.url}) as gw:
        for role in Role:
            token = tokens.issue(role, f"{role.value}-1")
            response = await gw.client.get("/api/v1/holidays", headers=bearer(token))
            assert response.status_code == 200, role
            assert (token in routing.asked) is (role in STAFF_ROLES), role
    assert {Role.citizen, Role.operator, Role.service}.isdisjoint(STAFF_ROLES)


async def test_a_request_for_routing_itself_is_left_to_routing_to_check(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    # Routing checks standing on each of its staff routes as it serves them: asking it first
    # would ask the same question twice (the real check: tests/routing/test_through_gateway.py).
    token = tokens.issue(Role.main_liaison_officer, "officer-2")
    async with make_gateway(urls={"routing": routing.url}) as gw:
        response = await gw.client.get("/api/v1/inbox", headers=bearer(token))
        assert response.status_code == 200
        assert routing.asked == []
        assert routing.served == ["/api/v1/inbox"]


async def test_when_routing_cannot_answer_staff_are_refused_not_waved_through(
    make_gateway: GatewayFactory, tokens: Tokens, dead_url: str
) -> None:
    staff = bearer(tokens.issue(Role.cmu_staff, "cmu-1"))
    async with make_gateway(urls={"routing": dead_url}) as gw:
        refused = await gw.client.get("/api/v1/integrity/inbox", headers=staff)
        assert refused.status_code == 503
        assert refused.headers["content-type"] == PROBLEM
        assert refused.headers["retry-after"] == "5"
        assert not gw.services["integrity"].seen
        # Citizens do not depend on routing being up.
        citizen = await gw.client.get("/api/v1/requests", headers=bearer(tokens.issue()))
        assert citizen.status_code == 200


async def test_while_routing_is_away_tokens_it_vouched_for_lately_go_through_and_no_others(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A routing restart degrades staff work rather than stopping it, within a stated bound."""
    token = tokens.issue(Role.integrity_commission, "commission-1")
    vouched, unknown = bearer(token), bearer(tokens.issue(Role.integrity_commission, "other"))
    address = urlsplit(routing.url)
    async with (
        BreakableLink(address.hostname or "127.0.0.1", address.port or 80) as link,
        make_gateway(urls={"routing": f"http://127.0.0.1:{link.port}"},
                     staff_standing_grace_s=1.5) as gw,
    ):
        inbox = "/api/v1/integrity/inbox"
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 200
        caplog.clear()
        await link.cut()  # routing is away: connections reset, new ones refused
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 200
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 200
        refused = await gw.client.get(inbox, headers=unknown)
        assert (refused.status_code, refused.headers["retry-after"]) == (503, "5")
        said = [r.getMessage() for r in caplog.records if r.name == "gateway.standing"]
        assert len(said) == 1
        assert said[0].startswith("staff standing: routing cannot answer")

        await asyncio.sleep(1.6)  # past the grace: the bound holds
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 503

        await link.restore()
        routing.lost.add(token)  # deactivated meanwhile
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 401
        # Refused for good: an outage right after does not bring it back.
        await link.cut()
        assert (await gw.client.get(inbox, headers=vouched)).status_code == 503
        assert len(gw.services["integrity"].seen) == 3


async def test_the_standing_call_is_not_a_public_path(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    async with make_gateway(urls={"routing": routing.url}) as gw:
        response = await gw.client.get(STANDING_PATH, headers=bearer(tokens.issue()))
        assert response.status_code == 404
        assert routing.asked == []


async def test_the_check_can_be_switched_off_outside_production_only(
    make_gateway: GatewayFactory, tokens: Tokens, routing: StandInRouting
) -> None:
    token = tokens.issue(Role.cmu_admin, "admin-1")
    routing.lost.add(token)
    async with make_gateway(urls={"routing": routing.url}, staff_standing_check=False) as gw:
        response = await gw.client.get("/api/v1/holidays", headers=bearer(token))
        assert response.status_code == 200
        assert routing.asked == []
    with pytest.raises(ValueError, match="BKH_STAFF_STANDING_CHECK must be on"):
        GatewaySettings(environment="production", staff_standing_check=False)


async def test_staff_sign_in_has_its_own_rate_limit(make_gateway: GatewayFactory) -> None:
    async with make_gateway() as gw:
        statuses = [(await gw.client.post("/api/v1/staff/auth/token", json={})).status_code
                    for _ in range(11)]
        assert statuses[:10] == [201] * 10
        assert statuses[10] == 429
