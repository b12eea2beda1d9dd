"""open requests by day of receipt: the backlog's ages without reading requests

Filled from the open requests already projected, so an upgrade needs no rebuild.

Revision ID: 98b62f8c7a51
Revises: 1320c53dabad
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '98b62f8c7a51'
down_revision: str | None = '1320c53dabad'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('open_by_day',
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'sector', 'entity', name=op.f('pk_open_by_day'))
    )
    op.execute(
        "INSERT INTO open_by_day (sector, entity, day, n) "
        "SELECT coalesce(sector, ''), coalesce(entity, ''), submitted_day, count(*) "
        "FROM requests WHERE status NOT IN ('closed', 'rejected') "
        "GROUP BY coalesce(sector, ''), coalesce(entity, ''), submitted_day"
    )


def downgrade() -> None:
    op.drop_table('open_by_day')
