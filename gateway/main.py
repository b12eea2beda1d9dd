"""The gateway app: the one public door to every service.

In order, for each request: a request id (RequestContextMiddleware), CORS, the accepted content
types (415), the token checked at the edge when there is one (401), the rate limits (429), the
route table (404), the body cap (413), and then the request goes to its service unchanged —
Authorization header included, since every service verifies the token again and never trusts a
header that only the gateway could have set.

`create_gateway` builds the same app for both ways to run: with `transports` (the embedded mode
passes `httpx.ASGITransport(app=service_app)` per service) or over pooled HTTP to the URLs in
the settings.

What it must never do: keep state that matters beyond a process (rate-limit counts go to the
configured storage), answer for a service (it forwards or says the service is unavailable), or
mount the operator's clock in production.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import GatewaySettings
from gateway.openapi import OpenApiAggregator
from gateway.ops import (
    ClockAdvance,
    ClockFanOut,
    read_now,
    set_everywhere,
    target_instant,
)
from gateway.proxy import Proxy, Upstreams, client_address
from gateway.ratelimit import RateLimiter
from gateway.routes import resolve
from gateway.standing import StandingRecord, check_standing, needs_standing
from shared.auth import Principal, TokenVerifier, bearer_token, load_keys
from shared.dependencies import BEARER
from shared.errors import (
    Forbidden,
    NotFound,
    Problem,
    Text,
    Unauthorized,
    install_problem_handlers,
    problem_response,
)
from shared.events.vocabulary import Role
from shared.logging import request_id
from shared.memory import tune_for_serving
from shared.openapi import describe_truthfully
from shared.web import (
    NO_FASTAPI_TELEMETRY,
    ContentTypeMiddleware,
    RequestContextMiddleware,
    metrics_response,
)

log = logging.getLogger(__name__)

OPENAPI_PATH = "/api/v1/openapi.json"
# Where client generators and API tools look first, beside the API's own prefix.
OPENAPI_PATHS = (OPENAPI_PATH, "/openapi.json")
DOCS_PATH = "/docs"
DOCS_ASSETS_PATH = "/docs/assets"
CLOCK_ADVANCE_PATH = "/api/v1/ops/clock/advance"
PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_NO_ROUTE = Text("لا يوجد مسار بهذا العنوان في الواجهة.", "There is no such path in the API.")
_OPERATORS_ONLY = Text("للمشغّلين فقط.", "Operators only.")
_TWO_TOKENS = Text("أكثر من ترويسة Authorization واحدة.", "More than one Authorization header.")


def _swagger_assets() -> Path | None:
    """Swagger UI's files from the `fastapi-offline` package, if installed: no CDN needed.

    The platform must run without internet; without the package the page falls back to the
    CDN (the API and the JSON document work either way).
    """
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    static = Path(spec.origin).parent / "static"
    return static if (static / "swagger-ui-bundle.js").is_file() else None


@dataclass
class GatewayState:
    """What the endpoints share; the upstream side exists between lifespan start and stop."""

    settings: GatewaySettings
    verifier: TokenVerifier
    limiter: RateLimiter
    standing: StandingRecord
    upstreams: Upstreams | None = None
    proxy: Proxy | None = None
    openapi: OpenApiAggregator | None = None

    def require_proxy(self) -> Proxy:
        if self.proxy is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return self.proxy

    def authenticate(self, request: Request) -> Principal | None:
        values = request.headers.getlist("authorization")
        if len(values) > 1:
            # The gateway would check one and a service might read the other.
            raise Unauthorized(_TWO_TOKENS)
        token = bearer_token(values[0] if values else None)
        return self.verifier.verify(token) if token else None

    async def admit(self, request: Request, *, served_by: str | None = None) -> Principal | None:
        """Token (when there is one), rate limits and, for staff, their standing in the
        directory now: who is calling and whether they may now. `served_by`: the service the
        route table sends the request to (None: none, or not a forwarded request)."""
        method, path = request.method, request.scope["path"]
        address = client_address(request, self.settings.trusted_proxies)
        try:
            principal = self.authenticate(request)
        except Unauthorized:
            # A forged or garbage token still spends the address's budget: guessing is costly.
            await self.limiter.check(method, path, f"ip:{address}")
            raise
        client = f"sub:{principal.subject}" if principal else f"ip:{address}"
        await self.limiter.check(method, path, client)
        # After the rate limit, so that a flood of staff tokens does not flood routing too.
        if self.settings.staff_standing_check and needs_standing(principal, served_by):
            assert self.upstreams is not None, "the gateway's lifespan has not started"
            await check_standing(self.upstreams.client("routing"),
                                 request.headers["authorization"],
                                 timeout_s=self.settings.upstream_probe_timeout_s,
                                 record=self.standing)
        return principal


def _dot_segments(path: str) -> bool:
    # httpx would normalise `/a/../b` to `/b`: the service would see another path than the one
    # routed here. Such paths are not part of the API.
    return any(segment in (".", "..") for segment in path.split("/"))


class ForwardingMiddleware:
    """A request the route table gives to a service goes to it from here, past FastAPI's router
    and its dependency machinery: a fifth of the gateway's CPU per forwarded request. Whatever
    the table does not serve (the gateway's own endpoints, unknown paths) goes on to FastAPI."""

    def __init__(self, app: ASGIApp, *, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and not _dot_segments(scope["path"]):
            route = resolve(scope["method"], scope["path"])
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # its row of the table labels the request's metrics
        request = Request(scope, receive)
        try:
            await self.state.admit(request, served_by=route.service)
            proxy = self.state.require_proxy()
            proxy.check_declared_size(request, route)
            response = await proxy.forward(request, route)
        except Problem as problem:
            response = problem_response(problem, request)
        await response(scope, receive, send)


async def _probe(client: httpx.AsyncClient, timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s * 2):
            response = await client.get("/readyz", timeout=timeout_s)
    except (httpx.HTTPError, TimeoutError):
        return "unavailable"
    return "ok" if response.status_code == 200 else "not ready"


def create_gateway(
    settings: GatewaySettings | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    settings = settings or GatewaySettings()
    if verifier is None:
        keys, _signing_key = load_keys(settings)
        # Real time, like every verifier: the gateway keeps no simulated clock of its own.
        verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    state = GatewayState(settings=settings, verifier=verifier, limiter=RateLimiter(settings),
                         standing=StandingRecord(settings.staff_standing_grace_s))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = Upstreams.open(settings, transports)
        state.upstreams = upstreams
        state.proxy = Proxy(settings, upstreams)
        state.openapi = OpenApiAggregator(
            upstreams,
            cache_s=settings.openapi_cache_s,
            timeout_s=settings.upstream_probe_timeout_s,
            own_document=app.openapi,
        )
        tune_for_serving()
        try:
            yield
        finally:
            state.proxy = None
            state.openapi = None
            state.upstreams = None
            await upstreams.aclose()
            await state.limiter.aclose()

    app = FastAPI(
        title="Bekhedmetkom gateway",
        telemetry=NO_FASTAPI_TELEMETRY,
        version="1.0.0",
        lifespan=lifespan,
        # The gateway's own schema is not the API's: /docs shows the merged document.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.gateway = state
    install_problem_handlers(app)
    describe_truthfully(app)
    # Added innermost first: requests meet RequestContext, then CORS, then the content types,
    # then, when the route table serves them, the forwarding.
    app.add_middleware(ForwardingMiddleware, state=state)
    app.add_middleware(ContentTypeMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language",
                           "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Location", "Content-Language"],
            # Tokens travel in the Authorization header, never in cookies.
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, service="gateway")

    # --- the gateway's own endpoints ---------------------------------------------------------

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        upstreams = state.upstreams
        if upstreams is None:
            return JSONResponse({"status": "not ready"}, status_code=503)
        names = upstreams.names
        probes = await asyncio.gather(
            *(_probe(upstreams.client(n), settings.upstream_probe_timeout_s) for n in names)
        )
        # Ready even when services are down, by design: the gateway itself works (it answers a
        # clear 503 for a missing service), and failing readiness here would take every replica
        # out of the load balancer — one service's outage would become the whole platform's.
        # The per-service states are for people and dashboards, not for the kubelet.
        return JSONResponse({
            "status": "ready",
            "upstreams": dict(zip(names, probes, strict=True)),
            "rate_limit_storage": "ok" if await state.limiter.healthy() else "unavailable",
        })

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()

    async def openapi_document() -> JSONResponse:
        if state.openapi is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return JSONResponse(await state.openapi.document())

    for path in OPENAPI_PATHS:
        app.add_api_route(path, openapi_document, methods=["GET"], include_in_schema=False)

    assets = _swagger_assets()
    if assets is not None:
        app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        local: dict[str, Any] = {}
        if assets is not None:
            local = {
                "swagger_js_url": f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
                "swagger_css_url": f"{DOCS_ASSETS_PATH}/swagger-ui.css",
                "swagger_favicon_url": f"{DOCS_ASSETS_PATH}/favicon.png",
            }
        return get_swagger_ui_html(
            openapi_url=OPENAPI_PATH, title="Bekhedmetkom API — بخدمتكم", **local
        )

    if not settings.production:

        async def operator(
            request: Request, _token: Annotated[str | None, Depends(BEARER)]
        ) -> Principal:
            # A dependency, so FastAPI runs it before reading the body: 401/403 before 422.
            # (`BEARER` declares the token in the document; `admit` reads and checks it.)
            principal = await state.admit(request)
            if principal is None:
                raise Unauthorized()
            if principal.role is not Role.operator:
                raise Forbidden(_OPERATORS_ONLY)
            return principal

        @app.post(CLOCK_ADVANCE_PATH, tags=["operations"], dependencies=[Depends(operator)])
        async def advance_clock(advance: ClockAdvance, request: Request) -> ClockFanOut:
            """Move every service's simulated clock forward (operators, outside production)."""
            upstreams = state.upstreams
            assert upstreams is not None
            headers = {"authorization": request.headers["authorization"]}
            rid = request_id.get()
            if rid:
                headers["x-request-id"] = rid
            timeout = settings.upstream_probe_timeout_s
            target = target_instant(await read_now(upstreams, headers, timeout), advance)
            services = await set_everywhere(upstreams, target, headers, timeout)
            log.info("simulated clock advanced", extra={"to": target.isoformat()})
            return ClockFanOut(now=target, services=services)

    # --- what neither the gateway nor the route table serves ---------------------------------

    @app.api_route("/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def unknown(request: Request) -> Response:
        await state.admit(request)  # probing for paths spends the budget too
        raise NotFound(_NO_ROUTE)

    return app


def create_app() -> FastAPI:
    """`uvicorn --factory gateway.main:create_app`: settings from the environment."""
    return create_gateway(GatewaySettings())
