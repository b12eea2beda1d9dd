"""deadlines end

A timer remembers when its stage ended, so that SLA announces once that a deadline stopped
running (`sla.deadline_ended`). Existing timers start without one: the next lifecycle event of
their request derives and announces their ends.

Revision ID: c5c03add54b1
Revises: 0dabc86b321f
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5c03add54b1"
down_revision: str | None = "0dabc86b321f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("timers", "ended_at")
