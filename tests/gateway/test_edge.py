"""At the edge: tokens, rate limits, CORS, problem bodies in both languages, health."""

from __future__ import annotations

import pytest

from gateway.routes import resolve
from tests.gateway.conftest import GatewayFactory, Tokens, bearer

PROBLEM = "application/problem+json"


# --- tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["expired", "forged", "alg_none", "garbage", "malformed_header"])
async def test_a_bad_token_is_a_401_problem_and_never_reaches_a_service(
    make_gateway: GatewayFactory, tokens: Tokens, kind: str
) -> None:
    headers = {
        "expired": bearer(tokens.expired()),
        "forged": bearer(tokens.forged()),
        "alg_none": bearer(tokens.alg_none()),
        "garbage": bearer("not.a.token"),
        "malformed_header": {"Authorization": "Basic dXNlcjpwYXNz"},
    }[kind]
    async with make_gateway() as gw:
        response = await gw.client.get("/api/v1/requests", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "/problems/unauthorized"
        assert not gw.services["intake"].seen


async def test_an_expired_token_says_so(make_gateway: GatewayFactory, tokens: Tokens) -> None:
    async with make_gateway() as gw:
        response = await gw.client.get(
            "/api/v1/requests", headers={**bearer(tokens.expired()), "Accept-Language": "en"}
        )
        assert response.json()["detail"] == "The access token has expired"


async def test_two_authorization_headers_are_refused(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    async with make_gateway() as gw:
        response = await gw.client.get(
            "/api/v1/requests",
            headers=[("Authorization", f"Bearer {tokens.issue()}"),
                     ("Authorization", f"Bearer {tokens.forged()}")],
        )
        assert response.status_code == 401
        assert not gw.services["intake"].seen


async def test_a_valid_token_passes_and_the_service_sees_it_unchanged(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    token = tokens.issue()
    async with make_gateway() as gw:
        response = await gw.client.get("/api/v1/requests", headers=bearer(token))
        assert response.status_code == 200
        assert gw.services["intake"].last.headers["authorization"] == f"Bearer {token}"


async def test_anonymous_requests_pass_through(make_gateway: GatewayFactory) -> None:
    async with make_gateway() as gw:
        response = await gw.client.post("/api/v1/citizens/registrations", json={"n": 1})
        assert response.status_code == 201
        assert "authorization" not in gw.services["intake"].last.headers


# --- rate limits ---------------------------------------------------------------------------------


async def test_the_per_route_limit_answers_429_with_retry_after(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway() as gw:
        statuses = [
            (await gw.client.post("/api/v1/auth/token", json={"u": "x"})).status_code
            for _ in range(11)
        ]
        assert statuses[:10] == [201] * 10
        assert statuses[10] == 429
        refused = await gw.client.post("/api/v1/auth/token", json={"u": "x"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert len(gw.services["intake"].seen) == 10
        # Other routes keep the client's global budget.
        assert (await gw.client.get("/api/v1/requests")).status_code == 200


async def test_route_limits_are_configurable_and_per_client(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    rules = [{"name": "reports", "methods": ["POST"], "path": r"^/api/v1/reports/?$",
              "limit": "2/minute"}]
    async with make_gateway(rate_limit_routes=rules) as gw:
        for _ in range(2):
            assert (await gw.client.post("/api/v1/reports", json={})).status_code == 201
        assert (await gw.client.post("/api/v1/reports", json={})).status_code == 429
        # Another client (a token's subject, not the same address) has its own budget.
        other = bearer(tokens.issue(subject="citizen-2"))
        assert (await gw.client.post("/api/v1/reports", json={}, headers=other)).status_code == 201


async def test_the_global_limit_counts_every_route(make_gateway: GatewayFactory) -> None:
    async with make_gateway(rate_limit_per_client="3/minute") as gw:
        paths = ["/api/v1/entities", "/api/v1/holidays", "/api/v1/requests"]
        assert [(await gw.client.get(p)).status_code for p in paths] == [200, 200, 200]
        refused = await gw.client.get("/api/v1/analytics/kpis")
        assert refused.status_code == 429
        assert "retry-after" in refused.headers


async def test_forged_tokens_spend_the_address_budget(
    make_gateway: GatewayFactory, tokens: Tokens
) -> None:
    async with make_gateway(rate_limit_per_client="3/minute") as gw:
        forged = bearer(tokens.forged())
        statuses = [(await gw.client.get("/api/v1/requests", headers=forged)).status_code
                    for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


async def test_with_redis_away_sign_in_is_still_limited_in_each_replica(
    make_gateway: GatewayFactory, dead_url: str,
) -> None:
    """A Redis outage neither shuts the platform (failing closed) nor lifts the limits
    (failing open): each replica counts the same budgets in its own memory meanwhile."""
    away = dead_url.replace("http://", "redis://")
    async with make_gateway(rate_limit_storage_uri=away) as gw:
        statuses = [(await gw.client.post("/api/v1/auth/token", json={})).status_code
                    for _ in range(11)]
        assert statuses == [201] * 10 + [429]
        assert (await gw.client.get("/api/v1/entities")).status_code == 200
        metrics = (await gw.client.get("/metrics")).text
        assert "bkh_gateway_rate_limit_storage_errors_total" in metrics
        ready = (await gw.client.get("/readyz")).json()
        assert ready["rate_limit_storage"] != "ok"


# --- CORS ----------------------------------------------------------------------------------------


async def test_cors_preflight_is_answered_for_an_allowed_origin_only(
    make_gateway: GatewayFactory,
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with make_gateway(cors_origins=["https://portal.gov.jo"]) as gw:
        allowed = await gw.client.options(
            "/api/v1/requests", headers={**preflight, "Origin": "https://portal.gov.jo"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://portal.gov.jo"
        assert "POST" in allowed.headers["access-control-allow-methods"]

        refused = await gw.client.options(
            "/api/v1/requests", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in refused.headers
        assert refused.status_code >= 400

        simple = await gw.client.get(
            "/api/v1/requests", headers={"Origin": "https://portal.gov.jo"}
        )
        assert simple.headers["access-control-allow-origin"] == "https://portal.gov.jo"
        assert not any(s.method == "OPTIONS" for s in gw.services["intake"].seen)


async def test_no_cors_by_default(make_gateway: GatewayFactory) -> None:
    async with make_gateway() as gw:
        response = await gw.client.get(
            "/api/v1/requests", headers={"Origin": "https://portal.gov.jo"}
        )
        assert "access-control-allow-origin" not in response.headers


# --- problems in both languages ------------------------------------------------------------------


async def test_problems_are_arabic_by_default_and_english_on_request(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway() as gw:
        arabic = await gw.client.get("/api/v1/nowhere")
        assert arabic.headers["content-type"] == PROBLEM
        assert arabic.headers["content-language"] == "ar"
        assert arabic.json()["title"] == "غير موجود"
        assert arabic.json()["status"] == 404

        english = await gw.client.get("/api/v1/nowhere", headers={"Accept-Language": "en"})
        assert english.headers["content-language"] == "en"
        assert english.json()["title"] == "Not found"
        assert english.json()["detail"] == "There is no such path in the API."

        unsupported = await gw.client.post(
            "/api/v1/requests", content=b"a=b",
            headers={"Content-Type": "text/plain", "Accept-Language": "en-GB,en;q=0.9"},
        )
        assert unsupported.status_code == 415
        assert unsupported.json()["title"] == "Unsupported content type"


# --- health --------------------------------------------------------------------------------------


async def test_liveness_readiness_and_metrics(
    make_gateway: GatewayFactory, dead_url: str
) -> None:
    async with make_gateway(urls={"notify": dead_url}) as gw:
        live = await gw.client.get("/livez")
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}

        ready = await gw.client.get("/readyz")
        # Ready although notify is down: the gateway still serves every other service.
        assert ready.status_code == 200
        body = ready.json()
        assert body["upstreams"]["notify"] == "unavailable"
        assert body["upstreams"]["intake"] == "ok"
        assert set(body["upstreams"]) == {
            "intake", "routing", "sla", "notify", "integrity", "analytics"
        }
        assert body["rate_limit_storage"] == "ok"

        await gw.client.get("/api/v1/entities")
        metrics = await gw.client.get("/metrics")
        assert metrics.status_code == 200
        assert "bkh_gateway_upstream_requests_total" in metrics.text
        assert 'service="gateway"' in metrics.text
        # Named by the row of the route table that served it: a bounded set of labels.
        row = resolve("GET", "/api/v1/entities")
        assert row is not None
        assert f'method="GET",route="{row.path}",service="gateway",status="200"' in metrics.text
