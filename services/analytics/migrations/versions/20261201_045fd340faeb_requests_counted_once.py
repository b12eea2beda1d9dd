"""requests counted once: answers, deadline verdicts and latest ratings

The rollups' `responded` and `responded_on_time` counted response events, so a reopened
request counted twice and an overdue request with no answer was never judged. `answered` (a
request's first answer), `deadline_met` and `deadline_missed` (its one verdict) take their
place; `requests` keeps where its latest rating was counted (`rated_at`, `rated_sector`,
`rated_entity`), so a new round's rating replaces it.

Expand only (deploy/RUNBOOK.md, Upgrade): the old counters stay, unwritten and defaulting to 0,
so the previous release's pods keep writing while this one rolls out; a later release drops them.

The new counters cannot be derived from the old ones: after upgrading, rebuild the read model
from the event log (docs/indicators.md, "Rebuilding"), with the consumers stopped:
`python -m services.analytics rebuild`. Until then the history shows the new counters at 0.

Revision ID: 045fd340faeb
Revises: 98b62f8c7a51
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '045fd340faeb'
down_revision: str | None = '98b62f8c7a51'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUBES = ("rollup_hour_entity", "rollup_day_entity", "rollup_day_geo", "rollup_day_full")
ADDED = ("answered", "deadline_met", "deadline_missed")
RETIRED = ("responded", "responded_on_time")


def upgrade() -> None:
    for name in CUBES:
        with op.batch_alter_table(name) as table:
            for column in ADDED:
                table.add_column(sa.Column(column, sa.BigInteger(), nullable=False,
                                           server_default="0"))
            for column in RETIRED:  # no longer written by this release's code
                table.alter_column(column, existing_type=sa.BigInteger(),
                                   existing_nullable=False, server_default="0")
    with op.batch_alter_table("requests") as table:
        table.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("rated_sector", sa.String(length=20), nullable=True))
        table.add_column(sa.Column("rated_entity", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as table:
        for column in ("rated_entity", "rated_sector", "rated_at"):
            table.drop_column(column)
    for name in CUBES:
        with op.batch_alter_table(name) as table:
            for column in RETIRED:
                table.alter_column(column, existing_type=sa.BigInteger(),
                                   existing_nullable=False, server_default=None)
            for column in ADDED:
                table.drop_column(column)
