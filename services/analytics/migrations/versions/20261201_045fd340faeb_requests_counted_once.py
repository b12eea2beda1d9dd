"""requests counted once: answers, deadline verdicts and latest ratings

The rollups' `responded` and `responded_on_time` counted response events, so a reopened
request counted twice and an overdue request with no answer was never judged. They give way to
`answered` (a request's first answer), `deadline_met` and `deadline_missed` (its one
verdict); `requests` keeps where its latest rating was counted (`rated_at`, `rated_sector`,
`rated_entity`), so a new round's rating replaces it.

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
REMOVED = ("responded", "responded_on_time")


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    for name in CUBES:
        with op.batch_alter_table(name) as table:
            for column in ADDED:
                table.add_column(_counter(column))
                table.alter_column(column, server_default=None)
            for column in REMOVED:
                table.drop_column(column)
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
            for column in REMOVED:
                table.add_column(_counter(column))
                table.alter_column(column, server_default=None)
            for column in ADDED:
                table.drop_column(column)
