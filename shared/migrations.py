"""Alembic, one environment per service, driven from code.

Each service keeps its revisions in `services/<name>/migrations/`; its `env.py` is two lines
that call `run_migrations(metadata)`. Migrations run only when asked (`make migrate`, the
deployment's migration job, the tests' fixtures), never as a side effect of importing or
starting a service. On PostgreSQL they hold an advisory lock, so two migration jobs that start
together take turns instead of racing.

Releases roll out and back without stopping (expand/contract). A revision that only adds what
the previous release's code ignores (a table, a nullable or defaulted column, an index) says
`serves_previous = True`; one that removes or changes what that code reads leaves it False (the
default), and ships a release after the code stopped reading it. Each revision applied is kept
in `schema_lineage` beside `alembic_version`, so code whose head is behind the schema can tell
a schema it still serves (every revision after its head serves its predecessor) from one it
cannot: `schema_serves` is what readiness and the workers' start gate ask.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Boolean, Column, Connection, MetaData, String, Table, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, ensure_schema

FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"

# The migration runner's own record, like `alembic_version`: never in a service's models.
LINEAGE = Table(
    "schema_lineage", MetaData(),
    Column("revision", String(64), primary_key=True),
    Column("down_revision", String(64)),
    Column("serves_previous", Boolean, nullable=False),
)


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


async def schema_serves(engine: AsyncEngine, head: str | None) -> str:
    """"ok" when this code (whose newest revision is `head`) can run on the schema: at its
    head, or further on through revisions that each serve their predecessor; else why not."""
    async with engine.connect() as connection:
        return await connection.run_sync(_serves, head)


def _serves(connection: Connection, head: str | None) -> str:
    current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return "ok"
    lineage: dict[str, tuple[str | None, bool]] = {}
    if inspect(connection).has_table(LINEAGE.name):
        lineage = {row.revision: (row.down_revision, row.serves_previous)
                   for row in connection.execute(LINEAGE.select())}
    revision = current
    while revision is not None and revision != head and revision in lineage:
        down_revision, serves_previous = lineage.pop(revision)  # popped: no loop runs twice
        if not serves_previous:
            return f"at {current}: {revision} no longer serves this release's code ({head})"
        revision = down_revision
    if revision == head and current is not None:
        return "ok"
    return f"at {current}, expected {head}"


async def upgrade(engine: AsyncEngine, *, migrations: Path, schema: str, to: str = "head") -> None:
    await ensure_schema(engine, schema)
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            lock = zlib.crc32(f"bkh-migrate:{schema}".encode())
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
        await connection.run_sync(LINEAGE.create, checkfirst=True)
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
        include_name=_not_the_runners_own,
        on_version_apply=_record_lineage,
    )
    with context.begin_transaction():
        context.run_migrations()


def _not_the_runners_own(name: str | None, kind: str, _parent: Any) -> bool:
    return not (kind == "table" and name == LINEAGE.name)


def _record_lineage(ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any],
                    run_args: Mapping[str, Any]) -> None:
    """Keep each revision applied, its parent, and whether it serves its parent's code."""
    if not step.is_upgrade or not step.is_migration:
        return
    script = step.up_revision
    assert isinstance(script, Script)
    down = script.down_revision
    connection = ctx.connection
    assert connection is not None
    connection.execute(LINEAGE.delete().where(LINEAGE.c.revision == script.revision))
    connection.execute(LINEAGE.insert().values(
        revision=script.revision, down_revision=down if isinstance(down, str) else None,
        serves_previous=bool(getattr(script.module, "serves_previous", False))))


def _skip_empty_revisions(_context: Any, _revision: Any, directives: list[Any]) -> None:
    # An autogenerate run that finds no difference writes nothing instead of an empty file.
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []
