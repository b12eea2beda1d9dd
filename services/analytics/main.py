"""The analytics service: its definition and app factory (`create_app`, for uvicorn --factory).

One queue (`projections`) takes every event analytics reads (`projection.CONSUMED`) into the
read model; the schedule of periodic reports runs wherever the relay runs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.analytics.config import AnalyticsSettings
from services.analytics.handlers import PROJECTIONS
from services.analytics.models import metadata
from services.analytics.published import ReportLinks
from services.analytics.routes import pages, router
from services.analytics.schedule import run_schedule
from shared.runtime import Runtime, ServiceDefinition, Subscription
from shared.service import create_service_app


async def periodic_reports(runtime: Runtime) -> None:
    """The schedule of weekly and monthly reports, wherever the relay runs (kernel background)."""
    settings = runtime.settings
    if isinstance(settings, AnalyticsSettings) and settings.report_schedule_enabled:
        await run_schedule(runtime, interval_s=settings.report_schedule_interval_s,
                           links=ReportLinks.of(settings, runtime.clock))


DEFINITION = ServiceDefinition(
    name="analytics",
    title="Analytics — KPIs, reports, dashboard",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=AnalyticsSettings,
    routers=(router, pages),
    background=(periodic_reports,),
    subscriptions=(
        Subscription("projections", PROJECTIONS),
    ),
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
