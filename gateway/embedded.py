"""The embedded mode (`make run`): the whole platform in one process, on one port.

Every service runs here with its own SQLite file under `var/embedded/`, all of them on one
in-process bus and one clock (`services.colocated`); the gateway reaches them through ASGI
transports instead of HTTP, so the request path is the same code as in the distributed mode.

Not for production: the settings refuse SQLite and the in-process bus there.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import uvicorn

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services import SERVICES
from services.colocated import colocated_services
from shared.bus import InMemoryBus
from shared.clock import clock_for
from shared.logging import configure_logging


async def serve(settings: GatewaySettings) -> None:
    clock = clock_for(simulated=settings.simulated_clock, production=settings.production)
    bus = InMemoryBus()
    await bus.start()

    def embedded(_name: str) -> dict[str, Any]:
        # Whatever the environment says, this mode is SQLite and the in-process bus.
        return {"database_url": "", "amqp_url": ""}

    async with colocated_services(SERVICES, embedded, clock=clock, bus=bus) as apps:
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
