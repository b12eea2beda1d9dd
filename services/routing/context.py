"""Routing's composition root: what it holds beside the kernel's runtime, opened with the app.

The kernel's runtime gives the database, the bus, the outbox and the clock; routing adds the
issuer of staff tokens and, at start-up, seeds an empty directory. Both happen in a router
lifespan (FastAPI runs it inside the kernel's, so the runtime exists), which only API processes
have: a separate worker process (`python -m services work routing`) neither signs in nor seeds.

What it must never do: open anything at import time; block start-up on a schema that is not
migrated yet (seeding then retries in the background until it is).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from services.routing.config import RoutingSettings
from services.routing.directory.seed import seed_directory
from shared.auth import TokenIssuer, load_keys
from shared.bus import Outbox
from shared.clock import Clock
from shared.service import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Routing:
    settings: RoutingSettings
    clock: Clock
    wall_clock: Clock  # staff tokens and sessions live in real time (`shared.clock`)
    outbox: Outbox
    issuer: TokenIssuer | None  # None: no signing key here, staff cannot sign in


def routing_settings(runtime: Runtime) -> RoutingSettings:
    settings = runtime.settings
    assert isinstance(settings, RoutingSettings), "routing runs with RoutingSettings"
    return settings


async def seed_once(runtime: Runtime) -> bool:
    """Seed an empty directory; False when the schema is not there yet (or the database is
    away), so the caller tries again later. A second replica finds the seed claimed."""
    settings = routing_settings(runtime)
    try:
        async with runtime.sessionmaker.begin() as session:
            await seed_directory(session, outbox=runtime.outbox, clock=runtime.clock,
                                 demo_staff=bool(settings.demo_staff))
    except Exception as exc:
        log.warning("directory not seeded yet, will retry",
                    extra={"error": type(exc).__name__})
        return False
    return True


async def _seed_until_done(runtime: Runtime, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        if await seed_once(runtime):
            return


@asynccontextmanager
async def _open_routing(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    settings = routing_settings(runtime)
    _keys, signing_key = load_keys(settings)
    issuer = None
    if signing_key is not None:
        issuer = TokenIssuer(signing_key, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience, clock=runtime.wall_clock,
                             lifetime=settings.staff_token_lifetime)
    app.state.routing = Routing(settings=settings, clock=runtime.clock,
                                wall_clock=runtime.wall_clock, outbox=runtime.outbox,
                                issuer=issuer)
    seeding = None
    if not await seed_once(runtime):
        seeding = asyncio.create_task(
            _seed_until_done(runtime, settings.seed_retry_interval_s), name="routing-seed"
        )
    try:
        yield
    finally:
        if seeding is not None:
            seeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await seeding


resources = APIRouter(lifespan=_open_routing)
"""Carries no routes: included first in `DEFINITION.routers` for its lifespan."""


async def get_routing(request: Request) -> Routing:
    routing: Routing = request.app.state.routing
    return routing


RoutingDep = Annotated[Routing, Depends(get_routing)]
