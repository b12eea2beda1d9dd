"""The intake service: its definition and app factory (`create_app`, for uvicorn --factory)."""

from pathlib import Path

from fastapi import FastAPI

from services.intake import reports, routes_accounts, routes_requests, routes_staff
from services.intake.config import IntakeSettings
from services.intake.context import resources
from services.intake.handlers import SUBSCRIPTIONS
from services.intake.models import metadata
from shared.service import ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="intake",
    title="Intake — citizens, submissions, reference numbers",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=IntakeSettings,
    routers=(resources, routes_accounts.router, routes_requests.router, routes_staff.router,
             reports.router),
    subscriptions=SUBSCRIPTIONS,
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
