"""commission keys and sealed reports

The commission's public keys, the write-once store of sealed reports (the database refuses to
change or remove a filed envelope, whoever asks), acknowledgements, status notes, and the
idempotency keys of the commission's creating POSTs.

Revision ID: d46f2d7dc97d
Revises: 45413df803f2
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.kernel_migrations import create_idempotency_keys_v1, drop_idempotency_keys_v1

revision: str = "d46f2d7dc97d"
down_revision: str | None = "45413df803f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITE_ONCE = "sealed reports are written once"


def upgrade() -> None:
    create_idempotency_keys_v1()
    op.create_table(
        "commission_keys",
        sa.Column("serial", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=128), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_commission_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_commission_keys_key_id")),
        sa.UniqueConstraint("public_key", name=op.f("uq_commission_keys_public_key")),
    )
    op.create_table(
        "sealed_reports",
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.Column("key_id", sa.String(length=128), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("size_bucket", sa.Integer(), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("identity_envelope", sa.LargeBinary(), nullable=True),
        sa.Column("has_identity", sa.Boolean(), nullable=False),
        sa.Column("receipt_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["commission_keys.key_id"],
            name=op.f("fk_sealed_reports_key_id_commission_keys"),
        ),
        sa.PrimaryKeyConstraint("envelope_id", name=op.f("pk_sealed_reports")),
        sa.UniqueConstraint("receipt_digest", name=op.f("uq_sealed_reports_receipt_digest")),
    )
    op.create_index(
        op.f("ix_sealed_reports_created_day"), "sealed_reports", ["created_day", "envelope_id"]
    )
    op.create_table(
        "acknowledgements",
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["sealed_reports.envelope_id"],
            name=op.f("fk_acknowledgements_envelope_id_sealed_reports"),
        ),
        sa.PrimaryKeyConstraint("envelope_id", name=op.f("pk_acknowledgements")),
    )
    op.create_table(
        "status_notes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True, nullable=False,
        ),
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("posted_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["sealed_reports.envelope_id"],
            name=op.f("fk_status_notes_envelope_id_sealed_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_notes")),
    )
    op.create_index(op.f("ix_status_notes_envelope_id"), "status_notes", ["envelope_id"])
    _refuse_changes_to_sealed_reports()


def _refuse_changes_to_sealed_reports() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_changing_sealed_reports() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{WRITE_ONCE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER sealed_reports_write_once BEFORE UPDATE OR DELETE ON sealed_reports "
            "FOR EACH ROW EXECUTE FUNCTION refuse_changing_sealed_reports()"
        )
        op.execute(
            "CREATE TRIGGER sealed_reports_never_truncated BEFORE TRUNCATE ON sealed_reports "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_sealed_reports()"
        )
        return
    for change in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER sealed_reports_no_{change.lower()} BEFORE {change} "
            f"ON sealed_reports BEGIN SELECT RAISE(ABORT, '{WRITE_ONCE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sealed_reports_never_truncated ON sealed_reports")
        op.execute("DROP TRIGGER sealed_reports_write_once ON sealed_reports")
        op.execute("DROP FUNCTION refuse_changing_sealed_reports()")
    else:
        op.execute("DROP TRIGGER sealed_reports_no_update")
        op.execute("DROP TRIGGER sealed_reports_no_delete")
    op.drop_index(op.f("ix_status_notes_envelope_id"), table_name="status_notes")
    op.drop_table("status_notes")
    op.drop_table("acknowledgements")
    op.drop_index(op.f("ix_sealed_reports_created_day"), table_name="sealed_reports")
    op.drop_table("sealed_reports")
    op.drop_table("commission_keys")
    drop_idempotency_keys_v1()
