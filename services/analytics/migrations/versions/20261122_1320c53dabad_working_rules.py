"""working rules: the newest sla.rules_changed, to measure working time as SLA does

Revision ID: 1320c53dabad
Revises: 6abb27e00d39
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1320c53dabad'
down_revision: str | None = '6abb27e00d39'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('working_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_rules'))
    )


def downgrade() -> None:
    op.drop_table('working_rules')
