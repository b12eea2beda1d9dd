"""What every page answer carries for the browser's own defences, and the forms' CSRF check.

- A strict Content-Security-Policy: scripts, styles and fonts from this app only, no inline
  script or style, no `eval`; nothing may frame a page (an attachment shown inline may be framed
  by our own pages alone, `frame_ancestors="'self'"`).
- No caching of pages that hold personal data; a referrer never leaves the site; no MIME sniffing.
- Every form carries the session's CSRF token (htmx sends it as a header): a request without the
  right one changes nothing. The cookie is also SameSite=Strict; the token is the second lock.

What it must never do: relax the policy for one page by adding `unsafe-inline`; compare a token
in anything but constant time.
"""

from __future__ import annotations

import hmac
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"


def content_security_policy(*, frame_ancestors: str = "'none'") -> str:
    return "; ".join((
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "font-src 'self'",
        "img-src 'self' data: blob:", "connect-src 'self'", "frame-src 'self'",
        "object-src 'self'", "form-action 'self'", "base-uri 'none'",
        f"frame-ancestors {frame_ancestors}",
    ))


PAGE_HEADERS: Final = {
    "content-security-policy": content_security_policy(),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}


class PageHeadersMiddleware:
    """Sets the defences on every answer that did not set its own (pure ASGI: no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
