"""idempotency keys

Creating POSTs (registrations, submissions, uploads, reports) take an Idempotency-Key
(see shared/idempotency.py).

Revision ID: 3c1d2e0a7b41
Revises: 9f9a85be65f6
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from shared.kernel_migrations import create_idempotency_keys_v1, drop_idempotency_keys_v1

revision: str = "3c1d2e0a7b41"
down_revision: str | None = "9f9a85be65f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_keys_v1()


def downgrade() -> None:
    drop_idempotency_keys_v1()
