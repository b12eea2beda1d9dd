"""Signed links: a one-tap action taken from a message without signing in (e.g. rating).

Notify puts such a link in the response notice; intake honours it. Both hold the same secret
(`BKH_LINK_SECRET`), so the token says by itself what it allows, for whom and until when:

    token = base64url(claims JSON) "." base64url(HMAC-SHA256(secret, purpose "\\n" claims JSON))

What it must never do: accept a token for another purpose, an expired one, or one whose MAC
does not match (compared in constant time); put personal data in the claims (identifiers only,
since links end up in SMS logs and browser histories).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any, Final

from shared.clock import Clock

DEVELOPMENT_SECRET: Final = "development-only-link-secret-change-me"
MIN_SECRET_BYTES: Final = 32


class InvalidLink(Exception):
    """The token is malformed, forged, for another purpose, or expired."""


def secret_problem(secret: str, *, production: bool) -> str | None:
    """Why this secret is refused (in production the development one and short ones are)."""
    if production and (secret == DEVELOPMENT_SECRET or len(secret.encode()) < MIN_SECRET_BYTES):
        return f"BKH_LINK_SECRET must be set to at least {MIN_SECRET_BYTES} random bytes"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: str, *, clock: Clock) -> None:
        self._key = secret.encode()
        self._clock = clock

    def _mac(self, purpose: str, claims: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\n" + claims, hashlib.sha256).digest()

    def sign(self, purpose: str, claims: dict[str, Any], *, lifetime: timedelta) -> str:
        body = {**claims, "exp": int((self._clock.now() + lifetime).timestamp())}
        encoded = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(encoded)}.{_b64(self._mac(purpose, encoded))}"

    def verify(self, purpose: str, token: str) -> dict[str, Any]:
        """The claims of a valid token; raises `InvalidLink` otherwise."""
        if len(token) > 2048 or token.count(".") != 1:
            raise InvalidLink("malformed")
        body_part, mac_part = token.split(".")
        try:
            encoded, mac = _unb64(body_part), _unb64(mac_part)
        except (binascii.Error, ValueError):
            raise InvalidLink("malformed") from None
        if not hmac.compare_digest(mac, self._mac(purpose, encoded)):
            raise InvalidLink("forged or for another purpose")
        claims = json.loads(encoded)
        expires = claims.get("exp") if isinstance(claims, dict) else None
        if not isinstance(expires, int) or self._clock.now().timestamp() >= expires:
            raise InvalidLink("expired")
        return dict(claims)
