"""The routing service: its definition and app factory (`create_app`, for uvicorn --factory).

Routing owns the directory of government (and announces it), signs staff in, places every
submitted request with the right sector's main liaison officer (or the CMU), carries the
officers' and the CMU's actions through the request's life, and keeps each request's
hash-chained timeline. It never sees a requester's contact points or a corruption report.
"""

from pathlib import Path

from fastapi import FastAPI

from services.routing.cases.handlers import LIFECYCLE, PLACEMENT
from services.routing.cases.routes import router as cases_router
from services.routing.config import RoutingSettings
from services.routing.context import resources
from services.routing.directory.routes import admin as directory_admin
from services.routing.directory.routes import public as directory_public
from services.routing.models import metadata
from services.routing.staff.routes import internal as staff_internal
from services.routing.staff.routes import router as staff_router
from shared.service import ServiceDefinition, Subscription, create_service_app

DEFINITION = ServiceDefinition(
    name="routing",
    title="Routing — directory and case handling",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=RoutingSettings,
    routers=[resources, directory_public, directory_admin, staff_router, staff_internal,
             cases_router],
    subscriptions=[
        # Apart, so that ratings and deadlines never wait behind a backlog of submissions.
        Subscription("placement", batch_handlers=PLACEMENT),
        Subscription("lifecycle", handlers=LIFECYCLE),
    ],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
