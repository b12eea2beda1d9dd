"""Settings of the routing service: the only reader of `BKH_*` for it.

Demo staff (accounts with a published password, for the embedded mode, `make up` and tests) are
on by default outside production and refused in production.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator

from shared.auth import DEFAULT_LIFETIME
from shared.settings import BaseServiceSettings


class RoutingSettings(BaseServiceSettings):
    service_name: str = "routing"

    # None: on outside production, off in production (where True is refused).
    demo_staff: bool | None = None

    # Staff sessions: short access tokens, refresh tokens that rotate, and an absolute limit.
    staff_token_lifetime_s: int = Field(
        default=int(DEFAULT_LIFETIME.total_seconds()), ge=60, le=15 * 60
    )
    staff_refresh_lifetime_s: int = Field(default=2 * 3600, ge=300, le=24 * 3600)
    staff_session_max_s: int = Field(default=12 * 3600, ge=600, le=24 * 3600)

    # A guesser gets this many wrong passwords on one account, then waits (the gateway also
    # limits sign-ins per address).
    sign_in_attempts: int = Field(default=5, ge=1, le=50)
    sign_in_lockout_s: int = Field(default=15 * 60, ge=1)

    # How often start-up retries seeding while the schema is not migrated yet.
    seed_retry_interval_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _demo_staff_never_in_production(self) -> Self:
        if self.demo_staff is None:
            object.__setattr__(self, "demo_staff", not self.production)
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.demo_staff:
            problems.append("BKH_DEMO_STAFF must be off (demo accounts have a known password)")
        return problems

    @property
    def staff_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.staff_token_lifetime_s)

    @property
    def staff_refresh_lifetime(self) -> timedelta:
        return timedelta(seconds=self.staff_refresh_lifetime_s)

    @property
    def staff_session_max(self) -> timedelta:
        return timedelta(seconds=self.staff_session_max_s)

    @property
    def sign_in_lockout(self) -> timedelta:
        return timedelta(seconds=self.sign_in_lockout_s)
