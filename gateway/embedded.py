"""The embedded mode (`make run`): the whole platform in one process, on one port.

Every service runs here with its own SQLite file under `var/embedded/`, all of them on one
in-process bus and one clock (`services.colocated`); the gateway reaches them through ASGI
transports instead of HTTP, so the request path is the same code as in the distributed mode.
At the first start it also plays the integrity commission, so that reports are taken at once:
a development commission key (`services.integrity.development_key`).

Not for production: the settings refuse SQLite and the in-process bus there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services import SERVICES
from services.colocated import colocated_services
from services.integrity.development_key import register_development_key, registered
from services.notify.config import NotifySettings
from services.web.config import WebSettings
from services.web.main import create_web_app
from services.web.office import OFFICE as PAGES_PREFIX
from services.web.office import is_public_page
from shared.bus import InMemoryBus
from shared.clock import Clock, clock_for
from shared.logging import configure_logging
from simulators.civil_registry import SimulatorSettings, create_simulator
from simulators.serving import serving


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """An in-process service reached like one on a port: the response body as it is sent.

    httpx's own `ASGITransport` gathers the whole body before it answers, so a stream that
    never ends (the dashboard's server-sent events) would never arrive. This one answers at the
    response's start and relays each body chunk; closing the response tells the app that the
    client went away, as a closed socket would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme, "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0], "query_string": request.url.query,
            "server": (request.url.host, request.url.port), "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        chunks = request.stream.__aiter__()
        request_done = False
        disconnected = asyncio.Event()
        started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = (
            asyncio.get_running_loop().create_future())
        body: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def receive() -> dict[str, Any]:
            nonlocal request_done
            if request_done:
                await disconnected.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body":
                if message.get("body") and request.method != "HEAD":
                    await body.put(message["body"])
                if not message.get("more_body", False):
                    await body.put(None)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except BaseException as exc:
                if not started.done():
                    started.set_exception(exc)
                raise
            finally:
                await body.put(None)

        task = asyncio.create_task(run())
        try:
            status, headers = await started
        except BaseException:
            with contextlib.suppress(BaseException):
                await task
            raise
        return httpx.Response(status, headers=headers,
                              stream=_AppBody(body, task, disconnected))


class _AppBody(httpx.AsyncByteStream):
    def __init__(self, body: asyncio.Queue[bytes | None], task: asyncio.Task[None],
                 disconnected: asyncio.Event) -> None:
        self._body, self._task, self._disconnected = body, task, disconnected

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._body.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._disconnected.set()
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


def pages_beside_api(web: ASGIApp, gateway: ASGIApp) -> ASGIApp:
    """One port for both, as the Ingress does in the distributed mode: `/office/…` and the
    public pages to the web app, everything else (and the lifespan) to the gateway."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
                (scope["path"] + "/").startswith(PAGES_PREFIX + "/")
                or is_public_page(scope["path"])):
            await web(scope, receive, send)
        else:
            await gateway(scope, receive, send)

    return app


async def serve(settings: GatewaySettings) -> None:
    clock = clock_for(simulated=settings.simulated_clock, production=settings.production)
    bus = InMemoryBus()
    await bus.start()

    # The civil registry's stand-in, on its own port, reached by intake over real HTTP.
    simulator = SimulatorSettings()
    async with serving(create_simulator(simulator), host=simulator.host,
                       port=simulator.port) as registry_url:
        await _serve_platform(settings, clock, bus, registry_url)
    await bus.close()


async def _serve_platform(
    settings: GatewaySettings, clock: Clock, bus: InMemoryBus, registry_url: str
) -> None:
    def embedded(name: str) -> dict[str, Any]:
        # Whatever the environment says, this mode is SQLite and the in-process bus.
        overrides: dict[str, Any] = {"database_url": "", "amqp_url": ""}
        if name == "intake":
            overrides["civil_registry_url"] = registry_url
        if name == "notify":  # links in messages lead here, whatever port `PORT` chose
            overrides["public_base_url"] = settings.public_url
        return overrides

    async with colocated_services(SERVICES, embedded, clock=clock, bus=bus) as apps:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["integrity"]),
                                     base_url="http://integrity") as integrity:
            development_key = await register_development_key(integrity, settings=settings,
                                                             clock=clock)
        gateway = create_gateway(
            settings,
            transports={name: StreamingASGITransport(app) for name, app in apps.items()},
        )
        # The pages call the gateway like any client; here through a transport, not a socket.
        web = create_web_app(WebSettings(gateway_url="http://gateway"),
                             gateway_transport=StreamingASGITransport(gateway))
        server = uvicorn.Server(
            uvicorn.Config(
                pages_beside_api(web, gateway), host=settings.host, port=settings.port,
                log_config=None, access_log=False, proxy_headers=False, server_header=False,
            )
        )
        print(
            f"Bekhedmetkom (embedded) on http://{settings.host}:{settings.port} "
            f"— back office at {settings.public_url}/office/, tracking at /track, API docs at "
            f"/docs; links in messages lead to {settings.public_url}; SMS and email (codes "
            f"included) are written to {_messages_dir(apps)}; civil-registry simulator on "
            f"{registry_url}. Ctrl-C stops it.",
            flush=True,
        )
        if development_key:
            print(registered(development_key), flush=True)
        async with web.router.lifespan_context(web):
            await server.serve()


def _messages_dir(apps: Mapping[str, FastAPI]) -> Path | None:
    settings = apps["notify"].state.runtime.settings
    return settings.messages_dir if isinstance(settings, NotifySettings) else None


def main() -> None:
    settings = GatewaySettings()
    configure_logging("bekhedmetkom", settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
