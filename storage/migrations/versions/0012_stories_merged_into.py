"""stories.merged_into indexed where set: a merge's re-pointing of the stories merged into the one
that goes (storage/writes.py apply_merges) read every story for each merged pair.

`UPDATE stories SET merged_into = :into WHERE merged_into = :gone` scanned the whole table: on
bench/poll.py's cold pass (466 stories, ~120 merges) a sixth of the store's work, and on a store
of a year's stories a scan per merge. Only merged stories have merged_into, so the index holds
just them (partial: NULL is left out), and a story's upsert, which never sets merged_into, does
not touch it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

MERGED = sa.text("merged_into IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_stories_merged_into", "stories", ["merged_into"], sqlite_where=MERGED, postgresql_where=MERGED)


def downgrade() -> None:
    op.drop_index("ix_stories_merged_into", "stories")
