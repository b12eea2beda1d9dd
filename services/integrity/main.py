"""The integrity service: its definition and app factory (`create_app`, for uvicorn --factory).

It files sealed corruption reports in the commission's inbox and holds the commission's public
keys. It never holds a private key and cannot open a report.
"""

from pathlib import Path

from fastapi import FastAPI

from services.integrity.handlers import SEALED_REPORTS
from services.integrity.models import metadata
from services.integrity.routes import commission_router, public_router
from shared.runtime import ServiceDefinition, Subscription
from shared.service import create_service_app

DEFINITION = ServiceDefinition(
    name="integrity",
    title="Integrity — sealed corruption reports",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    routers=[public_router, commission_router],
    subscriptions=[
        Subscription("sealed-reports", SEALED_REPORTS),
    ],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
