"""HTTP plumbing every app shares: request ids, accepted content types, metrics.

Pure ASGI middleware rather than `BaseHTTPMiddleware`: it runs on every request of a service
that must take hundreds per second, and it must not buffer streamed responses.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterable

from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import UnsupportedMediaType, problem_response, unexpected_problem
from shared.logging import request_id

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_AND_FORMS = frozenset({"application/json", "multipart/form-data"})
# Our metrics are Prometheus's (below). FastAPI's own OpenTelemetry, left on, looks up the global
# providers on every request: a few percent of a submission's CPU for telemetry nobody collects.
NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

HTTP_REQUESTS = Counter(
    "bkh_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "bkh_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _new_request_id() -> str:
    # A label to quote to support, not a secret: no system call for randomness (uuid4 reads
    # os.urandom, which showed up at a few percent of the gateway's CPU).
    return f"{random.getrandbits(128):032x}"


class RequestContextMiddleware:
    """Gives each request an id (the caller's, if it is sane), echoes it, and measures it."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        rid = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else _new_request_id()
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"], (REQUEST_ID_HEADER.encode(), rid.encode())
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise
            # Answered here rather than by Starlette's outermost handler, so that even a 500
            # carries the request id the caller can quote to support.
            log.exception("unhandled error", extra={"path": scope["path"]})
            problem = unexpected_problem(exc)
            await problem_response(problem, Request(scope))(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            # The route template, not the raw path: reference numbers must not become labels.
            route = getattr(scope.get("route"), "path", "<unmatched>")
            HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], route).observe(
                time.perf_counter() - started
            )


class ContentTypeMiddleware:
    """Refuses a body in a type the API does not speak with 415, before anything parses it."""

    def __init__(self, app: ASGIApp, *, accepted: Iterable[str] = JSON_AND_FORMS) -> None:
        self.app = app
        self.accepted = frozenset(accepted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS:
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            has_body = (_header(scope, b"content-length") or "0") != "0" or _header(
                scope, b"transfer-encoding"
            )
            if has_body and content_type not in self.accepted:
                response = problem_response(UnsupportedMediaType(), Request(scope))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
