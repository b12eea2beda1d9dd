"""routing: the directory, staff sessions, cases and their audit trail

The directory (sectors, entities and departments, governorates, classifications, people, role
assignments, permissions of roles and people, the log of its changes, the seed claims), staff
refresh sessions, cases with the partial indexes the inboxes read, and the hash-chained audit
entries. `audit_entries` and `directory_log` refuse UPDATE and DELETE (triggers), on PostgreSQL
and on SQLite alike.

Revision ID: de1645dd13bf
Revises: 954660254677
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.kernel_migrations import create_idempotency_keys_v1, drop_idempotency_keys_v1

revision: str = "de1645dd13bf"
down_revision: str | None = "954660254677"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_entries", "directory_log")


def _refuse_changes() -> None:
    """History is appended, never rewritten: the database itself refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'append-only: % on % is refused', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_history_change()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {verb} on {table} is refused'); END"
            )


def _allow_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION refuse_history_change()")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{verb}")


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    sa.UniqueConstraint('reference', 'seq', name=op.f('uq_audit_entries_reference'))
    )
    op.create_table('cases',
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('requested_entity', sa.String(length=40), nullable=True),
    sa.Column('entity_code', sa.String(length=40), nullable=True),
    sa.Column('sector_code', sa.String(length=20), nullable=True),
    sa.Column('distributed_to', sa.String(length=40), nullable=True),
    sa.Column('officer_ids', sa.JSON(), nullable=False),
    sa.Column('governorate', sa.String(length=8), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('attachment_ids', sa.JSON(), nullable=False),
    sa.Column('requester_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_by', sa.Uuid(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('classification', sa.String(length=64), nullable=True),
    sa.Column('processing_working_days', sa.SmallInteger(), nullable=True),
    sa.Column('extensions', sa.SmallInteger(), nullable=False),
    sa.Column('transfer_count', sa.SmallInteger(), nullable=False),
    sa.Column('resume_status', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('closing_code', sa.String(length=40), nullable=True),
    sa.Column('legal_ground', sa.String(length=40), nullable=True),
    sa.Column('merged_into', sa.String(length=40), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_stage', sa.String(length=30), nullable=True),
    sa.Column('due_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.SmallInteger(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_head', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('reference', name=op.f('pk_cases'))
    )
    op.create_index('ix_cases_merged_into', 'cases', ['merged_into'], unique=False, postgresql_where=sa.text('merged_into IS NOT NULL'), sqlite_where=sa.text('merged_into IS NOT NULL'))
    op.create_index('ix_cases_open_distributed_due', 'cases', ['distributed_to', 'due_at', 'reference'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_index('ix_cases_open_due', 'cases', ['due_at', 'reference'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_index('ix_cases_open_entity_due', 'cases', ['entity_code', 'due_at', 'reference'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_index('ix_cases_open_sector_due', 'cases', ['sector_code', 'due_at', 'reference'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_index('ix_cases_open_status_due', 'cases', ['status', 'due_at', 'reference'], unique=False, postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.create_table('classifications',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('max_working_days', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_classifications'))
    )
    op.create_table('directory_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('subject', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('change', sa.String(length=30), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_log'))
    )
    op.create_index(op.f('ix_directory_log_key'), 'directory_log', ['key'], unique=False)
    op.create_table('governorates',
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name_ar', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_governorates'))
    )
    create_idempotency_keys_v1()
    op.create_table('people',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=40), nullable=False),
    sa.Column('notice_channel', sa.String(length=40), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_sign_ins', sa.SmallInteger(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('username', name=op.f('uq_people_username'))
    )
    op.create_table('role_permissions',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('permission', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('role', 'permission', name=op.f('pk_role_permissions'))
    )
    op.create_table('sectors',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sectors'))
    )
    op.create_table('seed_runs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('seeded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_seed_runs'))
    )
    op.create_table('entities',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('sector_code', sa.String(length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('receives_reports', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['entities.code'], name=op.f('fk_entities_parent_code_entities')),
    sa.ForeignKeyConstraint(['sector_code'], ['sectors.code'], name=op.f('fk_entities_sector_code_sectors')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_entities'))
    )
    op.create_index(op.f('ix_entities_sector_code'), 'entities', ['sector_code'], unique=False)
    op.create_table('person_permissions',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('permission', sa.String(length=64), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_permissions_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', 'permission', name=op.f('pk_person_permissions'))
    )
    op.create_table('staff_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('family_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_sessions_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash'))
    )
    op.create_index(op.f('ix_staff_sessions_family_id'), 'staff_sessions', ['family_id'], unique=False)
    op.create_index(op.f('ix_staff_sessions_person_id'), 'staff_sessions', ['person_id'], unique=False)
    op.create_table('role_assignments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('sector_code', sa.String(length=20), nullable=True),
    sa.Column('entity_code', sa.String(length=40), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['entity_code'], ['entities.code'], name=op.f('fk_role_assignments_entity_code_entities')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_role_assignments_person_id_people')),
    sa.ForeignKeyConstraint(['sector_code'], ['sectors.code'], name=op.f('fk_role_assignments_sector_code_sectors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_assignments'))
    )
    op.create_index('ix_role_assignments_current_entity', 'role_assignments', ['role', 'entity_code'], unique=False, postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))
    op.create_index('ix_role_assignments_current_sector', 'role_assignments', ['role', 'sector_code'], unique=False, postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))
    op.create_index(op.f('ix_role_assignments_person_id'), 'role_assignments', ['person_id'], unique=False)
    _refuse_changes()


def downgrade() -> None:
    _allow_changes()
    op.drop_index(op.f('ix_role_assignments_person_id'), table_name='role_assignments')
    op.drop_index('ix_role_assignments_current_sector', table_name='role_assignments', postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))
    op.drop_index('ix_role_assignments_current_entity', table_name='role_assignments', postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))
    op.drop_table('role_assignments')
    op.drop_index(op.f('ix_staff_sessions_person_id'), table_name='staff_sessions')
    op.drop_index(op.f('ix_staff_sessions_family_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
    op.drop_table('person_permissions')
    op.drop_index(op.f('ix_entities_sector_code'), table_name='entities')
    op.drop_table('entities')
    op.drop_table('seed_runs')
    op.drop_table('sectors')
    op.drop_table('role_permissions')
    op.drop_table('people')
    drop_idempotency_keys_v1()
    op.drop_table('governorates')
    op.drop_index(op.f('ix_directory_log_key'), table_name='directory_log')
    op.drop_table('directory_log')
    op.drop_table('classifications')
    op.drop_index('ix_cases_open_status_due', table_name='cases', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index('ix_cases_open_sector_due', table_name='cases', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index('ix_cases_open_entity_due', table_name='cases', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index('ix_cases_open_due', table_name='cases', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index('ix_cases_open_distributed_due', table_name='cases', postgresql_where=sa.text("status NOT IN ('closed', 'rejected')"), sqlite_where=sa.text("status NOT IN ('closed', 'rejected')"))
    op.drop_index('ix_cases_merged_into', table_name='cases', postgresql_where=sa.text('merged_into IS NOT NULL'), sqlite_where=sa.text('merged_into IS NOT NULL'))
    op.drop_table('cases')
    op.drop_table('audit_entries')
