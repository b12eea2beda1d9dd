"""tracking codes

Each request submitted from now on keeps the SHA-256 of its tracking code, which with the
reference opens the request to a requester without an account. Earlier requests have none
(their requesters were never given one).

Revision ID: 4c7d2e9a1b60
Revises: 95bdcac3d353
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c7d2e9a1b60"
down_revision: str | None = "95bdcac3d353"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# True when the previous release's code still runs on the schema this leaves (it only adds what
# that code ignores): old pods stay ready through the rollout (shared/migrations.py).
serves_previous: bool = True


def upgrade() -> None:
    op.add_column("requests", sa.Column("tracking_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "tracking_digest")
