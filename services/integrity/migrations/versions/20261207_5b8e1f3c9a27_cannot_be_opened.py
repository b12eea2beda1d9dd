"""cannot be opened

The reports the commission declared it cannot open (damaged or badly sealed), once each: the
reporter's receipt then asks for a new report.

Revision ID: 5b8e1f3c9a27
Revises: d46f2d7dc97d
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8e1f3c9a27"
down_revision: str | None = "d46f2d7dc97d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cannot_be_opened",
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["sealed_reports.envelope_id"],
            name=op.f("fk_cannot_be_opened_envelope_id_sealed_reports"),
        ),
        sa.PrimaryKeyConstraint("envelope_id", name=op.f("pk_cannot_be_opened")),
    )


def downgrade() -> None:
    op.drop_table("cannot_be_opened")
