"""The dashboard's live feed: server-sent events carrying the dashboard's figures as they change.

Consumers may run in another process or replica, so the feed watches the database, not memory:
the `freshness` row counts applied events. One poll per interval serves every open stream of the
process, and one snapshot per scope and version serves every viewer of that scope, so a room of
ministers costs what one does. A stream says `dashboard` when the figures changed, at least
every `REFRESH_S` anyway (ages of open requests grow without events), a comment line to keep
proxies from closing a quiet stream, and `expired` when the viewer's token runs out (the page
then asks for a new one: a stream never outlives the token that opened it; like every token's,
its end is judged in real time, `wall_clock`, not by the simulated business clock).

What it must never do: send one scope's figures to another (the cache key is the scope).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, Final

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analytics import repository
from services.analytics.slices import Scope
from shared.clock import Clock

REFRESH_S: Final = 60.0
_SNAPSHOTS_KEPT: Final = 64

Snapshot = Callable[[AsyncSession, Scope, datetime], Awaitable[dict[str, Any]]]


def sse(event: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(jsonable_encoder(data), ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


class LiveFeed:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                 wall_clock: Clock, snapshot: Snapshot, poll_interval_s: float,
                 heartbeat_s: float) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._wall_clock = wall_clock
        self._snapshot = snapshot
        self._poll_interval_s = poll_interval_s
        self._heartbeat_s = heartbeat_s
        self._version: int | None = None
        self._polled_at = float("-inf")
        self._poll_lock = asyncio.Lock()
        self._snapshots: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()
        self._snapshot_lock = asyncio.Lock()

    async def version(self) -> int:
        """Events applied so far, read at most once per poll interval for the whole process."""
        async with self._poll_lock:
            if time.monotonic() - self._polled_at >= self._poll_interval_s:
                async with self._sessionmaker() as session:
                    self._version = (await repository.freshness(session))[0]
                self._polled_at = time.monotonic()
        assert self._version is not None
        return self._version

    async def figures(self, scope: Scope, version: int) -> dict[str, Any]:
        epoch = int(time.monotonic() // REFRESH_S)
        key = (scope.key, version, epoch)
        async with self._snapshot_lock:
            cached = self._snapshots.get(key)
            if cached is None:
                async with self._sessionmaker() as session:
                    cached = await self._snapshot(session, scope, self._clock.now())
                self._snapshots[key] = cached
                while len(self._snapshots) > _SNAPSHOTS_KEPT:
                    self._snapshots.popitem(last=False)
            return cached

    async def stream(self, scope: Scope, *, expires_at: datetime) -> AsyncIterator[bytes]:
        sent: tuple[int, int] | None = None
        quiet_since = time.monotonic()
        while True:
            if self._wall_clock.now() >= expires_at:
                yield sse("expired", {"reason": "token_expired"})
                return
            version = await self.version()
            epoch = int(time.monotonic() // REFRESH_S)
            if sent != (version, epoch):
                yield sse("dashboard", await self.figures(scope, version))
                sent, quiet_since = (version, epoch), time.monotonic()
            elif time.monotonic() - quiet_since >= self._heartbeat_s:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(self._poll_interval_s)
