"""What the scenarios of the platform's own services share: a schema of the run's own, tokens the
services accept, a service's worker process, the entity intake's requests go to, and removing
the queues they declared. (The harness
knows nothing of the platform; this module is where the scenarios meet it.)"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import asyncpg

from bench.harness import (
    REPO_ROOT,
    BenchContext,
    free_port,
    http_ready,
    plain_postgres_dsn,
    stop_process,
)
from services.__main__ import definition_of
from shared.auth import TokenIssuer, load_keys
from shared.bus.rabbitmq import delete_declared
from shared.clock import SystemClock
from shared.settings import BaseServiceSettings


@asynccontextmanager
async def scratch_schema(ctx: BenchContext, prefix: str, *, create: bool = False
                         ) -> AsyncIterator[str]:
    """`<prefix>_<8 hex>`, a schema of this run (created first when `create`), dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_postgres_dsn(ctx.postgres_dsn))
    try:
        if create:
            await admin.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@asynccontextmanager
async def service_worker(name: str, env: dict[str, str]
                         ) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m services work <name>`: the service's relay and consumers, as the worker
    Deployment runs them beside API pods that run none (deploy/k8s/base/service/worker.yaml)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services", "work", name, "--port", str(port),
        cwd=REPO_ROOT, env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not await http_ready("127.0.0.1", port, "/readyz"):
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} worker did not become ready")
            await asyncio.sleep(0.2)
        yield process
    finally:
        await stop_process(process, grace_s=15)


def token_issuer() -> TokenIssuer:
    """Mints tokens the services under test accept: the development keys, as the tests use."""
    settings = BaseServiceSettings(service_name="bench")
    _keys, signing = load_keys(settings)
    assert signing is not None, "the development key pair has a signing key"
    return TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                       clock=SystemClock())


async def delete_service_queues(ctx: BenchContext, namespace: str, services: Iterable[str], *,
                                retry_delays_ms: Iterable[int] | None = None) -> None:
    """Remove the queues `services` declared in `namespace` (each with its dead and retry
    queues, at the services' default retry delays unless told) and the namespace's exchange."""
    queues = [queue for name in services for queue in definition_of(name).queue_names(namespace)]
    if retry_delays_ms is None:
        retry_delays_ms = BaseServiceSettings(service_name="bench").retry_delays_ms
    await delete_declared(ctx.amqp_url, namespace, queues, retry_delays_ms=retry_delays_ms)


async def add_intake_entity(connection: asyncpg.Connection, schema: str) -> None:
    """The entity the intake scenarios' requests go to (`PM-GAM`), as routing announces it."""
    await connection.execute(
        f'INSERT INTO "{schema}".entities (code, sector, name_ar, name_en, retired, '
        "changed_at) VALUES ('PM-GAM', 'PM', 'أمانة عمان الكبرى', "
        "'Greater Amman Municipality', false, now())")
