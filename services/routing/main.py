"""The routing service: its definition and app factory (`create_app`, for uvicorn --factory).

Routing owns the directory of government (and announces it), signs staff in, places every
submitted request with the right sector's main liaison officer (or the CMU), carries the
officers' and the CMU's actions through the request's life, and keeps each request's
hash-chained timeline. It never sees a requester's contact points or a corruption report.

This is routing's composition root: a route goes in its domain package's `routes` (directory,
staff, cases: each with its service, schemas and repository), a handler in `cases.handlers`
(registered by its payload class), a table in `models` with its migration, and what routing
holds beside the runtime in `context.Routing`, built here by `open_routing`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.routing.cases.handlers import LIFECYCLE, PLACEMENT
from services.routing.cases.routes import router as cases_router
from services.routing.config import RoutingSettings
from services.routing.context import Routing, seed_once, seed_until_done
from services.routing.directory.routes import admin as directory_admin
from services.routing.directory.routes import public as directory_public
from services.routing.models import metadata
from services.routing.staff.routes import internal as staff_internal
from services.routing.staff.routes import router as staff_router
from shared.auth import TokenIssuer, load_keys
from shared.runtime import Runtime, ServiceDefinition, Subscription
from shared.service import create_service_app


@asynccontextmanager
async def open_routing(runtime: Runtime) -> AsyncIterator[Routing]:
    settings = runtime.settings_as(RoutingSettings)
    _keys, signing_key = load_keys(settings)
    issuer = None
    if signing_key is not None:
        issuer = TokenIssuer(signing_key, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience, clock=runtime.wall_clock,
                             lifetime=settings.staff_token_lifetime)
    seeding = None
    if not await seed_once(runtime):  # the schema may not be migrated yet: keep trying
        seeding = asyncio.create_task(
            seed_until_done(runtime, settings.seed_retry_interval_s), name="routing-seed"
        )
    try:
        yield Routing(settings=settings, clock=runtime.clock, wall_clock=runtime.wall_clock,
                      outbox=runtime.outbox, issuer=issuer)
    finally:
        if seeding is not None:
            seeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await seeding


DEFINITION = ServiceDefinition(
    name="routing",
    title="Routing — directory and case handling",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=RoutingSettings,
    routers=[directory_public, directory_admin, staff_router, staff_internal, cases_router],
    subscriptions=[
        # Apart, so that ratings and deadlines never wait behind a backlog of submissions.
        Subscription("placement", PLACEMENT),
        Subscription("lifecycle", LIFECYCLE),
    ],
    resources=open_routing,
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
