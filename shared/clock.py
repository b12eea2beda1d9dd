"""Time, injected: every service asks a `Clock`, never `datetime.now()`.

Outside production a `SimulatedClock` lets an operator (or a test) move time forward so that a
working day passes in a second. Production refuses to build one: `clock_for` is the only door.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Real time plus an offset that only grows; listeners hear every jump.

    Time keeps flowing at the real pace between jumps, so timeouts and backoffs still behave.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        self._offset += by
        now = self.now()
        for listener in list(self._listeners):
            listener(now)
        return now

    def set(self, to: datetime) -> datetime:
        """Jump to an absolute instant (idempotent, so a fan-out to several services agrees)."""
        return self.advance(max(to - self.now(), timedelta(0)))

    def on_advance(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)


def clock_for(*, simulated: bool, production: bool) -> Clock:
    if simulated and production:
        raise RuntimeError("a simulated clock cannot exist in production")
    return SimulatedClock() if simulated else SystemClock()
