"""The sla service's settings: the only reader of `BKH_*` variables for sla."""

from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class SlaSettings(BaseServiceSettings):
    # Timers fired per transaction; a burst is drained in batches of this size.
    scheduler_batch_size: int = Field(default=500, ge=1, le=10_000)
    # The longest the scheduler sleeps without looking: bounds the lateness of a timer set by
    # another replica (the next due timer of its own is slept to exactly).
    scheduler_poll_interval_s: float = Field(default=0.5, gt=0, le=60)
    # Requests closed longer ago than this leave SLA's tables (routing keeps the audit trail).
    closed_request_retention_days: int = Field(default=400, ge=30)
