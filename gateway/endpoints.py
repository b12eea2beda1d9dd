"""The gateway's own endpoints, beside what it forwards: the probes and metrics, the merged
OpenAPI document and its docs page, and (outside production only) the operators' clock.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from pathlib import Path
from typing import Annotated, Any, Final

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gateway.ops import ClockAdvance, ClockFanOut, read_now, set_everywhere, target_instant
from gateway.state import GatewayState
from shared.auth import Principal
from shared.dependencies import BEARER
from shared.errors import Forbidden, Text, Unauthorized
from shared.events.vocabulary import Role
from shared.logging import request_id
from shared.web import metrics_response

log = logging.getLogger(__name__)

OPENAPI_PATH: Final = "/api/v1/openapi.json"
# Where client generators and API tools look first, beside the API's own prefix.
OPENAPI_PATHS: Final = (OPENAPI_PATH, "/openapi.json")
DOCS_PATH: Final = "/docs"
DOCS_ASSETS_PATH: Final = "/docs/assets"
CLOCK_ADVANCE_PATH: Final = "/api/v1/ops/clock/advance"

_OPERATORS_ONLY = Text("للمشغّلين فقط.", "Operators only.")


def own_endpoints(state: GatewayState) -> APIRouter:
    """/livez, /readyz, /metrics and the merged OpenAPI document."""
    router = APIRouter(include_in_schema=False)
    settings = state.settings

    @router.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
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

    @router.get("/metrics")
    async def metrics() -> Response:
        return metrics_response()

    async def openapi_document() -> JSONResponse:
        if state.openapi is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return JSONResponse(await state.openapi.document())

    for path in OPENAPI_PATHS:
        router.add_api_route(path, openapi_document, methods=["GET"])
    return router


def swagger_assets() -> Path | None:
    """Swagger UI's files from the `fastapi-offline` package, if installed: no CDN needed.

    The platform must run without internet; without the package the page falls back to the
    CDN (the API and the JSON document work either way).
    """
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    static = Path(spec.origin).parent / "static"
    return static if (static / "swagger-ui-bundle.js").is_file() else None


def docs_page(*, served_locally: bool) -> APIRouter:
    """/docs: Swagger UI over the merged document, its files served from DOCS_ASSETS_PATH."""
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_PATH)
    async def docs() -> HTMLResponse:
        local: dict[str, Any] = {}
        if served_locally:
            local = {
                "swagger_js_url": f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
                "swagger_css_url": f"{DOCS_ASSETS_PATH}/swagger-ui.css",
                "swagger_favicon_url": f"{DOCS_ASSETS_PATH}/favicon.png",
            }
        return get_swagger_ui_html(
            openapi_url=OPENAPI_PATH, title="Bekhedmetkom API — بخدمتكم", **local
        )

    return router


def operators_clock(state: GatewayState) -> APIRouter:
    """Moving every service's simulated clock at once: never mounted in production."""
    router = APIRouter()
    settings = state.settings

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

    @router.post(CLOCK_ADVANCE_PATH, tags=["operations"], dependencies=[Depends(operator)])
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

    return router


async def _probe(client: httpx.AsyncClient, timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s * 2):
            response = await client.get("/readyz", timeout=timeout_s)
    except (httpx.HTTPError, TimeoutError):
        return "unavailable"
    return "ok" if response.status_code == 200 else "not ready"
