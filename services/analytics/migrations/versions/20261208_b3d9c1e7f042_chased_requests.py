"""chased requests

`request.chased` (a requester chasing a late answer) counts each request once, the first time
it is chased: `chased` in every rollup and, on `requests`, how many times it was.

Expand only: columns added with defaults, so the previous release's pods keep writing while
this one rolls out. Chases happen only from this release on: no rebuild is needed.

Revision ID: b3d9c1e7f042
Revises: 045fd340faeb
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3d9c1e7f042"
down_revision: str | None = "045fd340faeb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# True when the previous release's code still runs on the schema this leaves (it only adds what
# that code ignores): old pods stay ready through the rollout (shared/migrations.py).
serves_previous: bool = True

CUBES = ("rollup_hour_entity", "rollup_day_entity", "rollup_day_geo", "rollup_day_full")


def upgrade() -> None:
    for name in CUBES:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("chased", sa.BigInteger(), nullable=False,
                                       server_default="0"))
    with op.batch_alter_table("requests") as table:
        table.add_column(sa.Column("chased", sa.SmallInteger(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("requests") as table:
        table.drop_column("chased")
    for name in CUBES:
        with op.batch_alter_table(name) as table:
            table.drop_column("chased")
