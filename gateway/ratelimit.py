"""Rate limits at the edge: one budget per client across every route, stricter ones per route.

A client is the token's subject when the caller is authenticated (so a call center's agents
behind one address do not starve each other), else the client's address. Moving windows, so
a burst at a window's edge cannot double the budget. Counts live in the storage the settings
name: in memory for one replica, Redis for several.

What it must never do:
- take the platform down with it, or lift the limits: when the storage cannot be reached, each
  replica counts in its own memory meanwhile (the same budgets, per replica: sign-in guessing
  stays bounded), and a metric and one warning say so;
- put a token, or anything but a subject id or an address, into a storage key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client import Counter

from gateway.config import GatewaySettings
from shared.errors import TooManyRequests
from shared.ratelimit import RateLimitItem, RateLimits, parse_many

RATE_LIMITED = Counter(
    "bkh_gateway_rate_limited_total", "Requests refused by a rate limit", ["limit"]
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "bkh_gateway_rate_limit_storage_errors_total",
    "Rate-limit checks counted in this replica because the storage could not be reached",
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


class RateLimiter:
    def __init__(self, settings: GatewaySettings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.limits = RateLimits(settings.rate_limit_storage_uri,
                                 in_process_when_unreachable=True,
                                 on_unreachable=RATE_LIMIT_STORAGE_ERRORS.inc)
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
            if await self.limits.hit(item, "gw", name, client):
                continue
            RATE_LIMITED.labels(name).inc()
            raise TooManyRequests(await self.limits.retry_after_s(item, "gw", name, client))

    async def healthy(self) -> bool:
        return await self.limits.healthy()

    async def reset(self) -> None:
        await self.limits.reset()

    async def aclose(self) -> None:
        await self.limits.aclose()
