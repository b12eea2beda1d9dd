"""kernel: outbox and inbox

Every service publishes through its outbox and deduplicates what it consumes in its inbox
(see shared/bus).

Revision ID: 954660254677
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from shared.kernel_migrations import create_outbox_and_inbox_v1, drop_outbox_and_inbox_v1

revision: str = "954660254677"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_and_inbox_v1()


def downgrade() -> None:
    drop_outbox_and_inbox_v1()
