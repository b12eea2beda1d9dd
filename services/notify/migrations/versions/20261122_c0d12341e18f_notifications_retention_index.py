"""notifications: index of what retention has still to forget

Messages keep their address and words for `message_retention_days`; the chore that forgets
them walks this partial index oldest first, so it never rereads what it already forgot.

Revision ID: c0d12341e18f
Revises: de19e9553ba6
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0d12341e18f"
down_revision: str | None = "de19e9553ba6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMEMBERED = sa.text("address <> ''")


def upgrade() -> None:
    op.create_index("ix_notifications_remembered", "notifications", ["created_at"], unique=False,
                    postgresql_where=REMEMBERED, sqlite_where=REMEMBERED)


def downgrade() -> None:
    op.drop_index("ix_notifications_remembered", table_name="notifications")
