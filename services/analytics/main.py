"""The analytics service: its definition and app factory (`create_app`, for uvicorn --factory).

One queue (`projections`) takes every event analytics reads (`projection.CONSUMED`) into the
read model; the schedule of periodic reports runs beside the API for as long as the app lives.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.analytics.config import AnalyticsSettings
from services.analytics.handlers import apply_events
from services.analytics.models import metadata
from services.analytics.projection import CONSUMED
from services.analytics.routes import pages, router
from services.analytics.schedule import run_schedule
from shared.service import ServiceDefinition, Subscription, create_service_app


@asynccontextmanager
async def periodic_reports(app: FastAPI) -> AsyncIterator[None]:
    """Entered after the service's own lifespan has opened the runtime (FastAPI nests them)."""
    runtime = app.state.runtime
    settings = runtime.settings
    task = None
    if isinstance(settings, AnalyticsSettings) and settings.report_schedule_enabled:
        task = asyncio.create_task(run_schedule(runtime, settings.report_schedule_interval_s),
                                   name="analytics:periodic-reports")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


DEFINITION = ServiceDefinition(
    name="analytics",
    title="Analytics — KPIs, reports, dashboard",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=AnalyticsSettings,
    routers=(router, pages, APIRouter(lifespan=periodic_reports)),
    subscriptions=(
        Subscription("projections",
                     batch_handlers={event_type.value: apply_events for event_type in CONSUMED}),
    ),
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
