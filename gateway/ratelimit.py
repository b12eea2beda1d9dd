"""Rate limits at the edge: one budget per client across every route, stricter ones per route.

A client is the token's subject when the caller is authenticated (so a call center's agents
behind one address do not starve each other), else the client's address. Moving windows, so
a burst at a window's edge cannot double the budget. Counts live in the storage the settings
name: in memory for one replica, Redis for several.

What it must never do:
- take the platform down with it: when the storage cannot be reached, the request passes and a
  metric and a warning say so (failing closed would turn a Redis outage into a total outage);
- put a token, or anything but a subject id or an address, into a storage key.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter

from gateway.config import GatewaySettings
from shared.errors import TooManyRequests

log = logging.getLogger(__name__)

RATE_LIMITED = Counter(
    "bkh_gateway_rate_limited_total", "Requests refused by a rate limit", ["limit"]
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "bkh_gateway_rate_limit_storage_errors_total",
    "Rate-limit checks skipped because the storage could not be reached",
)

GLOBAL = "client"


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    items: tuple[RateLimitItem, ...]

    def applies(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and bool(self.pattern.match(path))


def async_storage_uri(uri: str) -> str:
    """limits picks its asyncio storages by an `async+` scheme; settings name the plain one."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    def __init__(self, settings: GatewaySettings) -> None:
        self.enabled = settings.rate_limit_enabled
        storage = storage_from_string(async_storage_uri(settings.rate_limit_storage_uri))
        assert isinstance(storage, Storage)
        self.storage: Storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._global = tuple(parse_many(settings.rate_limit_per_client))
        self._rules = tuple(
            _Rule(rule.name, rule.methods, re.compile(rule.path), tuple(parse_many(rule.limit)))
            for rule in settings.rate_limit_routes
        )

    async def check(self, method: str, path: str, client: str) -> None:
        """Count one request of `client`; raise `TooManyRequests` when a budget is spent."""
        if not self.enabled:
            return
        method = method.upper()
        # The route rules first: a refused login attempt should not also eat the global budget.
        for rule in self._rules:
            if rule.applies(method, path):
                await self._hit(rule.name, rule.items, client)
        await self._hit(GLOBAL, self._global, client)

    async def _hit(self, name: str, items: tuple[RateLimitItem, ...], client: str) -> None:
        for item in items:
            try:
                allowed = await self._limiter.hit(item, "gw", name, client)
                if allowed:
                    continue
                stats = await self._limiter.get_window_stats(item, "gw", name, client)
            except Exception as exc:  # the storage, not the request, failed: let it pass
                RATE_LIMIT_STORAGE_ERRORS.inc()
                log.warning("rate-limit storage unavailable: %s", type(exc).__name__)
                return
            RATE_LIMITED.labels(name).inc()
            retry_after = math.ceil(max(stats.reset_time - time.time(), 1))
            raise TooManyRequests(retry_after)

    async def healthy(self) -> bool:
        try:
            return bool(await self.storage.check())
        except Exception:
            return False

    async def reset(self) -> None:
        await self.storage.reset()
