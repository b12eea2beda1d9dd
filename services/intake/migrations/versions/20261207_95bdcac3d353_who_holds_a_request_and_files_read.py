"""who holds a request, and the files staff read

Intake keeps who holds each request, so that the staff who do can read the requester's contact
details and attachments: `requests.distributed_to` (from `request.distributed`, cleared when the
request moves on) and `held_at`, the instant of the event that last set the entity, sector or
distribution (they follow their own events' order, apart from the status). Requests distributed
before this revision are not known as distributed: intake never kept it; their next move sets it.

Attachments keep the name their uploader gave them (display only; None for earlier files), and
the staff-access audit names the file a staff member read.

Revision ID: 95bdcac3d353
Revises: 7e2c4a91d5b3
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "95bdcac3d353"
down_revision: str | None = "7e2c4a91d5b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("distributed_to", sa.String(length=40), nullable=True))
    op.add_column("requests", sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("attachments", sa.Column("file_name", sa.String(length=200), nullable=True))
    op.add_column("staff_access", sa.Column("attachment_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("staff_access", "attachment_id")
    op.drop_column("attachments", "file_name")
    op.drop_column("requests", "held_at")
    op.drop_column("requests", "distributed_to")
