"""What routing holds beside the kernel's runtime, and how its routes reach it (`RoutingDep`).

The kernel's runtime gives the database, the bus, the outbox and the clock; routing adds the
issuer of staff tokens (API processes only: a worker holds no signing key) and, at start-up,
seeds an empty directory (`main.open_routing`, wherever the service runs; one replica wins).

What it must never do: open anything at import time; block start-up on a schema that is not
migrated yet (seeding then retries in the background until it is).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated

from services.routing.config import RoutingSettings
from services.routing.directory.seed import seed_directory
from shared.auth import TokenIssuer
from shared.bus import Outbox
from shared.clock import Clock
from shared.dependencies import resources
from shared.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Routing:
    settings: RoutingSettings
    clock: Clock
    wall_clock: Clock  # staff tokens and sessions live in real time (`shared.clock`)
    outbox: Outbox
    issuer: TokenIssuer | None  # None: no signing key here, staff cannot sign in


async def seed_once(runtime: Runtime) -> bool:
    """Seed an empty directory; False when the schema is not there yet (or the database is
    away), so the caller tries again later. A second replica finds the seed claimed."""
    settings = runtime.settings_as(RoutingSettings)
    try:
        async with runtime.sessionmaker.begin() as session:
            await seed_directory(session, outbox=runtime.outbox, clock=runtime.clock,
                                 demo_staff=bool(settings.demo_staff))
    except Exception as exc:
        log.warning("directory not seeded yet, will retry",
                    extra={"error": type(exc).__name__})
        return False
    return True


async def seed_until_done(runtime: Runtime, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        if await seed_once(runtime):
            return


RoutingDep = Annotated[Routing, resources(Routing)]
