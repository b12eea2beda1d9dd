"""taken envelope ids

The ids of the corruption reports' envelopes intake took, so that a second envelope under a
taken id is refused at the door (409) rather than given a receipt for a report integrity would
never file. Ids taken before this revision are not known here; integrity still refuses them.

Revision ID: 7e2c4a91d5b3
Revises: 681d3c681e92
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e2c4a91d5b3"
down_revision: str | None = "681d3c681e92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taken_envelope_ids",
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("envelope_id", name=op.f("pk_taken_envelope_ids")),
    )


def downgrade() -> None:
    op.drop_table("taken_envelope_ids")
