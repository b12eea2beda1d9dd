"""THE table that says which service serves which public path. Nowhere else decides it.

An ordered list of (methods, path pattern, service); the first row that matches wins, so the
specific rows come before the broad ones: case-handling actions on a request belong to routing
although every other `/requests/...` path belongs to intake. A path no row matches is unknown
(404) — the gateway never guesses a service.

Only `/api/v1/...` and `/dashboard` are public. Service-internal paths (`/livez`, `/readyz`,
`/metrics`, `/ops/clock`, `/openapi.json`) are never reachable through this table.

This module must never do I/O: it is pure data and a lookup, imported by the proxy, the rate
limiter and the OpenAPI merger alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class BodyCap(StrEnum):
    default = "default"  # settings.max_body_bytes
    upload = "upload"    # settings.max_upload_bytes: routes that carry files


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str] | None  # None: any method
    pattern: re.Pattern[str]
    service: str
    body_cap: BodyCap = BodyCap.default

    @property
    def path(self) -> str:
        """The row's pattern: names the requests it serves in the metrics (a bounded set)."""
        return self.pattern.pattern

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and bool(
            self.pattern.fullmatch(path)
        )


ANY: Final = None
_REF = r"[^/]+"
CASE_ACTIONS: Final = (
    "accept", "refuse-jurisdiction", "distribute", "transfer", "respond", "extend", "ask-info",
    "close", "review-decision", "reject", "merge", "comment",
)


def _route(methods: Iterable[str] | None, pattern: str, service: str,
           body_cap: BodyCap = BodyCap.default) -> Route:
    return Route(
        None if methods is None else frozenset(m.upper() for m in methods),
        re.compile(pattern),
        service,
        body_cap,
    )


def _under(*prefixes: str) -> str:
    """`/api/v1/<prefix>` itself and anything below it (never `/api/v1/<prefix>xyz`)."""
    return rf"/api/v1/(?:{'|'.join(re.escape(p) for p in prefixes)})(?:/.*)?"


ROUTES: Final[tuple[Route, ...]] = (
    # Case handling (staff) on a request: routing, before intake's broad `/requests` row.
    _route(ANY, rf"/api/v1/requests/{_REF}/(?:{'|'.join(CASE_ACTIONS)})/?", "routing"),
    # A report's status by its receipt: integrity holds it (and the commission's notes).
    _route({"GET", "HEAD"}, rf"/api/v1/reports/{_REF}/?", "integrity"),
    # Files: the larger body cap.
    _route({"POST"}, r"/api/v1/reports/?", "intake", BodyCap.upload),
    _route({"POST", "PUT"}, rf"/api/v1/requests/{_REF}/attachments(?:/.*)?", "intake",
           BodyCap.upload),
    _route({"POST", "PUT"}, _under("attachments"), "intake", BodyCap.upload),
    # Citizens, sign-in, submissions, the requester's view (also by tracking code), reports'
    # status.
    _route(ANY, _under("citizens", "auth", "requests", "tracking", "reports", "attachments"),
           "intake"),
    # The directory, staff and their inboxes, the case view and its audit trail (staff).
    _route(ANY, _under("entities", "governorates", "sectors", "classifications", "directory",
                       "staff", "inbox", "cases"), "routing"),
    # The working-day calendar and deadlines.
    _route(ANY, _under("sla", "holidays", "calendar"), "sla"),
    # The delivery log, and the SMS gateway's signed receipts (`notifications/sms/receipts`).
    _route(ANY, _under("notifications"), "notify"),
    _route(ANY, _under("integrity"), "integrity"),
    _route(ANY, _under("analytics"), "analytics"),
    # The live dashboard page and its static assets.
    _route(ANY, r"/dashboard(?:/.*)?", "analytics"),
)


def resolve(method: str, path: str, routes: Iterable[Route] = ROUTES) -> Route | None:
    """The first row that serves `method` on `path`, or None when the path is not public."""
    method = method.upper()
    for route in routes:
        if route.matches(method, path):
            return route
    return None


def services_in(routes: Iterable[Route] = ROUTES) -> frozenset[str]:
    return frozenset(route.service for route in routes)
