"""The merged OpenAPI document, Swagger UI, and the operator's clock fan-out."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from gateway.openapi import merge
from shared.auth import KeySet, TokenVerifier
from shared.clock import SystemClock
from shared.events.vocabulary import Role
from tests.gateway.conftest import AUDIENCE, ISSUER, FakeService, GatewayFactory, Tokens, bearer

# --- OpenAPI -------------------------------------------------------------------------------------


async def test_the_merged_document_has_every_service_and_names_the_missing_ones(
    make_gateway: GatewayFactory, dead_url: str, real_analytics: tuple[FakeService, str]
) -> None:
    _, analytics_url = real_analytics
    async with make_gateway(urls={"integrity": dead_url, "analytics": analytics_url}) as gw:
        response = await gw.client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        document = response.json()

    paths = document["paths"]
    assert "/api/v1/requests/{reference}" in paths        # intake, in process
    assert "/api/v1/entities/{entity_id}" in paths        # routing, in process
    assert "/api/v1/analytics/kpis/{kpi}" in paths        # analytics, over real HTTP
    assert "/api/v1/integrity/inbox/{eid}" not in paths   # integrity is down…
    assert document["x-unavailable-services"] == ["integrity"]  # …and the document says so
    # A path a service documents but the table gives to nobody is not public.
    assert "/api/v1/internal-only" not in paths
    # Each service's own `Thing` survives, under its prefix, and refs follow.
    schemas = document["components"]["schemas"]
    assert {"intake__Thing", "routing__Thing", "analytics__Thing"} <= set(schemas)
    assert "intake" in schemas["intake__Thing"]["properties"]
    assert "routing" in schemas["routing__Thing"]["properties"]
    assert schemas["routing__Thing"]["title"] == "routing__Thing"  # Swagger UI lists titles
    assert "integrity" in document["info"]["description"]
    ref = paths["/api/v1/entities/{entity_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/routing__Thing"
    # Identical definitions are shared, not duplicated.
    assert "HTTPValidationError" in schemas or "ClockAdvance" in schemas
    operation_ids = [
        op["operationId"] for item in paths.values() for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))
    # The gateway's own operator endpoint is documented (outside production).
    assert "/api/v1/ops/clock/advance" in paths


def test_merge_keeps_identical_components_once_and_prefixes_differing_ones() -> None:
    def doc(path: str, item_props: dict[str, Any]) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "paths": {path: {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Page"}}}}}}}},
            "components": {"schemas": {
                "Page": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
                "Item": {"type": "object", "properties": item_props},
                "Error": {"type": "object", "properties": {"title": {"type": "string"}}},
            }},
        }

    merged = merge({
        "intake": doc("/api/v1/requests", {"reference": {"type": "string"}}),
        "routing": doc("/api/v1/entities", {"entity": {"type": "string"}}),
    })
    schemas = merged["components"]["schemas"]
    # Item differs, so each is prefixed; Page is textually the same but points at different
    # Items, so it differs too; Error is the same everywhere and is kept once.
    assert set(schemas) == {"Error", "intake__Item", "routing__Item", "intake__Page",
                            "routing__Page"}
    assert schemas["routing__Page"]["properties"]["items"]["items"]["$ref"] == (
        "#/components/schemas/routing__Item"
    )
    entity_ref = merged["paths"]["/api/v1/entities"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert entity_ref == "#/components/schemas/routing__Page"
    assert merged["x-unavailable-services"] == []


async def test_swagger_ui_serves_the_merged_document_without_a_cdn(
    make_gateway: GatewayFactory,
) -> None:
    # The platform runs without internet: Swagger UI's files come from this package.
    assert importlib.util.find_spec("fastapi_offline") is not None, (
        "fastapi-offline is not installed: it belongs in the project's dependencies"
    )
    async with make_gateway() as gw:
        page = await gw.client.get("/docs")
        assert page.status_code == 200
        assert "/api/v1/openapi.json" in page.text
        assert "cdn.jsdelivr.net" not in page.text
        script = await gw.client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert len(script.content) > 100_000

async def test_the_merged_document_is_also_where_api_tools_look_first(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway() as gw:
        prefixed = await gw.client.get("/api/v1/openapi.json")
        root = await gw.client.get("/openapi.json")
    assert root.status_code == prefixed.status_code == 200
    assert root.json() == prefixed.json()
    assert "/api/v1/requests/{reference}" in root.json()["paths"]  # merged, not the gateway's own


# --- the operator's clock ------------------------------------------------------------------------


async def test_the_clock_advance_needs_an_operator(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    async with make_gateway() as gw:
        anonymous = await gw.client.post("/api/v1/ops/clock/advance", json={"seconds": 60})
        assert anonymous.status_code == 401
        citizen = await gw.client.post(
            "/api/v1/ops/clock/advance", json={"seconds": 60}, headers=bearer(tokens.issue())
        )
        assert citizen.status_code == 403
        assert citizen.headers["content-type"] == "application/problem+json"
        admin = await gw.client.post(
            "/api/v1/ops/clock/advance", json={"seconds": 60},
            headers=bearer(tokens.issue(Role.cmu_admin, "admin-1")),
        )
        assert admin.status_code == 403
        assert all(not s.clock_puts for s in gw.services.values())


async def test_the_clock_advance_reaches_every_service(
    make_gateway: GatewayFactory, tokens: Tokens, dead_url: str
) -> None:
    token = tokens.issue(Role.operator, "ops-1")
    async with make_gateway(urls={"notify": dead_url}) as gw:
        # One service lags behind the others: the latest reading is the base.
        gw.services["sla"].now += timedelta(seconds=30)
        base = gw.services["sla"].now
        response = await gw.client.post(
            "/api/v1/ops/clock/advance", json={"seconds": 86_400}, headers=bearer(token)
        )
        assert response.status_code == 200
        body = response.json()
        target = base + timedelta(days=1)
        assert datetime.fromisoformat(body["now"]) == target
        assert body["services"] == {
            "intake": "ok", "routing": "ok", "sla": "ok", "notify": "unavailable",
            "integrity": "ok", "analytics": "ok",
        }
        for service in gw.services.values():
            assert len(service.clock_puts) == 1
            put = service.clock_puts[0]
            assert datetime.fromisoformat(put["body"]["now"]) == target
            assert put["authorization"] == f"Bearer {token}"  # the services check it again

        jump = target + timedelta(days=3)
        to = await gw.client.post(
            "/api/v1/ops/clock/advance", json={"to": jump.isoformat()}, headers=bearer(token)
        )
        assert to.status_code == 200
        assert datetime.fromisoformat(to.json()["now"]) == jump
        backwards = await gw.client.post(
            "/api/v1/ops/clock/advance", json={"to": base.isoformat()}, headers=bearer(token)
        )
        assert backwards.status_code == 409


@pytest.mark.parametrize(
    "body",
    [{}, {"seconds": 0}, {"seconds": -5}, {"seconds": 1, "to": "2030-01-01T00:00:00Z"},
     {"to": "2030-01-01T00:00:00"}, {"seconds": 1, "extra": True}],
)
async def test_the_clock_advance_refuses_nonsense(
    make_gateway: GatewayFactory, tokens: Tokens, body: dict[str, Any]
) -> None:
    async with make_gateway() as gw:
        response = await gw.client.post(
            "/api/v1/ops/clock/advance", json=body,
            headers=bearer(tokens.issue(Role.operator, "ops-1")),
        )
        assert response.status_code == 422
        assert all(not s.clock_puts for s in gw.services.values())


def test_the_clock_advance_does_not_exist_in_production(tmp_path: Any) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text('{"keys": []}')
    settings = GatewaySettings(
        environment="production", jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
        jwt_public_keys_file=keys,
    )
    assert not hasattr(settings, "database_url")  # the gateway stores nothing
    verifier = TokenVerifier(KeySet(), issuer=ISSUER, audience=AUDIENCE, clock=SystemClock())
    app = create_gateway(settings, verifier=verifier)
    paths = {getattr(route, "path", None) for route in app.routes}
    assert "/api/v1/ops/clock/advance" not in paths


def test_production_refuses_a_simulated_clock() -> None:
    with pytest.raises(ValueError, match="SIMULATED_CLOCK"):
        GatewaySettings(
            environment="production", simulated_clock=True,
            jwt_public_keys_file="/etc/bkh/jwks.json",
        )


async def test_the_edge_judges_tokens_on_real_time_across_the_jumps_it_makes(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    """The jump moves the services' business time, not the life of a token: the operator's
    token makes a second jump after the first, and a token minted by an issuer that read the
    simulated day (issued in our future) is refused before and after."""
    async with make_gateway() as gw:
        operator = bearer(tokens.issue(Role.operator, "ops-1"))
        target = gw.services["intake"].now + timedelta(days=2)
        from_the_simulated_day = bearer(tokens.issue(clock_shift=target - datetime.now(UTC)))
        for jump in (target, target + timedelta(days=2)):
            advanced = await gw.client.post(
                "/api/v1/ops/clock/advance", json={"to": jump.isoformat()}, headers=operator
            )
            assert advanced.status_code == 200, advanced.text
            refused = await gw.client.get("/api/v1/requests", headers=from_the_simulated_day)
            assert refused.status_code == 401
