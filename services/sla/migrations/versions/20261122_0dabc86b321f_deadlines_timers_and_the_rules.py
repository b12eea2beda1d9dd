"""deadlines, timers and the rules

The rules start at revision 1 with the policy's first version (the regulation's durations), not
yet announced: the scheduler announces them on its first round. Timers get a partial index on
the due instant of pending ones only, which the scheduler's poll reads from its head.

Revision ID: 0dabc86b321f
Revises: 698364791470
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from shared.kernel_migrations import create_idempotency_keys_v1, drop_idempotency_keys_v1

revision: str = "0dabc86b321f"
down_revision: str | None = "698364791470"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_POLICY = {
    "calendar": {
        "working_days": [0, 1, 2, 3, 6],  # Monday..Thursday and Sunday (date.weekday())
        "official_hours": {"opens": "08:00:00", "closes": "15:00:00"},
        "ramadan_hours": {"opens": "09:00:00", "closes": "14:00:00"},
    },
    "first_response_working_days": 1,
    "entity_head_after_working_days": 1,
    "minister_after_working_days": 2,
    "inquiry_working_days": 2,
    "suggestion_working_days": 7,
    "rating_window_working_days": 1,
    "review_working_days": 2,
    "cmu_hears_of_escalations": True,
}


def upgrade() -> None:
    op.create_table('directory_roles',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id', 'role', 'scope', name=op.f('pk_directory_roles'))
    )
    op.create_index(op.f('ix_directory_roles_role'), 'directory_roles', ['role', 'scope'], unique=False)
    op.create_table('holiday_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=True),
    sa.Column('name_en', sa.String(length=120), nullable=True),
    sa.Column('changed_by', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holiday_overrides'))
    )
    create_idempotency_keys_v1()
    policy_versions = op.create_table('policy_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applies_to_open', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_policy_versions'))
    )
    op.create_table('ramadan_periods',
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('changed_by', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('first_day', name=op.f('pk_ramadan_periods'))
    )
    op.create_table('request_events',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_request_events'))
    )
    op.create_index(op.f('ix_request_events_reference'), 'request_events', ['reference'], unique=False)
    op.create_table('requests',
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('entity', sa.String(length=40), nullable=True),
    sa.Column('sector', sa.String(length=20), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('reference', name=op.f('pk_requests'))
    )
    op.create_index(op.f('ix_requests_closed_at'), 'requests', ['closed_at'], unique=False)
    op.create_table('rules_changes',
    sa.Column('revision', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('change', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('changed_by', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('revision', name=op.f('pk_rules_changes'))
    )
    rules_state = op.create_table('rules_state',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('announced_revision', sa.Integer(), nullable=False),
    sa.Column('recomputed_revision', sa.Integer(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_rules_state_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules_state'))
    )
    op.create_table('timers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('clock', sa.String(length=12), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=True),
    sa.Column('sector', sa.String(length=20), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('budget_us', sa.BigInteger(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timers')),
    sa.UniqueConstraint('reference', 'key', name=op.f('uq_timers_reference'))
    )
    op.create_index('ix_timers_pending_due', 'timers', ['due_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    # Frozen here as the regulation states them; later versions are the CMU's, through the API.
    op.bulk_insert(rules_state, [
        {"id": 1, "revision": 1, "announced_revision": 0, "recomputed_revision": 1},
    ])
    op.bulk_insert(policy_versions, [{
        "version": 1,
        "policy": FIRST_POLICY,
        "effective_from": datetime(1970, 1, 1, tzinfo=UTC),
        "applies_to_open": False,
        "reason": "The regulation's time limits",
        "created_by": None,
    }])


def downgrade() -> None:
    op.drop_index('ix_timers_pending_due', table_name='timers', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
    op.drop_table('timers')
    op.drop_table('rules_state')
    op.drop_table('rules_changes')
    op.drop_index(op.f('ix_requests_closed_at'), table_name='requests')
    op.drop_table('requests')
    op.drop_index(op.f('ix_request_events_reference'), table_name='request_events')
    op.drop_table('request_events')
    op.drop_table('ramadan_periods')
    op.drop_table('policy_versions')
    drop_idempotency_keys_v1()
    op.drop_table('holiday_overrides')
    op.drop_index(op.f('ix_directory_roles_role'), table_name='directory_roles')
    op.drop_table('directory_roles')
