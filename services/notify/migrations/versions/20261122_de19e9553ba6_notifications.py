"""notify: contact book, request facts and notifications

The contact book (contacts, person_roles, entities) and the request facts (requests,
request_officers) are kept from events; notifications is the queue and the delivery log.

Revision ID: de19e9553ba6
Revises: 5ab0e6b23ac8
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "de19e9553ba6"
down_revision: str | None = "5ab0e6b23ac8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("contacts",
    sa.Column("person_id", sa.Uuid(), nullable=False),
    sa.Column("phone", sa.String(length=16), nullable=True),
    sa.Column("email", sa.String(length=254), nullable=True),
    sa.Column("language", sa.String(length=2), nullable=False),
    sa.Column("notice_channel", sa.String(length=5), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("person_id", name=op.f("pk_contacts"))
    )
    op.create_table("entities",
    sa.Column("entity", sa.String(length=40), nullable=False),
    sa.Column("sector", sa.String(length=20), nullable=False),
    sa.Column("name_ar", sa.String(length=200), nullable=False),
    sa.Column("name_en", sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint("entity", name=op.f("pk_entities"))
    )
    op.create_table("calendar_rules",
    sa.Column("id", sa.SmallInteger(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("rules", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_rules"))
    )
    op.create_table("notifications",
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("source_event_id", sa.Uuid(), nullable=False),
    sa.Column("kind", sa.String(length=60), nullable=False),
    sa.Column("channel", sa.String(length=5), nullable=False),
    sa.Column("recipient_id", sa.Uuid(), nullable=True),
    sa.Column("reference", sa.String(length=40), nullable=True),
    sa.Column("address", sa.String(length=254), nullable=False),
    sa.Column("language", sa.String(length=2), nullable=False),
    sa.Column("context", sa.JSON(), nullable=False),
    sa.Column("fell_back", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("priority", sa.SmallInteger(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("holder", sa.String(length=40), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("provider_message_id", sa.String(length=100), nullable=True),
    sa.Column("reason_code", sa.String(length=64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    postgresql_with={"fillfactor": 80},
    )
    op.create_index("ix_notifications_due", "notifications", ["channel", "priority", "next_attempt_at"], unique=False, postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
    op.create_index(op.f("ix_notifications_created_at"), "notifications", ["created_at"], unique=False)
    op.create_index(op.f("ix_notifications_recipient_id"), "notifications", ["recipient_id", "created_at"], unique=False)
    op.create_index(op.f("ix_notifications_reference"), "notifications", ["reference"], unique=False)
    op.create_table("person_roles",
    sa.Column("person_id", sa.Uuid(), nullable=False),
    sa.Column("role", sa.String(length=40), nullable=False),
    sa.Column("entity", sa.String(length=40), nullable=False),
    sa.Column("sector", sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint("person_id", "role", "entity", "sector", name=op.f("pk_person_roles"))
    )
    op.create_index(op.f("ix_person_roles_role"), "person_roles", ["role", "sector"], unique=False)
    op.create_table("request_officers",
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("officer_id", sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint("reference", "officer_id", name=op.f("pk_request_officers"))
    )
    op.create_index(op.f("ix_request_officers_officer_id"), "request_officers", ["officer_id"], unique=False)
    op.create_table("requests",
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("requester_id", sa.Uuid(), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("subject", sa.String(length=200), nullable=False),
    sa.Column("entity", sa.String(length=40), nullable=True),
    sa.Column("notice_channel", sa.String(length=5), nullable=True),
    sa.Column("language", sa.String(length=2), nullable=True),
    sa.Column("open", sa.Boolean(), nullable=False),
    sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("reference", name=op.f("pk_requests"))
    )
    op.create_index(op.f("ix_requests_overdue_since"), "requests", ["overdue_since"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_requests_overdue_since"), table_name="requests")
    op.drop_table("requests")
    op.drop_index(op.f("ix_request_officers_officer_id"), table_name="request_officers")
    op.drop_table("request_officers")
    op.drop_index(op.f("ix_person_roles_role"), table_name="person_roles")
    op.drop_table("person_roles")
    op.drop_index(op.f("ix_notifications_reference"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_recipient_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_created_at"), table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("calendar_rules")
    op.drop_table("entities")
    op.drop_table("contacts")
