"""staff search and comments

The staff's search (issue 18): each case keeps its subject's search key and the key of its
description, requester's name and reference (`cases.search.case_keys`), and, on PostgreSQL, a
generated tsvector of both (the subject's words weighted A, for similar requests) under a GIN
index, an index for reference prefixes whatever the database's collation, and three for
newest first (all of government, a sector, an entity). The inbox's counters get a covering index over open cases (read by an index-only scan). Existing cases get their keys from their reference, subject and description (routing
never had their requesters' names).

Comments for the record: the new permission `cases.comment` goes to the roles that hold it by
default, where the directory was seeded already (a fresh one gets it from the seed).

Revision ID: 99785a3b0212
Revises: bfd5d8085747
Create Date: 2026-12-07
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.routing.cases.search import case_keys
from shared.db import UtcDateTime

revision: str = "99785a3b0212"
down_revision: str | None = "bfd5d8085747"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
OPEN = "status NOT IN ('closed', 'rejected')"
COUNTED = ("distributed_to", "status", "due_at", "overdue_since", "escalation_level")
COMMENTERS = ("main_liaison_officer", "entity_head", "minister", "cmu_staff", "cmu_admin")
SEARCH_VECTOR = ("setweight(to_tsvector('simple', subject_key), 'A') || "
                 "to_tsvector('simple', search_key)")

cases = sa.table("cases", sa.column("reference", sa.String), sa.column("subject", sa.Text),
                 sa.column("description", sa.Text), sa.column("subject_key", sa.Text),
                 sa.column("search_key", sa.Text))


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("cases", sa.Column("subject_key", sa.Text(), server_default="",
                                     nullable=False))
    op.add_column("cases", sa.Column("search_key", sa.Text(), server_default="",
                                     nullable=False))
    _index_existing_cases()
    op.create_index("ix_cases_submitted", "cases", ["submitted_at", "reference"])
    for scope in ("sector", "entity"):
        op.create_index(f"ix_cases_{scope}_submitted", "cases",
                        [f"{scope}_code", "submitted_at", "reference"])
    op.create_index("ix_cases_open_counters", "cases", ["sector_code", "entity_code"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
                    postgresql_include=list(COUNTED))
    if _postgresql():
        op.execute(f"ALTER TABLE cases ADD COLUMN search_vector tsvector "
                   f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_cases_search ON cases USING gin (search_vector)")
        op.execute("CREATE INDEX ix_cases_reference_prefix ON cases "
                   "(reference varchar_pattern_ops)")
    _grant_comments()


def _index_existing_cases() -> None:
    bind = op.get_bind()
    update = (cases.update().where(cases.c.reference == sa.bindparam("b_reference"))
              .values(subject_key=sa.bindparam("b_subject_key"),
                      search_key=sa.bindparam("b_search_key")))
    last = ""
    while True:
        rows = bind.execute(
            sa.select(cases.c.reference, cases.c.subject, cases.c.description)
            .where(cases.c.reference > last).order_by(cases.c.reference).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(update, [
            {"b_reference": row.reference,
             **{f"b_{column}": key for column, key in case_keys(
                 reference=row.reference, subject=row.subject, description=row.description,
                 requester_name=None).items()}}
            for row in rows])
        last = rows[-1].reference


def _grant_comments() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM seed_runs WHERE name = 'directory'")).first() is None:
        return  # the seed grants it with the rest
    log = sa.table("directory_log", sa.column("occurred_at", UtcDateTime()),
                   sa.column("actor_id", sa.Uuid()), sa.column("subject", sa.String),
                   sa.column("key", sa.String), sa.column("change", sa.String),
                   sa.column("details", sa.Text))
    granted = {row.role for row in bind.execute(sa.text(
        "SELECT role FROM role_permissions WHERE permission = 'cases.comment'"))}
    for role in COMMENTERS:
        if role not in granted:
            bind.execute(sa.text("INSERT INTO role_permissions (role, permission) "
                                 "VALUES (:role, 'cases.comment')"), {"role": role})
            bind.execute(log.insert().values(
                occurred_at=datetime.now(UTC), actor_id=None, subject="permissions", key=role,
                change="granted",
                details=json.dumps({"after": {"granted": ["cases.comment"]}, "before": None,
                                    "by": f"migration {revision}"},
                                   sort_keys=True, separators=(",", ":"))))


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE permission = 'cases.comment'")
    op.execute("DELETE FROM person_permissions WHERE permission = 'cases.comment'")
    if _postgresql():
        op.drop_index("ix_cases_reference_prefix", "cases")
        op.drop_index("ix_cases_search", "cases")
        op.drop_column("cases", "search_vector")
    op.drop_index("ix_cases_open_counters", "cases")
    op.drop_index("ix_cases_entity_submitted", "cases")
    op.drop_index("ix_cases_sector_submitted", "cases")
    op.drop_index("ix_cases_submitted", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("search_key")
        batch.drop_column("subject_key")
