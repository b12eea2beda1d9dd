"""A circuit breaker per provider: a provider that keeps failing is left alone for a while.

    closed ──(threshold failures in a row)──▶ open ──(open_for elapsed)──▶ half-open
      ▲                                         ▲                             │
      └────────────(the trial succeeds)─────────┴──────(the trial fails)──────┘

While open, the provider's lane claims nothing: its messages stay queued, untouched, and spend
no attempts; other channels and every consumer carry on. Half-open lets one small trial batch
through. Written here rather than taken from a package because its time must come from the
injected `Clock` (the ones on PyPI read the wall clock and wrap calls, not batches).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from prometheus_client import Gauge

from shared.clock import Clock

BREAKER_OPEN = Gauge("bkh_notify_provider_breaker_open", "1 while a provider's breaker is open",
                     ["provider"])


class BreakerState(enum.Enum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


class CircuitBreaker:
    def __init__(self, name: str, *, threshold: int, open_for: timedelta, clock: Clock) -> None:
        self.name = name
        self.threshold = threshold
        self.open_for = open_for
        self.clock = clock
        self.failures = 0
        self.opened_at: datetime | None = None

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.closed
        if self.clock.now() < self.opened_at + self.open_for:
            return BreakerState.open
        return BreakerState.half_open

    def seconds_until_trial(self) -> float:
        if self.opened_at is None:
            return 0.0
        remaining = self.opened_at + self.open_for - self.clock.now()
        return max(remaining.total_seconds(), 0.0)

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        BREAKER_OPEN.labels(self.name).set(0)

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock.now()  # a failed trial opens it again, afresh
            BREAKER_OPEN.labels(self.name).set(1)
