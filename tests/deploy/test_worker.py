"""The worker Deployment's process: `python -m services work NAME`.

It runs a service's relay and consumers without its public API, answers the kubelet's probes
and Prometheus on its port, and starts consuming only once the schema is at head (the
migration job of a release may still be running when the new worker starts).
Real PostgreSQL and RabbitMQ throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aio_pika
import httpx
import pytest
from fastapi import FastAPI

from services import SERVICES
from services.__main__ import definition_of
from services.worker import create_worker_app
from shared.bus import Handlers
from shared.bus.rabbitmq import delete_declared
from shared.events.catalog import ReportForwarded
from shared.runtime import Runtime, Subscription, migrate_to_head
from shared.service import create_service_app
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "analytics"  # any service will do: every one has an outbox and a schema of its own


@pytest.fixture
def distributed(postgres_url: str, pg_schema: str, amqp_url: str, bus_namespace: str
                ) -> dict[str, str]:
    return {"database_url": postgres_url, "database_schema": pg_schema, "amqp_url": amqp_url,
            "bus_namespace": bus_namespace}


@pytest.fixture
async def queues_cleaned(amqp_url: str, bus_namespace: str) -> AsyncIterator[list[str]]:
    """Queues a test declares (the worker's own and the test's), deleted afterwards."""
    declared: list[str] = []
    yield declared
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for queue in declared:
            await channel.queue_delete(queue)
        await channel.exchange_delete(f"{bus_namespace}.events")
    finally:
        await connection.close()


def the_service_queues(name: str, namespace: str) -> list[str]:
    definition = definition_of(name)
    names = [f"{namespace}.{name}.{subscription.name}" for subscription in definition.subscriptions]
    settings = definition.load_settings()
    return [
        *names,
        *(f"{queue}.dead" for queue in names),
        *(f"{queue}.retry.{delay}ms" for queue in names for delay in settings.retry_delays_ms),
    ]


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
            yield client


async def eventually_true(check: Callable[[], Awaitable[bool]], limit_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never true: {check}")


@pytest.mark.parametrize("name", SERVICES)
async def test_a_worker_serves_probes_and_metrics_and_no_public_route(name: str) -> None:
    definition = definition_of(name)
    worker = create_worker_app(definition)
    assert worker.openapi()["paths"] == {}
    public_paths = create_service_app(definition).openapi()["paths"]
    transport = httpx.ASGITransport(app=worker)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        for path in public_paths:
            concrete = re.sub(r"{[^}]+}", "x", path)
            assert (await client.get(concrete)).status_code == 404, path


async def test_the_worker_waits_for_the_schema_then_relays_the_outbox(
    distributed: dict[str, str], amqp_url: str, bus_namespace: str, queues_cleaned: list[str]
) -> None:
    definition = definition_of(SERVICE)
    queues_cleaned.extend(the_service_queues(SERVICE, bus_namespace))
    app = create_worker_app(definition, settings_overrides=distributed, poll_interval_s=0.05)

    async with running(app) as worker:
        runtime: Runtime = app.state.runtime
        waiting = await worker.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json()["checks"]["schema"] != "ok"
        await asyncio.sleep(0.3)
        assert runtime.tasks == []
        assert runtime.consumers == []

        # The release's migration job runs now.
        await migrate_to_head(definition, definition.load_settings(**distributed))

        async def started() -> bool:
            return any(task.get_name() == f"relay:{SERVICE}" for task in runtime.tasks)

        await eventually_true(started)
        assert len(runtime.consumers) == len(definition.subscriptions)
        assert (await worker.get("/readyz")).status_code == 200
        assert (await worker.get("/livez")).json() == {"status": "ok"}
        assert "bkh_outbox_relayed_total" in (await worker.get("/metrics")).text

        # An event written to the outbox leaves it through this worker's relay.
        connection = await aio_pika.connect(amqp_url)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                f"{bus_namespace}.events", aio_pika.ExchangeType.TOPIC, durable=True
            )
            listener = await channel.declare_queue(f"{bus_namespace}.test.listener")
            queues_cleaned.append(listener.name)
            await listener.bind(exchange, routing_key="report.forwarded")
            envelope_id = uuid.uuid4()
            async with runtime.sessionmaker.begin() as session:
                sent = await runtime.outbox.add(session, ReportForwarded(envelope_id=envelope_id))
            message = None
            for _ in range(200):
                message = await listener.get(fail=False, no_ack=True)
                if message is not None:
                    break
                await asyncio.sleep(0.05)
            assert message is not None, "the worker's relay never published the event"
            assert message.message_id == str(sent.id)
        finally:
            await connection.close()


async def test_an_api_pod_without_workers_serves_http_only(
    distributed: dict[str, str], queues_cleaned: list[str]  # its outbox declares the exchange
) -> None:
    definition = definition_of(SERVICE)
    settings = definition.load_settings(**distributed, run_workers=False)
    await migrate_to_head(definition, settings)
    app = create_service_app(definition, settings)
    async with running(app) as api:
        assert (await api.get("/readyz")).status_code == 200
        runtime: Runtime = app.state.runtime
        assert runtime.tasks == []
        assert runtime.consumers == []


async def test_a_worker_that_cannot_start_its_consumers_stops_itself(
    distributed: dict[str, str], bus_namespace: str, queues_cleaned: list[str]
) -> None:
    definition = definition_of(SERVICE)
    await migrate_to_head(definition, definition.load_settings(**distributed))
    broken = dataclasses.replace(definition,
                                 subscriptions=(Subscription("no-handlers", Handlers()),))
    stopped = asyncio.Event()
    app = create_worker_app(broken, settings_overrides=distributed, poll_interval_s=0.05,
                            on_failure=stopped.set)
    async with running(app):
        await asyncio.wait_for(stopped.wait(), 20)


def test_the_work_command_answers_probes_and_stops_on_sigterm(
    postgres_url: str, pg_schema: str, amqp_url: str, bus_namespace: str
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BKH_DATABASE_URL": postgres_url,
        "BKH_DATABASE_SCHEMA": pg_schema,
        "BKH_AMQP_URL": amqp_url,
        "BKH_BUS_NAMESPACE": bus_namespace,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "work", SERVICE, "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        live = None
        while time.monotonic() < deadline and live is None:
            assert process.poll() is None, f"exited early with {process.returncode}"
            with contextlib.suppress(httpx.HTTPError):
                live = httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2)
            time.sleep(0.2)
        assert live is not None
        assert live.status_code == 200
        # Not migrated: alive, not ready, and no public route.
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 503
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/analytics/kpis").status_code == 404
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        # uvicorn re-raises the signal once it has shut down gracefully.
        assert process.returncode in (0, -signal.SIGTERM)
        assert b"Application shutdown complete" in output
    finally:
        if process.poll() is None:
            process.kill()
        asyncio.run(delete_declared(amqp_url, bus_namespace, [], retry_delays_ms=()))
