"""The first schema: feeds, posts, topics, matches, stories, meta and daemon.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the types as they were in this revision (not imported from storage.tables).
UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("body_hash", sa.Text()),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("next_check", UTC_TS),
        sa.Column("last_poll", UTC_TS),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("retry_after", UTC_TS),
        sa.Column("posts_seen", sa.Integer(), nullable=False),
        sa.Column("posts_matched", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_feeds"),
    )
    op.create_index("ix_feeds_next_check", "feeds", ["next_check"])

    op.create_table(
        "posts",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published", UTC_TS, nullable=False),
        sa.Column("seen", UTC_TS, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("lang", sa.String(20), nullable=False),
        sa.Column("duplicate_of", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["posts.pk"], name="fk_posts_duplicate_of_posts", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("pk", name="pk_posts"),
        sa.UniqueConstraint("source", "post_id", name="uq_posts_source_post_id"),
    )
    op.create_index("ix_posts_published", "posts", ["published", "pk"])
    op.create_index("ix_posts_seen", "posts", ["seen"])
    op.create_index("ix_posts_duplicate_of", "posts", ["duplicate_of"])

    op.create_table(
        "topics",
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_topics"),
    )

    op.create_table(
        "matches",
        sa.Column("post_pk", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("story", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["post_pk"], ["posts.pk"], name="fk_matches_post_pk_posts", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic"], ["topics.name"], name="fk_matches_topic_topics", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_pk", "topic", name="pk_matches"),
    )
    op.create_index("ix_matches_story", "matches", ["story"])
    op.create_index("ix_matches_topic", "matches", ["topic"])

    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_seen", UTC_TS, nullable=False),
        sa.Column("last_seen", UTC_TS, nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.Column("velocity", sa.Float(), nullable=False),
        sa.Column("spike", sa.Text()),
        sa.Column("merged_into", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["topic"], ["topics.name"], name="fk_stories_topic_topics", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_topic_live_last_seen", "stories", ["topic", "live", "last_seen"])
    op.create_index("ix_stories_live_last_seen", "stories", ["live", "last_seen"])

    meta = op.create_table(
        "meta",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("last_write", UTC_TS),
        sa.CheckConstraint("id = 1", name="ck_meta_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_meta"),
    )
    op.bulk_insert(meta, [{"id": 1, "revision": 0, "last_write": None}])

    op.create_table(
        "daemon",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("started", UTC_TS, nullable=False),
        sa.Column("beat", UTC_TS, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_daemon_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_daemon"),
    )


def downgrade() -> None:
    for table in ("daemon", "meta", "stories", "matches", "topics", "posts", "feeds"):
        op.drop_table(table)
