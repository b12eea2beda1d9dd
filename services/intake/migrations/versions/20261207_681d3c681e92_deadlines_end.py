"""deadlines end

The requester sees only running deadlines: each remembers when SLA said it ended
(`sla.deadline_ended`). Those of closed or rejected requests ended with them; the others of
existing requests learn it from SLA's next announcement about their request.

Revision ID: 681d3c681e92
Revises: 38c1d74eddff
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "681d3c681e92"
down_revision: str | None = "38c1d74eddff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deadlines", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE deadlines SET ended_at = (SELECT r.status_at FROM requests AS r "
        "WHERE r.reference = deadlines.reference AND r.status IN ('closed', 'rejected'))"
    )


def downgrade() -> None:
    op.drop_column("deadlines", "ended_at")
