"""The embedded mode (`make run`): the whole platform in one process, on one port.

Every service runs here with its own SQLite file under `var/embedded/`, all of them on one
in-process bus and one clock; the gateway reaches them through ASGI transports instead of HTTP,
so the request path is the same code as in the distributed mode. Migrations run first, as an
explicit step of starting, and every service's consumers are subscribed before any relay
publishes, so an event left in an outbox by the last run finds its queues.

Not for production: the settings refuse SQLite and the in-process bus there.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import uvicorn
from fastapi import FastAPI

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services import SERVICES
from services.__main__ import definition_of
from shared.bus import InMemoryBus
from shared.clock import clock_for
from shared.logging import configure_logging
from shared.service import Runtime, create_service_app, migrate_to_head


async def serve(settings: GatewaySettings) -> None:
    clock = clock_for(simulated=settings.simulated_clock, production=settings.production)
    bus = InMemoryBus()
    await bus.start()
    apps: dict[str, FastAPI] = {}
    for name in SERVICES:
        definition = definition_of(name)
        # Whatever the environment says, this mode is SQLite and the in-process bus.
        service_settings = definition.load_settings(
            database_url="", amqp_url="", run_workers=False
        )
        await migrate_to_head(definition, service_settings)
        apps[name] = create_service_app(definition, service_settings, bus=bus, clock=clock)

    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        runtimes: list[Runtime] = [app.state.runtime for app in apps.values()]
        for runtime in runtimes:
            await runtime.start_consumers()
        for runtime in runtimes:
            runtime.start_relay()
        gateway = create_gateway(
            settings,
            transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
            clock=clock,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                gateway, host=settings.host, port=settings.port, log_config=None,
                access_log=False, proxy_headers=False, server_header=False,
            )
        )
        print(
            f"Bekhedmetkom (embedded) on http://{settings.host}:{settings.port} "
            f"— API docs at /docs. Ctrl-C stops it.",
            flush=True,
        )
        await server.serve()
    await bus.close()


def main() -> None:
    settings = GatewaySettings()
    configure_logging("bekhedmetkom", settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
