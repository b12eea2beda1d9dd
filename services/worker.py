"""The worker process of a service: outbox relay, consumers and housekeeping, without the API.

`python -m services work NAME` runs this, so that a deployment can scale the event side of a
service apart from its HTTP side (whose pods then run with `BKH_RUN_WORKERS=false`). It still
serves `/livez`, `/readyz` and `/metrics` on its port, for the kubelet's probes and Prometheus.

It starts consuming only once the service's schema is at the head revision this code expects:
during an upgrade the new worker waits for the migration job instead of applying new handlers
to the old tables (and spending its events' attempts on errors that are not theirs).

It must never serve the service's public routes, nor migrate the schema itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shared.migrations import schema_serves
from shared.runtime import Runtime, ServiceDefinition
from shared.service import create_service_app

log = logging.getLogger(__name__)

SCHEMA_POLL_INTERVAL_S = 2.0


async def schema_at_head(runtime: Runtime) -> bool:
    try:
        # At head, or further on through revisions that still serve this release's code.
        return await schema_serves(runtime.engine, runtime.head_revision) == "ok"
    except Exception as exc:  # the database comes back; readiness says so meanwhile
        log.warning("schema revision unreadable", extra={"error": type(exc).__name__})
        return False


async def start_when_schema_at_head(
    runtime: Runtime, *, poll_interval_s: float = SCHEMA_POLL_INTERVAL_S
) -> None:
    waited = False
    while not await schema_at_head(runtime):
        if not waited:
            log.info("waiting for the schema to reach head before consuming",
                     extra={"expected": runtime.head_revision})
            waited = True
        await asyncio.sleep(poll_interval_s)
    await runtime.start_workers()
    log.info("worker started", extra={"consumers": len(runtime.consumers)})


def stop_this_process() -> None:
    """Ask uvicorn to shut down as on SIGTERM: the kubelet then starts the container anew."""
    signal.raise_signal(signal.SIGTERM)


async def _start_or_stop(
    runtime: Runtime, *, poll_interval_s: float, on_failure: Callable[[], None]
) -> None:
    try:
        await start_when_schema_at_head(runtime, poll_interval_s=poll_interval_s)
    except asyncio.CancelledError:
        raise
    except Exception:
        # A worker alive without its consumers would look healthy and do nothing.
        log.exception("worker could not start its consumers; stopping")
        on_failure()


def create_worker_app(
    definition: ServiceDefinition,
    *,
    settings_overrides: Mapping[str, Any] | None = None,
    poll_interval_s: float = SCHEMA_POLL_INTERVAL_S,
    on_failure: Callable[[], None] = stop_this_process,
) -> FastAPI:
    """The service's runtime with health and metrics only; workers start at schema head."""
    # Started here, not by the app's own lifespan: whatever BKH_RUN_WORKERS says.
    settings = definition.load_settings(**{**(settings_overrides or {}), "run_workers": False})
    app = create_service_app(dataclasses.replace(definition, routers=()), settings)
    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            starting = asyncio.create_task(
                _start_or_stop(
                    app.state.runtime, poll_interval_s=poll_interval_s, on_failure=on_failure
                ),
                name=f"worker-start:{definition.name}",
            )
            try:
                yield
            finally:
                # Before the runtime closes, so that it never closes under a half-done start.
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting

    app.router.lifespan_context = lifespan
    return app
