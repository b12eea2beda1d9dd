"""Command line for the services: `python -m services {migrate,serve,revision} …`.

    python -m services migrate [NAME …]          upgrade each schema to head (all by default)
    python -m services serve NAME [--port P]     run one service (API, relay and consumers)
    python -m services work NAME [--port P]      its relay and consumers alone (health and
                                                 metrics on the port): a separate worker
    python -m services revision NAME -m MESSAGE  autogenerate a migration from the models
    python -m services up                        the distributed mode on one machine: every
                                                 service and the gateway as its own process
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time

import uvicorn

from services import SERVICES
from services.worker import create_worker_app
from shared.logging import configure_logging
from shared.migrations import autogenerate
from shared.service import ServiceDefinition, migrate_to_head

DEFAULT_PORTS = {name: 8101 + index for index, name in enumerate(SERVICES)}
WORKER_PORT = 8081  # health and metrics of a worker (deploy/k8s probes and scrapes it there)


def definition_of(name: str) -> ServiceDefinition:
    definition: ServiceDefinition = importlib.import_module(f"services.{name}.main").DEFINITION
    return definition


async def migrate(names: list[str]) -> None:
    for name in names:
        definition = definition_of(name)
        await migrate_to_head(definition, definition.load_settings())
        print(f"{name}: schema at head")


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
    asyncio.run(ensure_database(os.environ["BKH_DATABASE_URL"]))
    asyncio.run(migrate(list(SERVICES)))
    ports = {name: first_service_port + index for index, name in enumerate(SERVICES)}
    commands = [
        [sys.executable, "-m", "services", "serve", name, "--port", str(port)]
        for name, port in ports.items()
    ]
    commands.append([sys.executable, "-m", "gateway"])
    gateway_env = {
        **os.environ,
        "BKH_PORT": str(gateway_port),
        **{f"BKH_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    }
    # Each child in its own session: a Ctrl-C reaches only this supervisor, which passes it on
    # once (a second SIGINT would make uvicorn skip its graceful shutdown).
    processes = [subprocess.Popen(command, start_new_session=True) for command in commands[:-1]]
    processes.append(subprocess.Popen(commands[-1], env=gateway_env, start_new_session=True))
    print(
        f"Bekhedmetkom is up: http://127.0.0.1:{gateway_port} (API docs at /docs). "
        "Ctrl-C stops it.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on TERM as on Ctrl-C
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = commands.add_parser("migrate", help="upgrade schemas to head")
    migrate_cmd.add_argument("names", nargs="*", choices=[*SERVICES, []], default=list(SERVICES))
    serve_cmd = commands.add_parser("serve", help="run one service")
    serve_cmd.add_argument("name", choices=SERVICES)
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int)
    work_cmd = commands.add_parser("work", help="run one service's relay and consumers alone")
    work_cmd.add_argument("name", choices=SERVICES)
    work_cmd.add_argument("--host", default="127.0.0.1")
    work_cmd.add_argument("--port", type=int, default=WORKER_PORT)
    up_cmd = commands.add_parser("up", help="every service and the gateway as separate processes")
    up_cmd.add_argument("--port", type=int, default=8000, help="the gateway's port")
    up_cmd.add_argument("--first-service-port", type=int, default=DEFAULT_PORTS[SERVICES[0]])
    revision_cmd = commands.add_parser("revision", help="autogenerate a migration")
    revision_cmd.add_argument("name", choices=SERVICES)
    revision_cmd.add_argument("-m", "--message", required=True)
    args = parser.parse_args()

    if args.command == "up":
        up(args.port, args.first_service_port)
    elif args.command == "migrate":
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
