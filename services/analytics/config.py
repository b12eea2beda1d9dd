"""The analytics service's settings: the only reader of `BKH_*` variables for analytics."""

from __future__ import annotations

from pydantic import Field

from shared.links import DEVELOPMENT_SECRET as DEVELOPMENT_LINK_SECRET
from shared.links import secret_problem
from shared.settings import BaseServiceSettings


class AnalyticsSettings(BaseServiceSettings):
    # The live feed looks for newly applied events this often (freshness ≤ 5 s, issue 8).
    live_poll_interval_s: float = Field(default=1.0, gt=0)
    # A comment line this often keeps proxies (the gateway reads with a 30 s timeout) from
    # closing a quiet stream.
    live_heartbeat_s: float = Field(default=10.0, gt=0)

    # The headline indicators and the dashboard of a scope are computed at most this often
    # (services/analytics/recent.py); 0 computes every answer afresh.
    answer_reuse_s: float = Field(default=1.0, ge=0)

    # Reports: the longest period one report may cover, and how many exports a person may
    # start per minute (each can read a month of requests).
    max_report_days: int = Field(default=366, ge=1)
    exports_per_minute: int = Field(default=20, ge=1)
    # Where exports are counted: this process (memory://) or Redis shared by the replicas.
    rate_limit_storage_uri: str = "memory://"

    # The dashboard's default period, and how many requests an entity must have received in
    # it to be ranked by the performance index (fewer would rank noise).
    dashboard_period_days: int = Field(default=30, ge=1, le=366)
    ranking_min_received: int = Field(default=20, ge=1)

    # Open data: counts under this are suppressed (a small count can identify a person).
    open_data_min_cell: int = Field(default=10, ge=2)

    # Scheduled weekly and monthly reports: whether this process publishes them, how often it
    # looks whether one is due.
    report_schedule_enabled: bool = True
    report_schedule_interval_s: float = Field(default=60.0, gt=0)
    # The link in the report's message opens its page on a phone without signing in: signed
    # with the secret notify and intake share (`shared.links`), good for this many days.
    link_secret: str = Field(default=DEVELOPMENT_LINK_SECRET, repr=False)
    report_link_lifetime_days: int = Field(default=30, ge=1, le=90)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if link_problem := secret_problem(self.link_secret, production=True):
            problems.append(link_problem)
        return problems
