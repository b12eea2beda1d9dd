"""`/livez`, `/readyz` and `/metrics`, the same on every service.

Liveness asks nothing of anyone: a database outage must not get pods killed. Readiness asks
the database, the bus, and whether the schema is at the head revision this code expects.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from shared.db import ping
from shared.migrations import schema_serves
from shared.web import metrics_response

READINESS_TIMEOUT_S = 2.0


def health_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        runtime = request.app.state.runtime
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(ping(runtime.engine), READINESS_TIMEOUT_S)
            checks["database"] = "ok"
            checks["schema"] = await schema_serves(runtime.engine, runtime.head_revision)
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["bus"] = "ok" if runtime.bus.is_connected() else "unavailable"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return metrics_response()

    return router
