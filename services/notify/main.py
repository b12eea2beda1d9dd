"""The notify service: its definition and app factory (`create_app`, for uvicorn --factory).

Two queues: `codes` (one-time codes alone, so that a citizen waiting for one never waits behind
a backlog of notices) and `notices` (everything else, in one queue so that a citizen's contact
points arrive before the notices that need them). The dispatcher is a background loop of the
kernel's (`ServiceDefinition.background`): it runs wherever the outbox relay runs. What notify
holds beside the runtime (the renderer; the dispatcher, where it runs) is `context.Notify`,
built here by `open_notify`.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.notify import handlers
from services.notify.config import NotifySettings
from services.notify.context import Notify
from services.notify.dispatcher import Dispatcher, Renderer
from services.notify.models import metadata
from services.notify.routes import router
from shared.runtime import Runtime, ServiceDefinition, Subscription
from shared.service import create_service_app


@asynccontextmanager
async def open_notify(runtime: Runtime) -> AsyncIterator[Notify]:
    yield Notify(renderer=Renderer(runtime.settings_as(NotifySettings), runtime.clock))


async def dispatch(runtime: Runtime) -> None:
    """The dispatcher, as the kernel's background loop: it runs wherever the relay runs."""
    notify = runtime.resources_as(Notify)
    dispatcher = Dispatcher(settings=runtime.settings_as(NotifySettings), clock=runtime.clock,
                            sessionmaker=runtime.sessionmaker, outbox=runtime.outbox,
                            renderer=notify.renderer)
    notify.dispatcher = dispatcher
    dispatcher.start()
    try:
        await asyncio.Event().wait()  # until cancelled, when the service stops
    finally:
        notify.dispatcher = None
        await dispatcher.stop()


def dispatcher_of(runtime: Runtime) -> Dispatcher:
    """The running dispatcher of a notify service (operations and tests look at its lanes)."""
    dispatcher = runtime.resources_as(Notify).dispatcher
    if dispatcher is None:
        raise LookupError("this notify process runs no dispatcher")
    return dispatcher


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
    resources=open_notify,
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
