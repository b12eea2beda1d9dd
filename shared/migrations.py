"""Alembic, one environment per service, driven from code.

Each service keeps its revisions in `services/<name>/migrations/`; its `env.py` is two lines
that call `run_migrations(metadata)`. Migrations run only when asked (`make migrate`, the
deployment's migration job, the tests' fixtures), never as a side effect of importing or
starting a service. On PostgreSQL they hold an advisory lock, so two migration jobs that start
together take turns instead of racing.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, ensure_schema

FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


def alembic_config(migrations: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("file_template", FILE_TEMPLATE)
    return config


def head_revision(migrations: Path) -> str | None:
    return ScriptDirectory.from_config(alembic_config(migrations)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def upgrade(engine: AsyncEngine, *, migrations: Path, schema: str, to: str = "head") -> None:
    await ensure_schema(engine, schema)
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            lock = zlib.crc32(f"bkh-migrate:{schema}".encode())
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
        await connection.run_sync(_run_command, "upgrade", migrations, to)


async def downgrade(engine: AsyncEngine, *, migrations: Path, to: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_run_command, "downgrade", migrations, to)


async def autogenerate(
    url: str, *, migrations: Path, schema: str, message: str
) -> None:
    """Write a new revision from the difference between the models and the database."""
    engine = create_engine(url, schema=schema, application_name="bkh-migrations")
    try:
        await upgrade(engine, migrations=migrations, schema=schema)
        async with engine.begin() as connection:
            await connection.run_sync(_run_command, "revision", migrations, message)
    finally:
        await engine.dispose()


def _run_command(connection: Connection, name: str, migrations: Path, argument: str) -> None:
    config = alembic_config(migrations)
    config.attributes["connection"] = connection
    if name == "upgrade":
        command.upgrade(config, argument)
    elif name == "downgrade":
        command.downgrade(config, argument)
    else:
        command.revision(config, message=argument, autogenerate=True)


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's `env.py`."""
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through `python -m services migrate`, which passes the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        process_revision_directives=_skip_empty_revisions,
    )
    with context.begin_transaction():
        context.run_migrations()


def _skip_empty_revisions(_context: Any, _revision: Any, directives: list[Any]) -> None:
    # An autogenerate run that finds no difference writes nothing instead of an empty file.
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []
