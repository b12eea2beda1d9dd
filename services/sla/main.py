"""The sla service: its definition and app factory (`create_app`, for uvicorn --factory).

Two queues: `lifecycle` (the request events deadlines are derived from) and `directory` (who
is entity head, minister or CMU staff), so a flood of directory changes never delays a deadline.
The deadline scheduler runs as a background loop wherever the workers run.
"""

from pathlib import Path

from fastapi import FastAPI

from services.sla import handlers
from services.sla.config import SlaSettings
from services.sla.models import metadata
from services.sla.routes import router
from services.sla.scheduler import run_scheduler
from shared.runtime import ServiceDefinition, Subscription
from shared.service import create_service_app

DEFINITION = ServiceDefinition(
    name="sla",
    title="SLA — working-day clock and escalation",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=SlaSettings,
    routers=[router],
    subscriptions=[
        Subscription("lifecycle", handlers.LIFECYCLE),
        Subscription("directory", handlers.DIRECTORY),
    ],
    background=[run_scheduler],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
