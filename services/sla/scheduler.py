"""The deadline scheduler: fires what falls due, in every SLA process that runs workers.

Timers live in PostgreSQL (SQLite when embedded), never in the broker: a round claims the oldest
due timers with `FOR UPDATE SKIP LOCKED`, writes their events to the outbox and marks them fired
in one transaction, so several replicas share the work and none fires a timer twice; a crash
before the commit leaves them pending for the next round. After downtime everything overdue
fires at once, oldest first, in batches.

Between rounds it sleeps until the next due instant (never longer than the poll interval, so a
timer set by another replica is not missed), and wakes at once when an operator moves the
simulated clock. Each round first lets open deadlines catch up with changed rules; nothing fires
on a stale due instant. The rules are announced once after the first start, and requests closed
long ago leave SLA's tables.

What it must never do: fire a timer whose transaction did not commit, or sleep past a due timer
it knows of.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla import repository, service
from services.sla.config import SlaSettings
from shared.bus import Outbox
from shared.clock import Clock, SimulatedClock
from shared.events import EventPayload
from shared.events.catalog import SlaEscalated
from shared.runtime import Runtime
from shared.waiting import wait_at_most

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)

TIMERS_FIRED = Counter(
    "bkh_sla_timers_fired_total", "Deadline timers fired, by the event they announced",
    ["event", "level"],
)
FIRING_LATENESS = Histogram(
    "bkh_sla_firing_lateness_seconds",
    "How long after its due instant (on the service's clock) a timer fired",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)


class DeadlineScheduler:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        retention: timedelta = timedelta(days=400),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.clock = clock
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retention = retention
        self._wakeup = asyncio.Event()
        self._announced = False
        self._purged_at: datetime | None = None
        if isinstance(clock, SimulatedClock):
            clock.on_advance(lambda _now: self.wake())

    def wake(self) -> None:
        self._wakeup.set()

    async def run_round(self) -> int:
        """Fire one batch, after catching up with changed rules; how many fired."""
        if not self._announced:
            async with self.sessionmaker.begin() as session:
                await service.announce_rules_if_needed(session, outbox=self.outbox)
            self._announced = True
        fired = await self._fire()
        if fired is None:
            async with self.sessionmaker.begin() as session:
                await service.catch_up(session, outbox=self.outbox, now=self.clock.now())
            fired = await self._fire()
        await self._purge_now_and_then()
        return fired or 0

    async def _fire(self) -> int | None:
        now = self.clock.now()
        fired: list[tuple[EventPayload, datetime]] = []
        async with self.sessionmaker.begin() as session:
            count = await service.fire_due(session, outbox=self.outbox, now=now,
                                           limit=self.batch_size, fired=fired)
        for event, due_at in fired:  # committed: now they count
            level = str(event.level) if isinstance(event, SlaEscalated) else ""
            TIMERS_FIRED.labels(event.event_type, level).inc()
            FIRING_LATENESS.observe(max((now - due_at).total_seconds(), 0.0))
        return count

    async def run(self) -> None:
        """Fire until cancelled; survives a database that comes and goes."""
        failures = 0
        while True:
            # Cleared before the round, so an advance of the clock meanwhile is not missed.
            self._wakeup.clear()
            try:
                fired = await self.run_round()
                failures = 0
                if fired >= self.batch_size:
                    continue  # a backlog: drain it without sleeping
                pause = await self._until_next_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                pause = min(0.1 * 2**failures, 5.0)
                log.warning("deadline scheduler round failed, retrying",
                            extra={"error": type(exc).__name__, "retry_in_s": pause})
            if pause > 0:
                await wait_at_most(self._wakeup, pause)

    async def _until_next_due(self) -> float:
        async with self.sessionmaker() as session:
            due = await repository.next_due(session)
        if due is None:
            return self.poll_interval_s
        return max(0.0, min((due - self.clock.now()).total_seconds(), self.poll_interval_s))

    async def _purge_now_and_then(self) -> None:
        now = self.clock.now()
        if self._purged_at is not None and now - self._purged_at < PURGE_INTERVAL:
            return
        self._purged_at = now
        async with self.sessionmaker.begin() as session:
            purged = await service.purge_closed(session, now=now, retention=self.retention)
        if purged:
            log.info("closed requests purged", extra={"count": purged})


async def run_scheduler(runtime: Runtime) -> None:
    """SLA's background loop (`ServiceDefinition.background`)."""
    settings = runtime.settings_as(SlaSettings)
    scheduler = DeadlineScheduler(
        sessionmaker=runtime.sessionmaker,
        outbox=runtime.outbox,
        clock=runtime.clock,
        batch_size=settings.scheduler_batch_size,
        poll_interval_s=settings.scheduler_poll_interval_s,
        retention=timedelta(days=settings.closed_request_retention_days),
    )
    await scheduler.run()
