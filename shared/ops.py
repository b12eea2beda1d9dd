"""Operator endpoints that exist only outside production: the simulated clock.

`create_service_app` mounts this router only when the service runs a `SimulatedClock` and is
not in production, so in production the path is simply unknown (404). The gateway fans one
operator request out to every service's `PUT /ops/clock` so they all agree on the time.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel

from shared.clock import SimulatedClock
from shared.dependencies import PrincipalDep, RuntimeDep
from shared.errors import Forbidden, Text
from shared.events.vocabulary import Role


class ClockSetting(BaseModel):
    now: AwareDatetime


class ClockReading(BaseModel):
    now: datetime
    offset_seconds: float


def _reading(clock: SimulatedClock) -> ClockReading:
    return ClockReading(now=clock.now(), offset_seconds=clock.offset.total_seconds())


def clock_router() -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"], include_in_schema=False)

    @router.get("/clock")
    async def read_clock(runtime: RuntimeDep) -> ClockReading:
        assert isinstance(runtime.clock, SimulatedClock)
        return _reading(runtime.clock)

    @router.put("/clock")
    async def set_clock(
        setting: ClockSetting, runtime: RuntimeDep, principal: PrincipalDep
    ) -> ClockReading:
        if principal.role is not Role.operator:
            raise Forbidden(Text("للمشغّلين فقط", "Operators only"))
        assert isinstance(runtime.clock, SimulatedClock)
        runtime.clock.set(setting.now)
        return _reading(runtime.clock)

    return router

