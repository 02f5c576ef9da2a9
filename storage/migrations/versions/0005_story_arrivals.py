"""stories.arrivals: posts per minute of arrival over a story's last 70 minutes, from which readers
compute its rate and spike as of their own time. The stored snapshots `velocity` and `spike` go:
they were true only when written, so a story 19 days old still read 505 posts an hour. "Most
active first" is now ranked by the reader, so the story indexes follow last_seen instead.

Stories written before this keep no arrivals and read as quiet until their next post.

Revision ID: 0005
Revises: 0004
Create Date: 2025-07-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

UNMERGED = sa.text("merged_into IS NULL")
RECENT = [sa.text("last_seen DESC"), sa.text("id DESC")]
RANK = [sa.text("velocity DESC"), *RECENT]  # what 0002 ordered by


def _create_story_indexes(kind: str, order: list[sa.TextClause]) -> None:
    for name, leading in (("topic_", ["topic"]), ("topic_live_", ["topic", "live"]), ("", [])):
        columns = [sa.text(column) for column in leading] + order
        op.create_index(
            f"ix_stories_{name}{kind}", "stories", columns, sqlite_where=UNMERGED, postgresql_where=UNMERGED
        )


def _drop_story_indexes(kind: str) -> None:
    for name in ("topic_", "topic_live_", ""):
        op.drop_index(f"ix_stories_{name}{kind}", "stories")


def upgrade() -> None:
    _drop_story_indexes("rank")
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("arrivals", sa.Text(), nullable=False, server_default="[]"))
        batch.drop_column("velocity")
        batch.drop_column("spike")
    _create_story_indexes("recent", RECENT)


def downgrade() -> None:
    _drop_story_indexes("recent")
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("velocity", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("spike", sa.Text()))
        batch.drop_column("arrivals")
    _create_story_indexes("rank", RANK)
