"""The notify service: its definition and app factory (`create_app`, for uvicorn --factory).

Two queues: `codes` (one-time codes alone, so that a citizen waiting for one never waits behind
a backlog of notices) and `notices` (everything else, in one queue so that a citizen's contact
points arrive before the notices that need them). The dispatcher runs beside the API in every
process, started by the `dispatching` router's lifespan, which FastAPI runs inside the app's:
the service's runtime (database, bus, clock) is open by then.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.notify import handlers
from services.notify.config import NotifySettings
from services.notify.dispatcher import Dispatcher
from services.notify.models import metadata
from services.notify.routes import router
from shared.events.catalog import EventType
from shared.service import Runtime, ServiceDefinition, Subscription, create_service_app


@asynccontextmanager
async def _dispatch(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    settings = runtime.settings
    assert isinstance(settings, NotifySettings)
    dispatcher = Dispatcher(settings=settings, clock=runtime.clock,
                            sessionmaker=runtime.sessionmaker, outbox=runtime.outbox)
    app.state.dispatcher = dispatcher
    dispatcher.start()
    try:
        yield
    finally:
        await dispatcher.stop()


dispatching = APIRouter(lifespan=_dispatch)

DEFINITION = ServiceDefinition(
    name="notify",
    title="Notify — SMS and email",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=NotifySettings,
    routers=[router, dispatching],
    subscriptions=[
        Subscription("codes", handlers={
            EventType.citizen_code_requested: handlers.on_code_requested,
        }),
        Subscription(
            "notices",
            batch_handlers={
                EventType.citizen_registered: handlers.on_citizen_contact,
                EventType.citizen_contact_changed: handlers.on_citizen_contact,
                EventType.request_submitted: handlers.on_request_submitted,
            },
            handlers={
                EventType.directory_person_changed: handlers.on_person_changed,
                EventType.directory_role_changed: handlers.on_role_changed,
                EventType.directory_entity_changed: handlers.on_entity_changed,
                **{event_type: handlers.on_request_event
                   for event_type in handlers.REQUEST_EVENTS},
                EventType.sla_breached: handlers.on_sla_breached,
                EventType.sla_rules_changed: handlers.on_sla_rules_changed,
                EventType.sla_escalated: handlers.on_sla_escalated,
                EventType.report_forwarded: handlers.on_report_forwarded,
                EventType.analytics_report_published: handlers.on_report_published,
            },
        ),
    ],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
