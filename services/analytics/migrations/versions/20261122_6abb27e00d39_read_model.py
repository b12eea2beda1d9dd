"""read model: event log, request projection, rollups, names, periodic reports

Everything analytics derives from events (see services/analytics/models.py). The rollups share
one set of counter columns, frozen here as `COUNTERS_V1`: a later counter is a later revision.

Revision ID: 6abb27e00d39
Revises: 05e01ef1f71d
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6abb27e00d39'
down_revision: str | None = '05e01ef1f71d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COUNTERS_V1 = (
    "received", "first_responded", "responded", "responded_on_time", "closed",
    "closed_resolved", "closed_partly_resolved", "closed_rejected", "closed_duplicate",
    "closed_withdrawn", "closed_no_response_from_requester", "inadmissible", "escalated_1",
    "escalated_2", "transferred", "reopened", "breached", "rated",
    "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
    *(f"first_response_b{b}" for b in range(12)),
    *(f"resolution_b{b}" for b in range(12)),
)
# (table, grain column, dimensions, secondary indexes)
CUBES_V1 = (
    ("rollup_hour_entity", ("hour", sa.DateTime(timezone=True)),
     ("sector", "entity"), (("entity", "hour"),)),
    ("rollup_day_entity", ("day", sa.Date()),
     ("sector", "entity"), (("entity", "day"),)),
    ("rollup_day_geo", ("day", sa.Date()),
     ("sector", "governorate"), (("sector", "day"),)),
    ("rollup_day_full", ("day", sa.Date()),
     ("sector", "entity", "governorate", "kind", "channel"),
     (("entity", "day"), ("sector", "day"))),
)


def _create_cubes() -> None:
    for name, (grain, grain_type), dimensions, indexes in CUBES_V1:
        op.create_table(
            name,
            sa.Column(grain, grain_type, nullable=False),
            *(sa.Column(d, sa.String(length=40), nullable=False) for d in dimensions),
            *(sa.Column(c, sa.BigInteger(), nullable=False) for c in COUNTERS_V1),
            sa.PrimaryKeyConstraint(grain, *dimensions, name=op.f(f"pk_{name}")),
        )
        for columns in indexes:
            op.create_index(op.f(f"ix_{name}_{columns[0]}"), name, list(columns), unique=False)


def _drop_cubes() -> None:
    for name, _grain, _dimensions, indexes in reversed(CUBES_V1):
        for columns in indexes:
            op.drop_index(op.f(f"ix_{name}_{columns[0]}"), table_name=name)
        op.drop_table(name)


def upgrade() -> None:
    op.create_table('entities',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('parent', sa.String(length=40), nullable=True),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_entities'))
    )
    op.create_table('event_log',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_event_log')),
    sa.UniqueConstraint('event_id', name=op.f('uq_event_log_event_id'))
    )
    op.create_table('freshness',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('events_applied', sa.BigInteger(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freshness'))
    )
    op.create_table('integrity_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('forwarded', sa.BigInteger(), nullable=False),
    sa.Column('acknowledged', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_integrity_daily'))
    )
    op.create_table('notification_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('sent', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'channel', name=op.f('pk_notification_daily'))
    )
    op.create_table('open_counts',
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('governorate', sa.String(length=5), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('sector', 'entity', 'governorate', 'kind', 'channel', 'status', name=op.f('pk_open_counts'))
    )
    op.create_table('published_reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('cadence', sa.String(length=10), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_reports'))
    )
    op.create_index('uq_published_reports_period', 'published_reports', ['cadence', 'period_start', 'sector'], unique=True)
    op.create_table('requests',
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=True),
    sa.Column('sector', sa.String(length=20), nullable=True),
    sa.Column('governorate', sa.String(length=5), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('closing_code', sa.String(length=40), nullable=True),
    sa.Column('legal_ground', sa.String(length=40), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_day', sa.Date(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('transfers', sa.SmallInteger(), nullable=False),
    sa.Column('escalation_level', sa.SmallInteger(), nullable=False),
    sa.Column('reopened', sa.SmallInteger(), nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_s', sa.Float(), nullable=False),
    sa.Column('first_response_wd', sa.Float(), nullable=True),
    sa.Column('resolution_wd', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('reference', name=op.f('pk_requests'))
    )
    op.create_index(op.f('ix_requests_entity'), 'requests', ['entity', 'submitted_day'], unique=False)
    op.create_index('ix_requests_open_submitted_at', 'requests', ['submitted_at'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_index(op.f('ix_requests_sector'), 'requests', ['sector', 'submitted_day'], unique=False)
    op.create_index(op.f('ix_requests_submitted_day'), 'requests', ['submitted_day'], unique=False)
    op.create_table('sectors',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sectors'))
    )
    _create_cubes()


def downgrade() -> None:
    _drop_cubes()
    op.drop_table('sectors')
    op.drop_index(op.f('ix_requests_submitted_day'), table_name='requests')
    op.drop_index(op.f('ix_requests_sector'), table_name='requests')
    op.drop_index('ix_requests_open_submitted_at', table_name='requests', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index(op.f('ix_requests_entity'), table_name='requests')
    op.drop_table('requests')
    op.drop_index('uq_published_reports_period', table_name='published_reports')
    op.drop_table('published_reports')
    op.drop_table('open_counts')
    op.drop_table('notification_daily')
    op.drop_table('integrity_daily')
    op.drop_table('freshness')
    op.drop_table('event_log')
    op.drop_table('entities')
