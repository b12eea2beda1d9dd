"""Time, injected: every service asks a `Clock`, never `datetime.now()`.

Two clocks, for two kinds of time:
- the business clock (`Runtime.clock`) times what the regulation times: deadlines,
  escalations, events, codes. Outside production a `SimulatedClock` lets an operator (or a
  test) move it forward so that a working day passes in a second. Production refuses to build
  one: `clock_for` is the only door.
- the wall clock (`Runtime.wall_clock`, `WALL_CLOCK`) times what security times: access
  tokens, sign-in sessions, lockouts. It is real time (tests may hand in their own to make an
  expiry come). Were tokens timed by the business clock, an operator's jump of two days would
  expire every session at once, the operator's own token first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol


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


class FixedClock:
    """A clock stopped at one instant. What a consumer writes is stamped with the instant of
    the event that caused it, so a redelivery writes exactly what the first delivery would have
    and the record follows the platform's time, not the consumer's."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


WALL_CLOCK: Final[Clock] = SystemClock()
"""Real time: what tokens and sessions live by, whatever the business clock says."""


def clock_for(*, simulated: bool, production: bool) -> Clock:
    if simulated and production:
        raise RuntimeError("a simulated clock cannot exist in production")
    return SimulatedClock() if simulated else SystemClock()
