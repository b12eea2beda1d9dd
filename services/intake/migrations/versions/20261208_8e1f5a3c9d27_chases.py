"""chases

A requester's chases of a request whose promised deadline passed: one row per working day
(`services/intake/chasing.py`), the key keeping two at once from both counting.

Revision ID: 8e1f5a3c9d27
Revises: 4c7d2e9a1b60
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e1f5a3c9d27"
down_revision: str | None = "4c7d2e9a1b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# True when the previous release's code still runs on the schema this leaves (it only adds what
# that code ignores): old pods stay ready through the rollout (shared/migrations.py).
serves_previous: bool = True


def upgrade() -> None:
    op.create_table(
        "chases",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("working_day", sa.Date(), nullable=False),
        sa.Column("chased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("reference", "working_day", name=op.f("pk_chases")),
    )


def downgrade() -> None:
    op.drop_table("chases")
