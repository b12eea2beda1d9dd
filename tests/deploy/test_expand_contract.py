"""A release rolls out and back without stopping: the previous release's code stays ready on a
schema the next release expanded, and turns unready only on a schema that no longer serves it.

Here "the previous release" is this code (routing, its API and its worker), and "the next
release" is its migrations plus one more revision written as a release would write it: first
one that only adds (`serves_previous = True`), then one that removes (the default, False).
Both run through the migration runner against real PostgreSQL, as the release's Job would.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.__main__ import definition_of
from services.worker import schema_at_head
from shared.db import create_engine
from shared.migrations import head_revision, upgrade
from shared.runtime import Runtime, ServiceDefinition
from shared.service import create_service_app
from shared.settings import BaseServiceSettings

SERVICE = "routing"

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None
serves_previous = {serves}


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


def next_release(previous: ServiceDefinition, directory: Path,
                 *revisions: tuple[str, bool, str]) -> Path:
    """The previous release's migrations, and these revisions (id, serves_previous, body)."""
    migrations = directory / "migrations"
    shutil.copytree(previous.migrations, migrations)
    down = head_revision(previous.migrations)
    for revision, serves, body in revisions:
        (migrations / "versions" / f"29991231_{revision}_next.py").write_text(REVISION.format(
            message=f"next release: {revision}", revision=revision, down=down,
            serves=serves, body=body))
        down = revision
    return migrations


@dataclass
class Served:
    """The previous release's routing API, on the test's schema."""

    client: httpx.AsyncClient
    runtime: Runtime
    definition: ServiceDefinition
    settings: BaseServiceSettings


@pytest.fixture
async def served(postgres_url: str, pg_schema: str) -> AsyncIterator[Served]:
    definition = definition_of(SERVICE)
    settings = definition.load_settings(database_url=postgres_url, database_schema=pg_schema)
    app = create_service_app(definition, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            yield Served(client, app.state.runtime, definition, settings)


async def test_the_previous_release_stays_ready_on_an_expanded_schema_and_not_past_a_contraction(
    served: Served, tmp_path: Path,
) -> None:
    client, runtime, previous, settings = (served.client, served.runtime, served.definition,
                                           served.settings)
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name="bkh-test-expand")
    try:
        await upgrade(engine, migrations=previous.migrations, schema=settings.schema_name)
        assert (await client.get("/readyz")).status_code == 200

        # The next release adds a table and a column the previous code never reads.
        expanded = next_release(previous, tmp_path / "expand", (
            "a1b2c3d4e5f6", True,
            "op.create_table('next_notes', sa.Column('id', sa.Integer, primary_key=True))\n"
            "    op.add_column('cases', sa.Column('next_flag', sa.Boolean, nullable=True))"))
        await upgrade(engine, migrations=expanded, schema=settings.schema_name)
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["checks"]["schema"] == "ok"
        # ... and serves as before: the directory reads through the expanded tables.
        assert (await client.get("/api/v1/entities")).status_code == 200
        assert await schema_at_head(runtime)  # the worker's start gate opens too

        # A release after it removes what the previous code reads: that code is done.
        contracted = next_release(previous, tmp_path / "contract", (
            "a1b2c3d4e5f6", True,
            "op.create_table('next_notes', sa.Column('id', sa.Integer, primary_key=True))\n"
            "    op.add_column('cases', sa.Column('next_flag', sa.Boolean, nullable=True))"), (
            "f6e5d4c3b2a1", False, "op.drop_column('cases', 'answer_round')"))
        await upgrade(engine, migrations=contracted, schema=settings.schema_name)
        refused = await client.get("/readyz")
        assert refused.status_code == 503
        assert refused.json()["checks"]["schema"] == (
            f"at f6e5d4c3b2a1: f6e5d4c3b2a1 no longer serves this release's code "
            f"({head_revision(previous.migrations)})")
        assert not await schema_at_head(runtime)
    finally:
        await engine.dispose()


async def test_a_schema_from_elsewhere_is_not_taken_for_an_expansion(
    served: Served, tmp_path: Path,
) -> None:
    client, previous, settings = served.client, served.definition, served.settings
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name="bkh-test-expand")
    try:
        await upgrade(engine, migrations=previous.migrations, schema=settings.schema_name)
        async with engine.begin() as connection:  # a revision nobody recorded
            await connection.exec_driver_sql(
                "UPDATE alembic_version SET version_num = '0123456789ab'")
        refused = await client.get("/readyz")
        assert refused.status_code == 503
        assert refused.json()["checks"]["schema"].startswith("at 0123456789ab, expected ")
    finally:
        await engine.dispose()
