"""An ASGI app served on a local port inside the running event loop: the stand-ins as `make run`
serves them, and whatever a test needs behind a real port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves Ctrl-C to the process it runs in (e.g. `make run`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0,
                  lifespan: Literal["on", "off"] = "off") -> AsyncIterator[str]:
    """Serve `app` in this event loop until the block ends; yields its base URL (port 0: the
    system picks a free one, so two runs on one machine never collide)."""
    server = QuietServer(uvicorn.Config(app, host=host, port=port, log_config=None,
                                        access_log=False, lifespan=lifespan))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"the server did not start on {host}:{port}")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task
