"""A service's FastAPI app: `create_service_app` turns a `ServiceDefinition` into a running app
whose lifespan opens the service's `Runtime` (database, bus, clock; the outbox relay and the
consumers where this process does the work) and closes it again. The embedded mode passes one
in-process bus and one clock to every service; the distributed mode lets each build its own
from settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI

from shared.bus import (
    Bus,
)
from shared.clock import WALL_CLOCK, Clock, SimulatedClock
from shared.dependencies import storable_text
from shared.errors import install_problem_handlers
from shared.health import health_router
from shared.memory import tune_for_serving
from shared.openapi import describe_truthfully
from shared.ops import clock_router
from shared.runtime import Runtime, ServiceDefinition
from shared.settings import BaseServiceSettings
from shared.web import NO_FASTAPI_TELEMETRY, ContentTypeMiddleware, RequestContextMiddleware


def create_service_app(
    definition: ServiceDefinition,
    settings: BaseServiceSettings | None = None,
    *,
    bus: Bus | None = None,
    clock: Clock | None = None,
    wall_clock: Clock = WALL_CLOCK,
    peers: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`clock` is the business clock (None: from the settings); `wall_clock` the real time
    tokens and sessions live by, which only a test replaces (to make an expiry come)."""
    settings = settings or definition.load_settings()
    if settings.production and isinstance(clock, SimulatedClock):
        raise RuntimeError("a simulated clock cannot exist in production")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(definition, settings, bus=bus, clock=clock,
                                     wall_clock=wall_clock, peers=peers)
        app.state.runtime = runtime
        try:
            if settings.run_workers:
                await runtime.start_workers()
            tune_for_serving()
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title=definition.title,
        telemetry=NO_FASTAPI_TELEMETRY,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # the gateway serves the one aggregated document
        redoc_url=None,
        dependencies=[Depends(storable_text)],
    )
    install_problem_handlers(app)
    describe_truthfully(app)
    app.add_middleware(ContentTypeMiddleware)
    app.add_middleware(RequestContextMiddleware, service=definition.name)
    app.include_router(health_router())
    for router in definition.routers:
        app.include_router(router)
    # The operator's clock exists only where a simulated clock can.
    simulated = isinstance(clock, SimulatedClock) or (clock is None and settings.simulated_clock)
    if simulated and not settings.production:
        app.include_router(clock_router())
    return app
