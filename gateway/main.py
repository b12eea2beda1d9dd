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

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import GatewaySettings
from gateway.endpoints import (
    DOCS_ASSETS_PATH,
    docs_page,
    operators_clock,
    own_endpoints,
    swagger_assets,
)
from gateway.openapi import OpenApiAggregator
from gateway.proxy import Proxy, Upstreams
from gateway.ratelimit import RateLimiter
from gateway.routes import resolve
from gateway.standing import StandingRecord
from gateway.state import GatewayState
from shared.auth import TokenVerifier, load_keys
from shared.errors import (
    NotFound,
    Problem,
    Text,
    install_problem_handlers,
    problem_response,
)
from shared.memory import tune_for_serving
from shared.openapi import describe_truthfully
from shared.web import (
    NO_FASTAPI_TELEMETRY,
    ContentTypeMiddleware,
    RequestContextMiddleware,
)

log = logging.getLogger(__name__)

PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_NO_ROUTE = Text("لا يوجد مسار بهذا العنوان في الواجهة.", "There is no such path in the API.")


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

    # --- the gateway's own endpoints --------------------------------------------------------

    app.include_router(own_endpoints(state))
    assets = swagger_assets()
    if assets is not None:
        app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")
    app.include_router(docs_page(served_locally=assets is not None))
    if not settings.production:
        app.include_router(operators_clock(state))

    # --- what neither the gateway nor the route table serves ---------------------------------

    @app.api_route("/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def unknown(request: Request) -> Response:
        await state.admit(request)  # probing for paths spends the budget too
        raise NotFound(_NO_ROUTE)

    return app


def create_app() -> FastAPI:
    """`uvicorn --factory gateway.main:create_app`: settings from the environment."""
    return create_gateway(GatewaySettings())
