"""The notify service: its definition and app factory (`create_app`, for uvicorn --factory).

Two queues: `codes` (one-time codes alone, so that a citizen waiting for one never waits behind
a backlog of notices) and `notices` (everything else, in one queue so that a citizen's contact
points arrive before the notices that need them). The dispatcher is a background loop of the
kernel's (`ServiceDefinition.background`): it runs wherever the outbox relay runs.
"""

import asyncio
import weakref
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notify import handlers
from services.notify.config import NotifySettings
from services.notify.dispatcher import Dispatcher
from services.notify.models import metadata
from services.notify.routes import router
from shared.runtime import Runtime, ServiceDefinition, Subscription
from shared.service import create_service_app

# By engine: a runtime (a plain dataclass) cannot be a key, its engine is its own.
_dispatchers: weakref.WeakKeyDictionary[AsyncEngine, Dispatcher] = weakref.WeakKeyDictionary()


async def dispatch(runtime: Runtime) -> None:
    """The dispatcher, as the kernel's background loop: it runs wherever the relay runs."""
    settings = runtime.settings_as(NotifySettings)
    dispatcher = Dispatcher(settings=settings, clock=runtime.clock,
                            sessionmaker=runtime.sessionmaker, outbox=runtime.outbox)
    _dispatchers[runtime.engine] = dispatcher
    dispatcher.start()
    try:
        await asyncio.Event().wait()  # until cancelled, when the service stops
    finally:
        await dispatcher.stop()


def dispatcher_of(runtime: Runtime) -> Dispatcher:
    """The running dispatcher of a notify service (operations and tests look at its lanes)."""
    return _dispatchers[runtime.engine]


DEFINITION = ServiceDefinition(
    name="notify",
    title="Notify — SMS and email",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=NotifySettings,
    routers=[router],
    subscriptions=[
        Subscription("codes", handlers.CODES),
        Subscription("notices", handlers.NOTICES),
    ],
    background=[dispatch],
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
