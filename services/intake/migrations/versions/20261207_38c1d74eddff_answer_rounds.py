"""answer rounds

Each answer of a request is rated on its own: `ratings` holds one rating per (request, answer
round), and a request knows its latest answer's round. Existing ratings are of the first answer
(no later one could be rated before); existing requests count their answers on their timeline.

Expand, then contract: `requests.rating_score`, `rating_comment` and `rated_at` stay for the
previous release, which still reads them during a rollout; a later revision drops them.

Revision ID: 38c1d74eddff
Revises: 4bdbdf1a2f82
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "38c1d74eddff"
down_revision: str | None = "4bdbdf1a2f82"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("ratings",
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("round", sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column("score", sa.SmallInteger(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=True),
    sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("reference", "round", name=op.f("pk_ratings"))
    )
    op.add_column("requests", sa.Column("answer_round", sa.SmallInteger(), nullable=True))
    op.execute(
        "UPDATE requests SET answer_round = NULLIF((SELECT count(*) FROM timeline AS t "
        "WHERE t.reference = requests.reference AND t.step = 'request.responded'), 0)"
    )
    op.execute(
        "INSERT INTO ratings (reference, round, score, comment, rated_at) "
        "SELECT reference, 1, rating_score, rating_comment, rated_at FROM requests "
        "WHERE rating_score IS NOT NULL AND rated_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("requests", "answer_round")
    op.drop_table("ratings")
