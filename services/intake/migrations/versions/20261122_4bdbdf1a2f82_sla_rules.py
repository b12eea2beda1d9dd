"""sla rules

The latest sla.rules_changed, so that intake shows deadlines at submission as SLA counts them.

Revision ID: 4bdbdf1a2f82
Revises: b5d8671e1009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4bdbdf1a2f82"
down_revision: str | None = "b5d8671e1009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("sla_rules",
    sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("rules", sa.JSON(), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("revision", name=op.f("pk_sla_rules"))
    )


def downgrade() -> None:
    op.drop_table("sla_rules")
