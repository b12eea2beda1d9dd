"""Command line for the services: `python -m services {migrate,serve,revision} …`.

    python -m services migrate [NAME …]          upgrade each schema to head (all by default)
    python -m services serve NAME [--port P]     run one service (API, relay and consumers)
    python -m services work NAME [--port P]      its relay and consumers alone (health and
                                                 metrics on the port): a separate worker
    python -m services dead-letters NAME [--replay] [--consumer C] [--poison] [--limit N]
                                                 list (or move back) its dead letters
    python -m services revision NAME -m MESSAGE  autogenerate a migration from the models
    python -m services up                        the distributed mode on one machine: every
                                                 service and the gateway as its own process
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time

import aio_pika
import uvicorn

from services import SERVICES, dead_letters
from services.supervisor import Child, Supervisor
from services.worker import create_worker_app
from shared.clock import SystemClock
from shared.db import is_infrastructure_failure
from shared.logging import configure_logging
from shared.migrations import autogenerate
from shared.runtime import ServiceDefinition, migrate_to_head
from shared.settings import BaseServiceSettings, PlatformSettings

DEFAULT_PORTS = {name: 8101 + index for index, name in enumerate(SERVICES)}
WORKER_PORT = 8081  # health and metrics of a worker (deploy/k8s probes and scrapes it there)


def definition_of(name: str) -> ServiceDefinition:
    definition: ServiceDefinition = importlib.import_module(f"services.{name}.main").DEFINITION
    return definition


async def migrate(names: list[str]) -> None:
    for name in names:
        definition = definition_of(name)
        await _migrate_once_reachable(name, definition, definition.load_settings())
        print(f"{name}: schema at head", flush=True)


async def _migrate_once_reachable(name: str, definition: ServiceDefinition,
                                  settings: BaseServiceSettings) -> None:
    """Migrate, waiting out a database that is not there yet (pauses of 1 s doubling to 15 s,
    for `migrate_wait_s`); any other failure at once. Each revision runs in a transaction of
    its own, so starting again after a failure is safe."""
    wait_s = settings.migrate_wait_s
    deadline = time.monotonic() + wait_s
    pause = 1.0
    while True:
        try:
            return await migrate_to_head(definition, settings)
        except Exception as exc:
            if not is_infrastructure_failure(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise SystemExit(f"{name}: the database was not reachable within {wait_s:g} s "
                                 f"({type(exc).__name__}); nothing was migrated") from exc
            print(f"{name}: the database is not reachable yet ({type(exc).__name__}); trying "
                  f"again in {pause:g} s", file=sys.stderr, flush=True)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 15.0)


async def show_dead_letters(name: str, *, consumer: str | None, poison: bool, replay: bool,
                            limit: int) -> None:
    """The dead letters of a service's queues (or the broker's poison queue), or replay them."""
    settings = definition_of(name).load_settings()
    if not settings.amqp_url:
        raise SystemExit("dead letters live in RabbitMQ: set BKH_AMQP_URL")
    namespace = settings.bus_namespace
    queues = [f"{namespace}.{name}.{s.name}" for s in definition_of(name).subscriptions
              if consumer in (None, s.name)]
    if not queues:
        raise SystemExit(f"{name} has no consumer {consumer!r}" if consumer else
                         f"{name} consumes nothing")
    sources = [dead_letters.poison_queue(namespace)] if poison else [f"{q}.dead" for q in queues]
    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        for source in sources:
            if replay:
                letters = await dead_letters.replay(connection, source, belongs=queues.__contains__,
                                                    limit=limit)
            else:
                letters = await dead_letters.inspect(connection, source,
                                                     belongs=queues.__contains__, limit=limit)
            verb = "replayed" if replay else "waiting"
            print(f"{source}: {len(letters)} {verb}")
            for letter in letters:
                print(f"  {letter.event_id}  {letter.event_type}  {letter.correlation_id or '-'}"
                      f"  -> {letter.queue}  ({letter.reason})")
    finally:
        await connection.close()


LOCAL_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/bekhedmetkom"
LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672/"


async def ensure_database(url: str) -> None:
    """Create the database `make up` points at, if this PostgreSQL does not have it yet."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username,
        password=parsed.password, database="postgres",
    )
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                    parsed.database):
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


def up(gateway_port: int, first_service_port: int) -> None:
    """Start everything as separate processes; Ctrl-C stops them all."""
    os.environ.setdefault("BKH_DATABASE_URL", LOCAL_DATABASE)
    os.environ.setdefault("BKH_AMQP_URL", LOCAL_BROKER)
    # Links in messages lead to the gateway started here, whatever its port.
    os.environ.setdefault("BKH_PUBLIC_BASE_URL", f"http://127.0.0.1:{gateway_port}")
    asyncio.run(ensure_database(os.environ["BKH_DATABASE_URL"]))
    asyncio.run(migrate(list(SERVICES)))
    ports = {name: first_service_port + index for index, name in enumerate(SERVICES)}
    children = [Child(name, [sys.executable, "-m", "services", "serve", name, "--port", str(port)])
                for name, port in ports.items()]
    children.append(Child("gateway", [sys.executable, "-m", "gateway"], env={
        **os.environ, "BKH_PORT": str(gateway_port),
        **{f"BKH_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    }))
    # The pages on the port after the services', calling the gateway like any client.
    web_port = first_service_port + len(SERVICES)
    children.append(Child("web", [sys.executable, "-m", "services.web"], env={
        **os.environ, "BKH_PORT": str(web_port),
        "BKH_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}"}))

    def started() -> None:
        print(f"Bekhedmetkom is up: http://127.0.0.1:{gateway_port} (API docs at /docs); the "
              f"back office at http://127.0.0.1:{web_port}/office/. A process that dies is "
              f"started again; Ctrl-C stops them all.", flush=True)
        settings = PlatformSettings()
        if not settings.production:
            _development_commission_key(settings, integrity_port=ports["integrity"])

    Supervisor(children).run(on_started=started)


def _development_commission_key(settings: PlatformSettings, *, integrity_port: int) -> None:
    # Imported here only: the processes a deployment runs (`serve`, `work`) never import the
    # module that makes a commission private key.
    from services.integrity import development_key

    key_id = asyncio.run(development_key.register_when_ready(
        f"http://127.0.0.1:{integrity_port}", settings=settings, clock=SystemClock()
    ))
    if key_id:
        print(development_key.registered(key_id), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = commands.add_parser("migrate", help="upgrade schemas to head")
    # Checked below, not with `choices`: argparse checks an empty `nargs="*"` list's default
    # against the choices as one value, and refused a bare `migrate` every time.
    migrate_cmd.add_argument("names", nargs="*", metavar="NAME",
                             help=f"services to migrate (default: all of {', '.join(SERVICES)})")
    serve_cmd = commands.add_parser("serve", help="run one service")
    serve_cmd.add_argument("name", choices=SERVICES)
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int)
    work_cmd = commands.add_parser("work", help="run one service's relay and consumers alone")
    work_cmd.add_argument("name", choices=SERVICES)
    work_cmd.add_argument("--host", default="127.0.0.1")
    work_cmd.add_argument("--port", type=int, default=WORKER_PORT)
    up_cmd = commands.add_parser("up", help="every service and the gateway as separate processes")
    up_cmd.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000),
                        help="the gateway's port (default: $PORT, else 8000)")
    up_cmd.add_argument("--first-service-port", type=int,
                        default=int(os.environ.get("FIRST_SERVICE_PORT")
                                    or DEFAULT_PORTS[SERVICES[0]]),
                        help="the first service's port; the others and the web app follow "
                             "(default: $FIRST_SERVICE_PORT, else 8101)")
    dead_cmd = commands.add_parser("dead-letters", help="list or replay a service's dead letters")
    dead_cmd.add_argument("name", choices=SERVICES)
    dead_cmd.add_argument("--consumer", help="one of the service's queues (default: all)")
    dead_cmd.add_argument("--poison", action="store_true",
                          help="the broker's poison queue instead of the .dead queues")
    dead_cmd.add_argument("--replay", action="store_true",
                          help="move them back to their queues (default: only list them)")
    dead_cmd.add_argument("--limit", type=int, default=100)
    revision_cmd = commands.add_parser("revision", help="autogenerate a migration")
    revision_cmd.add_argument("name", choices=SERVICES)
    revision_cmd.add_argument("-m", "--message", required=True)
    args = parser.parse_args()

    if args.command == "up":
        up(args.port, args.first_service_port)
    elif args.command == "migrate":
        unknown = [name for name in args.names if name not in SERVICES]
        if unknown:
            migrate_cmd.error(f"unknown service {', '.join(unknown)} "
                              f"(choose from {', '.join(SERVICES)})")
        asyncio.run(migrate(args.names or list(SERVICES)))
    elif args.command == "serve":
        definition = definition_of(args.name)
        settings = definition.load_settings()
        configure_logging(args.name, settings.log_level)
        uvicorn.run(
            f"services.{args.name}.main:create_app",
            factory=True,
            host=args.host,
            port=args.port or DEFAULT_PORTS[args.name],
            log_config=None,
            access_log=False,
        )
    elif args.command == "dead-letters":
        asyncio.run(show_dead_letters(args.name, consumer=args.consumer, poison=args.poison,
                                      replay=args.replay, limit=args.limit))
    elif args.command == "work":
        definition = definition_of(args.name)
        configure_logging(args.name, definition.load_settings().log_level)
        uvicorn.run(
            create_worker_app(definition),
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
        )
    else:
        definition = definition_of(args.name)
        settings = definition.load_settings()
        asyncio.run(
            autogenerate(
                settings.database_url,
                migrations=definition.migrations,
                schema=settings.schema_name,
                message=args.message,
            )
        )


if __name__ == "__main__":
    main()
