"""Scheduled periodic reports: weekly and monthly, one per sector (for its minister) and one for
the whole government (the prime minister's office), announced with `analytics.report_published`.

Each report is frozen when published (its content stored as it stood), so the minister reads
what was announced. Publishing is claimed by a unique row per cadence, period and audience in
the same transaction as the outbox event: however many replicas run the schedule, a report is
published and announced once. Notify delivers the link (docs/integration.md): a signed,
expiring link to the report's page (`services.analytics.published`), which opens on a phone.

Reports follow the calendar from the platform's first day (its first logged event): a first
start publishes nothing for the weeks and months that ended before it, which had no requests.
A period that ended while the schedule was down is published when it runs again.

What it must never do: put figures or personal data in the event (a link only), publish a
period that has not ended, or catch up periods from before the platform began.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics import repository
from services.analytics.published import ReportLinks
from services.analytics.reports import build_report, to_json
from services.analytics.service import kpis
from services.analytics.slices import Period, Scope
from services.analytics.worktime import amman_day
from shared.bus import Outbox
from shared.clock import Clock
from shared.events.catalog import AnalyticsReportPublished, ReportCadence
from shared.runtime import Runtime

log = logging.getLogger(__name__)

GOVERNMENT_WIDE = ""  # the audience key of the prime minister's office's report


def last_complete_periods(today: date) -> dict[ReportCadence, Period]:
    """The latest week (Sunday–Saturday) and month that ended before `today` (Amman)."""
    this_sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    week = Period(this_sunday - timedelta(days=7), this_sunday - timedelta(days=1))
    month_end = today.replace(day=1) - timedelta(days=1)
    return {ReportCadence.weekly: week,
            ReportCadence.monthly: Period(month_end.replace(day=1), month_end)}


async def report_content(session: AsyncSession, *, scope: Scope, period: Period,
                         now: datetime) -> dict[str, Any]:
    """A sector's report by entity; the government-wide one by sector. Both languages."""
    group_by = ["sector"] if scope.everything else ["entity"]
    content: dict[str, Any] = {
        "headline": await kpis(session, scope=scope, period=period, where=repository.ANY,
                               now=now),
    }
    for language in ("ar", "en"):
        table = await build_report(session, scope=scope, period=period,
                                   where=repository.ANY, group_by=group_by, language=language)
        content[language] = to_json(table)
    return content


async def publish_due_reports(session: AsyncSession, *, outbox: Outbox, links: ReportLinks,
                              now: datetime) -> int:
    """Publish every report whose period has ended since the platform began, once."""
    began = await repository.first_event_at(session)
    if began is None:
        return 0  # nothing has happened yet: no audience, no figures
    first_day = amman_day(began)
    periods = {cadence: period for cadence, period in last_complete_periods(amman_day(now)).items()
               if period.end >= first_day}
    if not periods:
        return 0
    audiences = [GOVERNMENT_WIDE, *sorted(code for code, sector
                                          in (await repository.sector_names(session)).items()
                                          if not sector["retired"])]
    done = await repository.published_keys(session, {p.start for p in periods.values()})
    published = 0
    for cadence, period in periods.items():
        for sector in audiences:
            if (cadence.value, period.start, sector) in done:
                continue
            scope = Scope() if sector == GOVERNMENT_WIDE else Scope(
                entities=frozenset(), sectors=frozenset({sector}))
            report_id = uuid.uuid4()
            content = await report_content(session, scope=scope, period=period, now=now)
            claimed = await repository.claim_published_report(session, {
                "id": report_id, "cadence": cadence.value, "period_start": period.start,
                "period_end": period.end, "sector": sector, "published_at": now,
                "content": json.dumps(jsonable_encoder(content), ensure_ascii=False).encode(),
            })
            if not claimed:
                continue
            await outbox.add(session, AnalyticsReportPublished(
                report_id=report_id, cadence=cadence, period_start=period.start,
                period_end=period.end, sector=sector or None, link=links.link(report_id),
            ))
            published += 1
    return published


async def run_schedule(runtime: Runtime, *, interval_s: float, links: ReportLinks) -> None:
    """Forever: publish what is due, then wait. A failure is logged and tried next round."""
    clock: Clock = runtime.clock
    while True:
        try:
            async with runtime.sessionmaker.begin() as session:
                count = await publish_due_reports(session, outbox=runtime.outbox, links=links,
                                                  now=clock.now())
            if count:
                log.info("periodic reports published", extra={"count": count})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database comes back; the next round catches up
            log.warning("periodic reports not published", extra={"error": type(exc).__name__})
        await asyncio.sleep(interval_s)
