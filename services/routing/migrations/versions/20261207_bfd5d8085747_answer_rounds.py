"""answer rounds

A case counts its answers (`answer_round`), so that each answer after a reopening is rated on
its own and a rating of an earlier answer is told apart. Existing cases take the number of
answers their audit trail records.

Revision ID: bfd5d8085747
Revises: de1645dd13bf
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bfd5d8085747"
down_revision: str | None = "de1645dd13bf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("answer_round", sa.SmallInteger(), server_default="0",
                                     nullable=False))
    op.execute(
        "UPDATE cases SET answer_round = (SELECT count(*) FROM audit_entries AS a "
        "WHERE a.reference = cases.reference AND a.action = 'responded')"
    )


def downgrade() -> None:
    op.drop_column("cases", "answer_round")
