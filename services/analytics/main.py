"""The analytics service: its definition and app factory (`create_app`, for uvicorn --factory)."""

from pathlib import Path

from fastapi import FastAPI

from services.analytics.models import metadata
from shared.service import ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="analytics",
    title="Analytics — KPIs, reports, dashboard",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
