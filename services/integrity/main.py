"""The integrity service: its definition and app factory (`create_app`, for uvicorn --factory).

It files sealed corruption reports in the commission's inbox and holds the commission's public
keys. It never holds a private key and cannot open a report.
"""

from pathlib import Path

from fastapi import FastAPI

from services.integrity.handlers import on_reports_sealed
from services.integrity.models import metadata
from services.integrity.routes import commission_router, public_router
from shared.events.catalog import EventType
from shared.service import ServiceDefinition, Subscription, create_service_app

DEFINITION = ServiceDefinition(
    name="integrity",
    title="Integrity — sealed corruption reports",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    routers=[public_router, commission_router],
    subscriptions=[
        Subscription("sealed-reports",
                     batch_handlers={EventType.report_sealed: on_reports_sealed}),
    ],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
