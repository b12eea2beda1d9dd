"""citizens, requests and the directory

People and their sign-ups, codes and refresh tokens; requests as the requester sees them;
the local copy of routing"s directory; attachments; the audit of staff access.

Revision ID: b5d8671e1009
Revises: 3c1d2e0a7b41
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d8671e1009"
down_revision: str | None = "3c1d2e0a7b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reference numbers: a sequence never makes one submission wait for another. SQLite has
    # none, so there a table hands out the numbers (see repository.next_request_number).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("request_number_seq")))
    else:
        op.create_table(
            "request_numbers",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sqlite_autoincrement=True,
        )
    op.create_table("attachments",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("owner_id", sa.String(length=64), nullable=False),
    sa.Column("reference", sa.String(length=40), nullable=True),
    sa.Column("media_type", sa.String(length=100), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments"))
    )
    op.create_index(op.f("ix_attachments_created_at"), "attachments", ["created_at"], unique=False)
    op.create_index(op.f("ix_attachments_owner_id"), "attachments", ["owner_id"], unique=False)
    op.create_index(op.f("ix_attachments_reference"), "attachments", ["reference"], unique=False)
    op.create_table("citizens",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("account", sa.String(length=16), nullable=False),
    sa.Column("id_type", sa.String(length=20), nullable=True),
    sa.Column("id_number", sa.String(length=20), nullable=True),
    sa.Column("full_name", sa.String(length=200), nullable=False),
    sa.Column("nationality", sa.String(length=2), nullable=True),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("phone", sa.String(length=16), nullable=False),
    sa.Column("email", sa.String(length=254), nullable=True),
    sa.Column("country", sa.String(length=2), nullable=True),
    sa.Column("city", sa.String(length=100), nullable=True),
    sa.Column("address", sa.String(length=300), nullable=True),
    sa.Column("language", sa.String(length=2), nullable=False),
    sa.Column("notice_channel", sa.String(length=5), nullable=False),
    sa.Column("password_hash", sa.String(length=200), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_citizens")),
    sa.UniqueConstraint("id_type", "id_number", name=op.f("uq_citizens_id_type"))
    )
    op.create_index(op.f("ix_citizens_phone"), "citizens", ["phone"], unique=False)
    op.create_table("deadlines",
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("clock", sa.String(length=12), nullable=False),
    sa.Column("stage", sa.String(length=20), nullable=False),
    sa.Column("entity", sa.String(length=40), nullable=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("reference", "clock", "stage", name=op.f("pk_deadlines"))
    )
    op.create_table("entities",
    sa.Column("code", sa.String(length=40), nullable=False),
    sa.Column("sector", sa.String(length=20), nullable=False),
    sa.Column("parent", sa.String(length=40), nullable=True),
    sa.Column("name_ar", sa.String(length=200), nullable=False),
    sa.Column("name_en", sa.String(length=200), nullable=False),
    sa.Column("retired", sa.Boolean(), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("code", name=op.f("pk_entities"))
    )
    op.create_table("phone_codes",
    sa.Column("challenge_id", sa.Uuid(), nullable=False),
    sa.Column("purpose", sa.String(length=20), nullable=False),
    sa.Column("citizen_id", sa.Uuid(), nullable=True),
    sa.Column("phone", sa.String(length=16), nullable=False),
    sa.Column("code_hmac", sa.String(length=64), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_phone_codes"))
    )
    op.create_table("registrations",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("id_type", sa.String(length=20), nullable=False),
    sa.Column("id_number", sa.String(length=20), nullable=False),
    sa.Column("full_name", sa.String(length=200), nullable=False),
    sa.Column("nationality", sa.String(length=2), nullable=False),
    sa.Column("date_of_birth", sa.Date(), nullable=False),
    sa.Column("phone", sa.String(length=16), nullable=False),
    sa.Column("email", sa.String(length=254), nullable=True),
    sa.Column("country", sa.String(length=2), nullable=False),
    sa.Column("city", sa.String(length=100), nullable=False),
    sa.Column("address", sa.String(length=300), nullable=False),
    sa.Column("language", sa.String(length=2), nullable=False),
    sa.Column("notice_channel", sa.String(length=5), nullable=False),
    sa.Column("password_hash", sa.String(length=200), nullable=False),
    sa.Column("identity_outcome", sa.String(length=40), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations"))
    )
    op.create_index(op.f("ix_registrations_id_number"), "registrations", ["id_number"], unique=False)
    op.create_table("requests",
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("entity", sa.String(length=40), nullable=True),
    sa.Column("sector", sa.String(length=20), nullable=True),
    sa.Column("governorate", sa.String(length=5), nullable=False),
    sa.Column("city", sa.String(length=100), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("channel", sa.String(length=20), nullable=False),
    sa.Column("subject", sa.String(length=200), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("search_key", sa.Text(), nullable=False),
    sa.Column("notice_channel", sa.String(length=5), nullable=True),
    sa.Column("language", sa.String(length=2), nullable=True),
    sa.Column("requester_id", sa.Uuid(), nullable=False),
    sa.Column("submitted_by", sa.String(length=64), nullable=True),
    sa.Column("declared_not_before_court", sa.Boolean(), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(length=24), nullable=False),
    sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status_before_pause", sa.String(length=24), nullable=True),
    sa.Column("actions_taken", sa.Text(), nullable=True),
    sa.Column("solution", sa.Text(), nullable=True),
    sa.Column("outcome", sa.String(length=40), nullable=True),
    sa.Column("rating_score", sa.SmallInteger(), nullable=True),
    sa.Column("rating_comment", sa.Text(), nullable=True),
    sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("reference", name=op.f("pk_requests"))
    )
    op.create_index(op.f("ix_requests_requester_id"), "requests", ["requester_id", "submitted_at"], unique=False)
    op.create_index(op.f("ix_requests_submitted_by"), "requests", ["submitted_by", "submitted_at"], unique=False)
    op.create_table("sectors",
    sa.Column("code", sa.String(length=20), nullable=False),
    sa.Column("name_ar", sa.String(length=200), nullable=False),
    sa.Column("name_en", sa.String(length=200), nullable=False),
    sa.Column("retired", sa.Boolean(), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("code", name=op.f("pk_sectors"))
    )
    op.create_table("staff_access",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("actor_id", sa.String(length=64), nullable=False),
    sa.Column("actor_role", sa.String(length=40), nullable=False),
    sa.Column("action", sa.String(length=40), nullable=False),
    sa.Column("reference", sa.String(length=40), nullable=True),
    sa.Column("requester_id", sa.Uuid(), nullable=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_access"))
    )
    op.create_index(op.f("ix_staff_access_actor_id"), "staff_access", ["actor_id"], unique=False)
    op.create_index(op.f("ix_staff_access_reference"), "staff_access", ["reference"], unique=False)
    op.create_table("timeline",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("event_id", sa.Uuid(), nullable=False),
    sa.Column("step", sa.String(length=60), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline")),
    sa.UniqueConstraint("event_id", name=op.f("uq_timeline_event_id"))
    )
    op.create_index(op.f("ix_timeline_reference"), "timeline", ["reference"], unique=False)
    op.create_table("caller_checks",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("requester_id", sa.Uuid(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["requester_id"], ["citizens.id"], name=op.f("fk_caller_checks_requester_id_citizens")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_checks"))
    )
    op.create_table("refresh_tokens",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("family_id", sa.Uuid(), nullable=False),
    sa.Column("citizen_id", sa.Uuid(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_refresh_tokens_citizen_id_citizens")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash"))
    )
    op.create_index(op.f("ix_refresh_tokens_citizen_id"), "refresh_tokens", ["citizen_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("request_number_seq")))
    else:
        op.drop_table("request_numbers")
    op.drop_index(op.f("ix_refresh_tokens_family_id"), table_name="refresh_tokens")
    op.drop_index(op.f("ix_refresh_tokens_citizen_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_table("caller_checks")
    op.drop_index(op.f("ix_timeline_reference"), table_name="timeline")
    op.drop_table("timeline")
    op.drop_index(op.f("ix_staff_access_reference"), table_name="staff_access")
    op.drop_index(op.f("ix_staff_access_actor_id"), table_name="staff_access")
    op.drop_table("staff_access")
    op.drop_table("sectors")
    op.drop_index(op.f("ix_requests_submitted_by"), table_name="requests")
    op.drop_index(op.f("ix_requests_requester_id"), table_name="requests")
    op.drop_table("requests")
    op.drop_index(op.f("ix_registrations_id_number"), table_name="registrations")
    op.drop_table("registrations")
    op.drop_table("phone_codes")
    op.drop_table("entities")
    op.drop_table("deadlines")
    op.drop_index(op.f("ix_citizens_phone"), table_name="citizens")
    op.drop_table("citizens")
    op.drop_index(op.f("ix_attachments_reference"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_owner_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_created_at"), table_name="attachments")
    op.drop_table("attachments")
