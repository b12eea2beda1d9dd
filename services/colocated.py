"""Several services in one process: the embedded mode and the end-to-end tests both start here.

Each service gets its settings from the caller (SQLite and the in-process bus for `make run`;
PostgreSQL schemas and RabbitMQ for the tests), has its schema migrated as an explicit step, and
runs its full lifespan. Every consumer is subscribed before any relay publishes, so an event left
in an outbox by an earlier run, or published at start-up, always finds its queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx
from fastapi import FastAPI

from services.__main__ import definition_of
from shared.bus import Bus
from shared.clock import Clock
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from shared.settings import BaseServiceSettings

SettingsFor = Callable[[str], dict[str, Any]]
"""The settings overrides of one service, by name (`run_workers` is always set here)."""


@contextlib.asynccontextmanager
async def colocated_services(
    names: Iterable[str], settings_for: SettingsFor, *, clock: Clock, bus: Bus | None = None
) -> AsyncIterator[dict[str, FastAPI]]:
    """Migrate, start and yield the apps of `names`; stop them all on the way out.

    With `bus`, every service shares it (the in-process bus); without, each builds its own
    from its settings (RabbitMQ), as separate processes would.
    """
    apps: dict[str, FastAPI] = {}
    # In one process a service reaches another's HTTP API in memory (`Runtime.peers`), the
    # same requests it would send over the network (e.g. intake asking integrity for a key).
    peers: dict[str, httpx.AsyncBaseTransport] = {}
    for name in names:
        definition = definition_of(name)
        settings: BaseServiceSettings = definition.load_settings(
            **{**settings_for(name), "run_workers": False}
        )
        await migrate_to_head(definition, settings)
        apps[name] = create_service_app(definition, settings, bus=bus, clock=clock, peers=peers)
    peers.update({name: httpx.ASGITransport(app=app) for name, app in apps.items()})

    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        runtimes: list[Runtime] = [app.state.runtime for app in apps.values()]
        for runtime in runtimes:
            await runtime.start_consumers()
        for runtime in runtimes:
            runtime.start_relay()
            runtime.start_housekeeping()
        yield apps
