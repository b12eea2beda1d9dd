"""who holds a request

Notify keeps who holds each request as routing announces it (the entity's sector, and the entity
or department it was distributed to), so that the preview of a response is shown only to the
staff whose scope holds the request (`Principal.sees_request`, the kernel's rule). The sector of
the requests known so far is the sector of their entity. Notify did not keep distributions:
requests distributed before this revision are previewed by their main liaison officers and the
CMU, not by the sub-liaison officers they were distributed to (until a new distribution).

Revision ID: baaffaf1a918
Revises: c0d12341e18f
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "baaffaf1a918"
down_revision: str | None = "c0d12341e18f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("sector", sa.String(length=20), nullable=True))
    op.add_column("requests", sa.Column("distributed_to", sa.String(length=40), nullable=True))
    op.execute("UPDATE requests SET sector = (SELECT e.sector FROM entities AS e "
               "WHERE e.entity = requests.entity) WHERE entity IS NOT NULL")


def downgrade() -> None:
    op.drop_column("requests", "distributed_to")
    op.drop_column("requests", "sector")
