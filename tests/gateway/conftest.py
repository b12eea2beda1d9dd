"""Fixtures for the gateway: fake services, real HTTP servers, tokens, a gateway to call.

Fake services are small FastAPI apps that echo what they received and record it, so a test can
say both what the client got and what the service saw. Most are reached in process through
`httpx.ASGITransport` (the embedded mode's path); `UvicornThread` serves an app on a real
localhost port, to prove the proxy over real HTTP, and `dead_url` is a port nobody listens on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from gateway.config import SERVICE_NAMES, GatewaySettings
from gateway.main import create_gateway
from shared.auth import KeySet, SigningKey, TokenIssuer, TokenVerifier, generate_signing_key
from shared.clock import SystemClock
from shared.events.vocabulary import Role
from tests.ports import free_port

ISSUER = "https://bekhedmetkom.test"
AUDIENCE = "bekhedmetkom-api"
KID = "gw-test-key"


# --- fake services -------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    body: bytes


@dataclass
class FakeService:
    name: str
    app: FastAPI
    seen: list[Seen] = field(default_factory=list)
    clock_puts: list[dict[str, Any]] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime(2030, 1, 1, 8, tzinfo=UTC))

    @property
    def last(self) -> Seen:
        return self.seen[-1]


class Thing(BaseModel):
    """Defined differently by each fake service: the merged OpenAPI must keep both."""

    service_specific: str


def fake_service(name: str, *, release: threading.Event | None = None) -> FakeService:
    """A service that echoes every request under its public paths and records it."""
    app = FastAPI(title=f"fake {name}", docs_url=None, redoc_url=None)
    service = FakeService(name=name, app=app)
    thing_model = type("Thing", (Thing,), {"__annotations__": {name: int}})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/ops/clock", include_in_schema=False)
    async def read_clock() -> dict[str, str]:
        return {"now": service.now.isoformat()}

    @app.put("/ops/clock", include_in_schema=False)
    async def set_clock(request: Request) -> dict[str, str]:
        body = await request.json()
        service.clock_puts.append(
            {"body": body, "authorization": request.headers.get("authorization")}
        )
        service.now = max(service.now, datetime.fromisoformat(body["now"]))
        return {"now": service.now.isoformat()}

    # A documented operation per service, under a path the route table gives to it.
    documented = {
        "intake": "/api/v1/requests/{reference}",
        "routing": "/api/v1/entities/{entity_id}",
        "sla": "/api/v1/holidays/{year}",
        "notify": "/api/v1/notifications/{nid}",
        "integrity": "/api/v1/integrity/inbox/{eid}",
        "analytics": "/api/v1/analytics/kpis/{kpi}",
    }[name]

    @app.get(documented, operation_id="read_one", response_model=thing_model)
    async def read_one() -> Any:
        return {"service_specific": name, name: 1}

    # Documented, but a path the table gives to another service: must not be in the merge.
    @app.get("/api/v1/internal-only", operation_id="internal_only")
    async def internal_only() -> dict[str, str]:
        return {}

    @app.get("/api/v1/analytics/stream", include_in_schema=False)
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first-chunk;"
            if release is not None:
                # Only once the client has the first chunk: a buffering proxy never gets here.
                released = await asyncio.to_thread(release.wait, 10)
                yield b"released;" if released else b"timed-out;"
            yield b"last-chunk"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.api_route(
        "/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def echo(request: Request) -> Any:
        body = await request.body()
        seen = Seen(
            method=request.method,
            path=request.url.path,
            raw_path=request.scope.get("raw_path", b"").decode("latin-1"),
            query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            header_list=[(k.decode(), v.decode()) for k, v in request.headers.raw],
            body=body,
        )
        service.seen.append(seen)
        response = JSONResponse(
            {
                "service": name,
                "method": request.method,
                "path": seen.path,
                "query": seen.query,
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
            },
            status_code=201 if request.method == "POST" else 200,
            headers={"x-upstream": name, "connection": "keep-alive, x-secret-hop",
                     "x-secret-hop": "dropped"},
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    return service


# --- real servers --------------------------------------------------------------------------------


class UvicornThread:
    """An ASGI app on a real localhost port, served by uvicorn in a thread of its own."""

    def __init__(self, app: Any, *, lifespan: Literal["on", "off"] = "off") -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app, lifespan=lifespan, log_config=None, log_level="warning", access_log=False,
            ws="none", http="h11", loop="asyncio", proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture(scope="session")
def release_event() -> threading.Event:
    return threading.Event()


@pytest.fixture(scope="session")
def real_analytics(release_event: threading.Event) -> Iterator[tuple[FakeService, str]]:
    """The analytics fake behind real HTTP (uvicorn on a free localhost port)."""
    service = fake_service("analytics", release=release_event)
    with UvicornThread(service.app) as server:
        yield service, server.url


@pytest.fixture
def dead_url() -> str:
    """A localhost port with nothing listening: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


# --- tokens --------------------------------------------------------------------------------------


class ShiftedClock:
    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        return datetime.now(UTC) + self.by


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key(KID)


@pytest.fixture(scope="session")
def verifier(signing_key: SigningKey) -> TokenVerifier:
    return TokenVerifier(
        KeySet.of(signing_key), issuer=ISSUER, audience=AUDIENCE, clock=SystemClock()
    )


@dataclass
class Tokens:
    key: SigningKey

    def issue(self, role: Role = Role.citizen, subject: str = "citizen-1", *,
              key: SigningKey | None = None, clock_shift: timedelta = timedelta(0)) -> str:
        issuer = TokenIssuer(
            key or self.key, issuer=ISSUER, audience=AUDIENCE, clock=ShiftedClock(clock_shift)
        )
        return issuer.issue(subject, role)

    def expired(self) -> str:
        return self.issue(clock_shift=-timedelta(hours=2))

    def forged(self) -> str:
        # Same kid, another private key: the signature cannot verify.
        return self.issue(key=generate_signing_key(KID))

    def alg_none(self) -> str:
        good = self.issue()
        claims = good.split(".")[1]
        header = base64.urlsafe_b64encode(
            json.dumps({"alg": "none", "typ": "at+jwt", "kid": KID}).encode()
        ).rstrip(b"=").decode()
        return f"{header}.{claims}."


@pytest.fixture(scope="session")
def tokens(signing_key: SigningKey) -> Tokens:
    return Tokens(signing_key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- a gateway to call ---------------------------------------------------------------------------


@dataclass
class Harness:
    client: httpx.AsyncClient
    services: dict[str, FakeService]
    app: FastAPI


GatewayFactory = Callable[..., Any]


@pytest.fixture
def make_gateway(verifier: TokenVerifier) -> GatewayFactory:
    """`async with make_gateway(**settings) as gw`: a running gateway in front of fakes.

    Every service is an in-process fake unless `urls` names a real URL for it.
    """

    @asynccontextmanager
    async def factory(
        *, urls: Mapping[str, str] | None = None, client_host: str = "203.0.113.7",
        **overrides: Any,
    ) -> AsyncIterator[Harness]:
        urls = dict(urls or {})
        services = {name: fake_service(name) for name in SERVICE_NAMES if name not in urls}
        values: dict[str, Any] = {
            "environment": "test",
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "upstream_connect_timeout_s": 1.0,
            "upstream_read_timeout_s": 5.0,
            **{f"{name}_url": url for name, url in urls.items()},
            **overrides,
        }
        settings = GatewaySettings(**values)
        app = create_gateway(
            settings,
            transports={n: httpx.ASGITransport(app=s.app) for n, s in services.items()},
            verifier=verifier,
        )
        transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client,
        ):
            yield Harness(client=client, services=services, app=app)

    return factory


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length: httpx sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(data), size):
        yield data[start:start + size]
