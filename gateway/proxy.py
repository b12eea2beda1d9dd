"""Forwarding one request to the service that serves it, and its answer back, both streamed.

The same code path whether a service listens on a port (a pooled aiohttp transport per service)
or lives in this process (an ASGI transport, the embedded mode): only the transport differs.
Forwarding talks to the transport itself: an `httpx.AsyncClient` would add a cookie jar, auth
and redirect handling the proxy must not apply anyway, at a tenth of the gateway's CPU. The
gateway's own calls to services (probes, the OpenAPI merge, clocks) use a client on the same
transport, hence the same pool.

What it must never do:
- buffer a body: request and response are streamed chunk by chunk; the body cap is enforced on
  the declared Content-Length before reading and by counting while streaming;
- retry a method that is not idempotent (a duplicated POST could file a complaint twice); GET and
  HEAD without a body are retried at most once, and only when the connection itself failed;
- wait without bound: every upstream call has connect/read/write/pool timeouts;
- tell a client anything about the inside (hosts, ports, exception text) when a service is down;
- carry cookies from one caller's response into another caller's request (the clients keep no
  cookie jar), or let a client's own X-Forwarded-For be trusted unless a proxy in front is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import quote

import httpx
from httpx_aiohttp import AiohttpTransport
from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.config import SERVICE_NAMES, GatewaySettings
from gateway.routes import BodyCap, Route
from shared.errors import PayloadTooLarge, Problem, ServiceUnavailable, Text
from shared.logging import request_id

log = logging.getLogger(__name__)

UPSTREAM_REQUESTS = Counter(
    "bkh_gateway_upstream_requests_total",
    "Requests forwarded to a service, by outcome",
    ["service", "method", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "bkh_gateway_upstream_response_seconds",
    "Time until a service's response headers arrived",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
# Request headers the gateway sets itself (or must not pass on): the upstream's Host is its own;
# `Expect: 100-continue` is answered by our server, not by the service.
_DROP_REQUEST = HOP_BY_HOP | {"host", "expect", "x-request-id"}
_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"})
# Response headers our own server and middleware set again: keeping the service's would double them.
_DROP_RESPONSE = HOP_BY_HOP | {"date", "server", "x-request-id"}

_IDEMPOTENT_RETRY = frozenset({"GET", "HEAD"})
_SAFE_RETRY_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError)

_UNAVAILABLE = Text(
    "تعذّر الوصول إلى الخدمة التي تعالج هذا الطلب حالياً، حاول بعد قليل.",
    "The service that handles this request cannot be reached right now; try again shortly.",
)
_TIMED_OUT = Text(
    "لم تُجب الخدمة التي تعالج هذا الطلب في الوقت المحدد، حاول بعد قليل.",
    "The service that handles this request did not answer in time; try again shortly.",
)


class GatewayTimeout(Problem):
    status = 504
    code = "gateway-timeout"
    title = Text("انتهت مهلة انتظار الخدمة", "The service did not answer in time")


class BadContentLength(Problem):
    code = "bad-content-length"
    title = Text("ترويسة Content-Length غير سليمة", "Malformed Content-Length header")


def body_too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        Text(f"الحد الأقصى لحجم الطلب {cap} بايت.", f"The largest accepted body is {cap} bytes."),
        max_bytes=cap,
    )


# --- upstream clients ----------------------------------------------------------------------------


def _no_cookies() -> CookieJar:
    # A jar that accepts nothing: a service's Set-Cookie goes to its caller, never into the pool.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Upstreams:
    """One pooled transport per service, and a client on it for the gateway's own calls; opened
    in the gateway's lifespan, closed at shutdown."""

    def __init__(
        self,
        transports: Mapping[str, httpx.AsyncBaseTransport],
        base_urls: Mapping[str, str],
        timeout: httpx.Timeout,
    ) -> None:
        self._transports = dict(transports)
        self._clients = {
            name: httpx.AsyncClient(
                base_url=base_urls[name],
                transport=transport,
                timeout=timeout,
                cookies=_no_cookies(),
                follow_redirects=False,  # a redirect is the client's to follow, not ours
                trust_env=False,  # service-to-service calls never go through an HTTP(S)_PROXY
            )
            for name, transport in transports.items()
        }
        # What `httpx.AsyncClient` would hand its transport with each request.
        self._timeout_extension = timeout.as_dict()

    @classmethod
    def open(
        cls,
        settings: GatewaySettings,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> Upstreams:
        in_process = transports or {}
        limits = httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_keepalive_connections,
        )
        chosen: dict[str, httpx.AsyncBaseTransport] = {}
        base_urls: dict[str, str] = {}
        for name, url in settings.upstream_urls.items():
            transport = in_process.get(name)
            chosen[name] = transport or AiohttpTransport(limits=limits, trust_env=False)
            # An in-process app needs a base URL only to form requests; the host is a label.
            base_urls[name] = url if transport is None else f"http://{name}.internal"
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout_s,
            read=settings.upstream_read_timeout_s,
            write=settings.upstream_write_timeout_s,
            pool=settings.upstream_pool_timeout_s,
        )
        return cls(chosen, base_urls, timeout)

    def client(self, service: str) -> httpx.AsyncClient:
        return self._clients[service]

    async def send(self, service: str, request: httpx.Request) -> httpx.Response:
        """`request` as it is, straight to the service's transport; the body still to be read."""
        request.extensions["timeout"] = self._timeout_extension
        return await self._transports[service].handle_async_request(request)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name in SERVICE_NAMES if name in self._clients) + tuple(
            name for name in self._clients if name not in SERVICE_NAMES
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()  # closes its transport too


# --- who is calling, from where ------------------------------------------------------------------


def forwarded_chain(request: Request, trusted_proxies: int) -> list[str]:
    """The addresses the request came through, the client's first, our direct peer last."""
    peer = request.client.host if request.client else "unknown"
    if trusted_proxies == 0:
        return [peer]
    existing = [
        part.strip()
        for part in request.headers.get("x-forwarded-for", "").split(",")
        if part.strip()
    ]
    return [*existing, peer]


def client_address(request: Request, trusted_proxies: int) -> str:
    """The caller's address: the entry our trusted proxies vouch for, never one a client wrote."""
    chain = forwarded_chain(request, trusted_proxies)
    return chain[max(len(chain) - 1 - trusted_proxies, 0)]


def _forwarded_proto(request: Request, trusted_proxies: int) -> str:
    if trusted_proxies:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            return proto
    return request.url.scheme


# --- forwarding ----------------------------------------------------------------------------------


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadContentLength()
    return int(value)


@dataclass
class _BodyState:
    received: int = 0
    too_large: bool = False


async def _capped_body(request: Request, cap: int, state: _BodyState) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        state.received += len(chunk)
        if state.received > cap:
            state.too_large = True
            # Raised into whoever reads the body (httpx, or the in-process service), which stops
            # the upload; the proxy then answers 413 itself whatever the service made of it.
            raise body_too_large(cap)
        if chunk:
            yield chunk


def _connection_listed(connection: str | None) -> frozenset[str]:
    """Headers the sender named in `Connection`: hop-by-hop too (RFC 9110 §7.6.1)."""
    return frozenset(
        token.strip().lower() for token in (connection or "").split(",") if token.strip()
    )


class UpstreamResponse(StreamingResponse):
    """A service's response relayed as it arrives; the upstream stream is closed in every case."""

    def __init__(self, upstream: httpx.Response) -> None:
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self._upstream = upstream
        # A body of declared length ends by itself; one without (the dashboard's server-sent
        # events) may never end, and must stop when its client leaves.
        self._ends_by_itself = "content-length" in upstream.headers
        # Raw pairs, so repeated headers (Set-Cookie, Link) survive; the body is relayed as the
        # service encoded it, so Content-Encoding and Content-Length stay true.
        drop = _DROP_RESPONSE | _connection_listed(upstream.headers.get("connection"))
        self.raw_headers = [
            (key.lower(), value)
            for key, value in upstream.headers.raw
            if key.lower().decode("latin-1") not in drop
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self._ends_by_itself:
                # Without Starlette's disconnect listener: a task group per response, for a body
                # the upstream's read timeout already bounds.
                await self.stream_response(send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            await self._upstream.aclose()


class Proxy:
    def __init__(self, settings: GatewaySettings, upstreams: Upstreams) -> None:
        self.settings = settings
        self.upstreams = upstreams

    def cap_for(self, route: Route) -> int:
        if route.body_cap is BodyCap.upload:
            return self.settings.max_upload_bytes
        return self.settings.max_body_bytes

    def check_declared_size(self, request: Request, route: Route) -> None:
        """413 before a byte of the body is read, when the client says it is too large."""
        declared = declared_length(request)
        cap = self.cap_for(route)
        if declared is not None and declared > cap:
            raise body_too_large(cap)

    def _headers(self, request: Request) -> list[tuple[bytes, bytes]]:
        trusted = self.settings.trusted_proxies
        connection_listed = _connection_listed(request.headers.get("connection"))
        headers: list[tuple[bytes, bytes]] = []
        for key, value in request.headers.raw:
            name = key.decode("latin-1").lower()
            if name in _DROP_REQUEST or name in connection_listed or name in _FORWARDED:
                continue
            headers.append((key, value))
        rid = request_id.get()
        if rid:
            headers.append((b"x-request-id", rid.encode("latin-1")))
        headers.append(
            (b"x-forwarded-for", ", ".join(forwarded_chain(request, trusted)).encode("latin-1"))
        )
        headers.append((b"x-forwarded-proto", _forwarded_proto(request, trusted).encode()))
        if "host" in request.headers:
            headers.append((b"x-forwarded-host", request.headers["host"].encode("latin-1")))
        return headers

    @staticmethod
    def _target(base_url: httpx.URL, scope: Scope) -> httpx.URL:
        # The path exactly as the client encoded it (re-encoding a decoded path could change it);
        # any path prefix of the configured base URL goes in front.
        raw_path = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
        query = scope.get("query_string") or b""
        prefix = base_url.raw_path.split(b"?")[0].rstrip(b"/")
        return base_url.copy_with(
            raw_path=prefix + raw_path + (b"?" + query if query else b"")
        )

    async def forward(self, request: Request, route: Route) -> Response:
        service = route.service
        method = request.method.upper()
        cap = self.cap_for(route)
        declared = declared_length(request)
        has_body = (declared or 0) > 0 or "transfer-encoding" in request.headers
        state = _BodyState()
        content = _capped_body(request, cap, state) if has_body else None

        upstream_request = httpx.Request(
            method, self._target(self.upstreams.client(service).base_url, request.scope),
            headers=self._headers(request), content=content,
        )
        retry = method in _IDEMPOTENT_RETRY and not has_body
        started = time.perf_counter()
        try:
            upstream = await self._send(service, upstream_request, retry=retry)
        except Exception as exc:
            if state.too_large:
                UPSTREAM_REQUESTS.labels(service, method, "body_too_large").inc()
                raise body_too_large(cap) from None
            if isinstance(exc, ClientDisconnect):
                UPSTREAM_REQUESTS.labels(service, method, "client_disconnected").inc()
                return Response(status_code=400)  # nobody is left to read it
            if isinstance(exc, httpx.ReadTimeout):
                UPSTREAM_REQUESTS.labels(service, method, "timeout").inc()
                log.warning("service %s timed out (%s %s)", service, method, route.pattern.pattern)
                raise GatewayTimeout(_TIMED_OUT) from None
            if isinstance(exc, httpx.TransportError):
                UPSTREAM_REQUESTS.labels(service, method, "unavailable").inc()
                log.warning("service %s unavailable: %s", service, type(exc).__name__)
                raise ServiceUnavailable(_UNAVAILABLE, headers={"Retry-After": "5"}) from None
            raise
        UPSTREAM_LATENCY.labels(service).observe(time.perf_counter() - started)
        if state.too_large:
            # The service answered (an in-process one renders the 413 raised into it); the
            # client still gets the gateway's own answer.
            await upstream.aclose()
            UPSTREAM_REQUESTS.labels(service, method, "body_too_large").inc()
            raise body_too_large(cap)
        UPSTREAM_REQUESTS.labels(service, method, f"{upstream.status_code // 100}xx").inc()
        return UpstreamResponse(upstream)

    async def _send(self, service: str, request: httpx.Request, *, retry: bool) -> httpx.Response:
        try:
            return await self.upstreams.send(service, request)
        except _SAFE_RETRY_ERRORS:
            # Once, for a GET or HEAD without a body, when the connection failed (a pooled
            # connection the service had closed, a pod that just went away); never on a timeout,
            # which would double the wait.
            if not retry:
                raise
            return await self.upstreams.send(service, request)
