"""The operator's simulated clock, fanned out: one request moves every service's time.

Outside production each service runs a `SimulatedClock` behind `GET/PUT /ops/clock`. The
gateway reads the services' current time, computes the target instant once, and sends that same
absolute instant to every service concurrently (`SimulatedClock.set` is idempotent, so a retry
or a late service converges on the same time rather than drifting by a second advance). Services
sharing one clock (`make run`, the end-to-end tests) simply take the same instant again. Tokens
live in real time (`shared.clock.WALL_CLOCK`), so the operator's token, checked by each service
after others have moved, is as good after the jump as before it.

What it must never do: exist in production (the gateway does not mount the route there, and the
route table never reaches `/ops/...` on a service), or act without an operator's token — the
services check the operator role again on `PUT /ops/clock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal, Self

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from gateway.proxy import Upstreams
from shared.errors import Conflict, ServiceUnavailable, Text

log = logging.getLogger(__name__)

ServiceClockState = Literal["ok", "unavailable"]
MAX_ADVANCE_S = 10 * 366 * 24 * 3600


class ClockAdvance(BaseModel):
    """Either move forward by `seconds`, or jump to the instant `to` (never backwards)."""

    model_config = ConfigDict(extra="forbid")

    # Bounded so the sum cannot overflow a datetime; ten years is more than any test needs.
    seconds: float | None = Field(default=None, gt=0, le=MAX_ADVANCE_S, allow_inf_nan=False)
    to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.seconds is None) == (self.to is None):
            raise ValueError("give exactly one of 'seconds' or 'to'")
        return self


class ClockFanOut(BaseModel):
    now: datetime
    services: dict[str, ServiceClockState]


_NO_CLOCK = Text(
    "لا توجد خدمة متاحة بساعة محاكاة.", "No service with a simulated clock can be reached."
)
_BACKWARDS = Text(
    "ساعة المحاكاة لا تتحرك إلا إلى الأمام.", "The simulated clock only moves forward."
)


def _parse_now(response: httpx.Response) -> datetime | None:
    if response.status_code != 200:
        return None
    try:
        value = datetime.fromisoformat(str(response.json()["now"]))
    except (ValueError, KeyError, TypeError):
        return None
    return value if value.tzinfo is not None else None


async def read_now(
    upstreams: Upstreams, headers: Mapping[str, str], timeout_s: float
) -> datetime:
    """The latest simulated time any service reports (a service that missed a jump lags)."""

    async def one(name: str) -> datetime | None:
        try:
            async with asyncio.timeout(timeout_s * 2):
                response = await upstreams.client(name).get(
                    "/ops/clock", headers=dict(headers), timeout=timeout_s
                )
        except (httpx.HTTPError, TimeoutError):
            return None
        return _parse_now(response)

    readings = [r for r in await asyncio.gather(*(one(n) for n in upstreams.names)) if r]
    if not readings:
        raise ServiceUnavailable(_NO_CLOCK)
    return max(readings)


def target_instant(now: datetime, advance: ClockAdvance) -> datetime:
    if advance.seconds is not None:
        return now + timedelta(seconds=advance.seconds)
    assert advance.to is not None
    if advance.to < now:
        raise Conflict(_BACKWARDS, now=now.isoformat())
    return advance.to


async def set_everywhere(
    upstreams: Upstreams, target: datetime, headers: Mapping[str, str], timeout_s: float
) -> dict[str, ServiceClockState]:
    """PUT the same instant to every service at once; say which ones took it."""

    async def one(name: str) -> ServiceClockState:
        try:
            async with asyncio.timeout(timeout_s * 2):
                response = await upstreams.client(name).put(
                    "/ops/clock", json={"now": target.isoformat()}, headers=dict(headers),
                    timeout=timeout_s,
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("clock of %s not set: %s", name, type(exc).__name__)
            return "unavailable"
        if response.is_success:
            return "ok"
        log.warning("clock of %s not set: status %s", name, response.status_code)
        return "unavailable"

    names = upstreams.names
    states = await asyncio.gather(*(one(name) for name in names))
    return dict(zip(names, states, strict=True))
