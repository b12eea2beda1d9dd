"""The commission's public key, as integrity publishes it: what intake seals reports to.

Integrity is asked over HTTP (through an in-memory transport when both run in one process,
`Runtime.peers`); a failure to learn the key refuses the report (503, `ReportsUnavailable`)
rather than sealing to a key that may have been replaced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

import httpx

from shared.errors import ServiceUnavailable, Text
from shared.sealing import CommissionPublicKey

log = logging.getLogger(__name__)

PUBLIC_KEY_PATH: Final = "/api/v1/integrity/public-key"


class ReportsUnavailable(ServiceUnavailable):
    code = "reports-unavailable"
    title = Text(
        "لا يمكن استقبال البلاغات الآن، حاول بعد قليل",
        "Reports cannot be received right now; try again shortly",
    )

    def __init__(self) -> None:
        super().__init__(
            Text("لم يُحفظ شيء من بلاغك.", "Nothing of your report was kept."),
            headers={"Retry-After": "30"},
        )


class CommissionKeys:
    """The commission's current public key as integrity publishes it, kept `max_age_s`.

    Integrity is asked over HTTP (through an in-memory transport when both run in one
    process); a failure to learn the key refuses the report (503) rather than sealing to a
    key that may have been replaced.
    """

    def __init__(self, client: httpx.AsyncClient, *, max_age_s: float) -> None:
        self._client = client
        self._max_age_s = max_age_s
        self._key: CommissionPublicKey | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> CommissionPublicKey:
        key = self._key
        if key is not None and time.monotonic() - self._fetched_at < self._max_age_s:
            return key
        return await self.refresh(stale=key)

    async def refresh(self, *, stale: CommissionPublicKey | None = None) -> CommissionPublicKey:
        """Fetch the key again (one request for all the callers waiting on it)."""
        async with self._lock:
            if self._key is not None and self._key is not stale:
                return self._key  # another caller refreshed it meanwhile
            self._key = await self._fetch()
            self._fetched_at = time.monotonic()
            return self._key

    async def _fetch(self) -> CommissionPublicKey:
        try:
            response = await self._client.get(PUBLIC_KEY_PATH)
        except httpx.HTTPError as exc:
            log.warning("integrity unreachable for the public key",
                        extra={"error": type(exc).__name__})
            raise ReportsUnavailable() from None
        if response.status_code != 200:
            log.warning("no commission key from integrity",
                        extra={"status": response.status_code})
            raise ReportsUnavailable()
        try:
            published = response.json()
            key = CommissionPublicKey.from_base64(published["key_id"], published["public_key"])
            if key.fingerprint != published["fingerprint"]:
                raise ValueError("fingerprint")
        except (ValueError, KeyError, TypeError):
            log.error("integrity published an unusable public key")
            raise ReportsUnavailable() from None
        return key
