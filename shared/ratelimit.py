"""Moving-window budgets, counted in the storage a URI names: this process (`memory://`) or Redis
(`redis://…`, shared by every replica). The `limits` library does the counting; the gateway,
intake and analytics all count through `RateLimits`.

Two choices are made here once, for everyone:
- In memory, the library's storages sweep every key for expired hits in the background: its
  asyncio one with a thread hand-off per key whenever a request lands, its synchronous one from a
  timer thread every 10 ms. With 2,000 clients either sweep took a fifth to a quarter of the
  gateway's CPU (py-spy, `make bench` intake_submissions). `_InProcessWindows` keeps the same
  moving windows as deques of hit instants, trimmed when their key is hit, and drops idle keys in
  one pass a minute.
- For Redis, the library's moving windows through redis-py, with a connection pool we own (one
  Redis client library for the platform; closing the limiter closes its connections).

When Redis does not answer, each caller has chosen (it knows what its budget protects):
- `in_process_when_unreachable=True`: count in this process meanwhile, the same budgets per
  replica (sign-in, the edge's limits, exports): guessing stays bounded, nobody is shut out;
- otherwise the storage's error propagates (sending a code, which costs an SMS: refused, 503).
Either way one WARNING says the storage went and one INFO that it is back, and the caller's
`on_unreachable` counts each check it could not make (its metric, its alert).

What it must never do: put anything but opaque identifiers in a key (callers pass subjects,
addresses or keyed digests, never phone or identity numbers); let a storage outage lift a
budget that falls back (it counts here instead).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from limits import RateLimitItem, parse_many
from limits.aio import strategies as async_strategies
from limits.aio.storage import RedisStorage
from redis.asyncio import ConnectionPool

__all__ = ["RateLimitItem", "RateLimits", "parse_many"]

log = logging.getLogger(__name__)

# A store gone without a word (a node lost, its address unrouted) neither refuses nor answers:
# a check waits this long to connect or to be answered, then the store counts as unreachable,
# instead of holding the request for the operating system's minutes.
STORE_TIMEOUT_S: Final = 1.0


class RateLimits:
    """Budgets in one storage; each call names a limit and the identifiers of what it counts."""

    def __init__(self, storage_uri: str, *, in_process_when_unreachable: bool = False,
                 on_unreachable: Callable[[], object] | None = None) -> None:
        plain = storage_uri.removeprefix("async+")
        self._pool: ConnectionPool | None = None
        self._limiter: Any
        self._storage: Any
        self._fallback: _InProcessWindows | None = None
        if plain.startswith(("redis://", "rediss://")):
            self._pool = ConnectionPool.from_url(plain, socket_connect_timeout=STORE_TIMEOUT_S,
                                                 socket_timeout=STORE_TIMEOUT_S)
            self._storage = RedisStorage(f"async+{plain}", implementation="redispy",
                                         connection_pool=self._pool)  # type: ignore[arg-type]
            self._limiter = async_strategies.MovingWindowRateLimiter(self._storage)
            if in_process_when_unreachable:
                self._fallback = _InProcessWindows()
        elif plain.startswith("memory://"):
            self._storage = self._limiter = _InProcessWindows()
        else:
            raise ValueError(f"unsupported rate-limit storage {plain.split(':')[0]!r}: "
                             "memory:// or redis://")
        self._on_unreachable = on_unreachable
        self._unreachable = False

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one; False (and nothing counted) when the budget is already spent."""
        return bool(await self._ask("hit", item, *identifiers))

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether one more would fit, counting nothing."""
        return bool(await self._ask("test", item, *identifiers))

    async def remaining(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self._ask("get_window_stats", item, *identifiers)
        return max(int(stats.remaining), 0)

    async def retry_after_s(self, item: RateLimitItem, *identifiers: str) -> int:
        """Whole seconds (at least 1) until the oldest counted one leaves the window.

        The windows run on real time (the library's), not on the platform's simulated clock.
        """
        stats = await self._ask("get_window_stats", item, *identifiers)
        reset_at: float = stats.reset_time
        return math.ceil(max(reset_at - time.time(), 1))

    async def _ask(self, method: str, item: RateLimitItem, *identifiers: str) -> Any:
        try:
            answer = await _settle(getattr(self._limiter, method)(item, *identifiers))
        except Exception as exc:  # the storage failed, not the request
            if self._on_unreachable is not None:
                self._on_unreachable()
            if not self._unreachable:
                self._unreachable = True
                log.warning("rate-limit storage unreachable (%s): %s", type(exc).__name__,
                            "counting in this process until it answers" if self._fallback
                            else "checks that need it are refused")
            if self._fallback is None:
                raise
            return getattr(self._fallback, method)(item, *identifiers)
        if self._unreachable:
            self._unreachable = False
            log.info("rate-limit storage answers again")
        return answer

    async def healthy(self) -> bool:
        try:
            return bool(await _settle(self._storage.check()))
        except Exception:
            return False

    async def reset(self) -> None:
        await _settle(self._storage.reset())

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


async def _settle(value: Any) -> Any:
    """The value itself (memory), or what the coroutine gives (Redis)."""
    return await value if inspect.isawaitable(value) else value


class _WindowStats:
    __slots__ = ("remaining", "reset_time")

    def __init__(self, reset_time: float, remaining: int) -> None:
        self.reset_time = reset_time
        self.remaining = remaining


class _InProcessWindows:
    """Moving windows in this process, with the `limits` strategy's interface (synchronous)."""

    _SWEEP_EVERY_S = 60.0

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._longest_window_s = 0.0
        self._swept_at = time.time()

    def _window(self, item: RateLimitItem, identifiers: tuple[str, ...], now: float
                ) -> deque[float]:
        key = item.key_for(*identifiers)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        expiry = item.get_expiry()
        self._longest_window_s = max(self._longest_window_s, expiry)
        while hits and hits[0] <= now - expiry:
            hits.popleft()
        return hits

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = time.time()
        hits = self._window(item, identifiers, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        if now - self._swept_at > self._SWEEP_EVERY_S:
            self._sweep(now)
        return True

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return len(self._window(item, identifiers, time.time())) < item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> _WindowStats:
        now = time.time()
        hits = self._window(item, identifiers, now)
        oldest = hits[0] if hits else now
        return _WindowStats(oldest + item.get_expiry(), item.amount - len(hits))

    def check(self) -> bool:
        return True

    def reset(self) -> None:
        self._hits.clear()

    def _sweep(self, now: float) -> None:
        """Forget keys with no hit inside even the longest window seen."""
        cutoff = now - self._longest_window_s
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= cutoff]:
            del self._hits[key]
        self._swept_at = now
