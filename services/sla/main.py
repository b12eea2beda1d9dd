"""The sla service: its definition and app factory (`create_app`, for uvicorn --factory)."""

from pathlib import Path

from fastapi import FastAPI

from services.sla.models import metadata
from shared.service import ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="sla",
    title="SLA — working-day clock and escalation",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
