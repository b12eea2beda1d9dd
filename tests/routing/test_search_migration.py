"""Upgrading a routing that already holds cases and a seeded directory: the cases become
searchable and the roles that comment by default may comment."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from services.routing.main import DEFINITION
from services.routing.models import Case, table_of
from shared.db import create_engine
from shared.migrations import upgrade

BEFORE_SEARCH = "bfd5d8085747"


async def test_existing_cases_are_indexed_and_seeded_roles_get_the_comment_permission(
    postgres_url: str, pg_schema: str,
) -> None:
    engine = create_engine(postgres_url, schema=pg_schema,
                           application_name=f"bkh-test-{pg_schema}")
    now = datetime(2030, 3, 3, 9, tzinfo=UTC)
    try:
        await upgrade(engine, migrations=DEFINITION.migrations, schema=pg_schema,
                      to=BEFORE_SEARCH)
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO seed_runs (name, seeded_at) VALUES ('directory', :now)"),
                {"now": now})
            await connection.execute(text(
                "INSERT INTO role_permissions (role, permission) VALUES "
                "('entity_head', 'cases.read'), ('minister', 'cases.read')"))
            await connection.execute(table_of(Case).insert().values(
                reference="2030-0000001-1", kind="complaint", status="assigned",
                channel="portal", entity_code="MOH-HQ", sector_code="MOH", officer_ids=[],
                subject="إنارة الشارع مُعطّلة", description="الأعمدة مطفأة منذ أسبوع",
                attachment_ids=[], requester_id=uuid.uuid4(), submitted_at=now, placed_at=now,
                extensions=0, transfer_count=0, escalation_level=0, updated_at=now,
                audit_seq=2, audit_head="0" * 64))

        await upgrade(engine, migrations=DEFINITION.migrations, schema=pg_schema)

        async with engine.connect() as connection:
            keys = (await connection.execute(text(
                "SELECT subject_key, search_key FROM cases"))).one()
            assert tuple(keys) == ("اناره الشارع معطله",
                                   "الاعمده مطفاه منذ اسبوع 2030 0000001 1 شارع اعمده")
            found = await connection.scalar(text(
                "SELECT reference FROM cases "
                "WHERE search_vector @@ to_tsquery('simple', 'اناره:* & مطف:*')"))
            assert found == "2030-0000001-1"
            commenters = set((await connection.execute(text(
                "SELECT role FROM role_permissions WHERE permission = 'cases.comment'"
            ))).scalars())
            assert commenters == {"main_liaison_officer", "entity_head", "minister",
                                  "cmu_staff", "cmu_admin"}
            logged = (await connection.execute(text(
                "SELECT key, change, details FROM directory_log WHERE subject = 'permissions'"
            ))).all()
            assert {row.key for row in logged} == commenters
            assert json.loads(logged[0].details)["after"] == {"granted": ["cases.comment"]}
    finally:
        await engine.dispose()
