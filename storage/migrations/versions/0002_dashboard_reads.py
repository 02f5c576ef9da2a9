"""Reads the dashboard makes on every refresh, cheap on a big store.

- stories: partial indexes in the exact ORDER BY of `stories()` (velocity, last_seen, id, newest
  first) so "the 50 most active" is an index walk, not a sort of every story;
- meta.posts: the number of stored posts, kept by every write (count(*) read the whole table);
- post_minutes: posts per minute of arrival, so "posts in the last hour" sums at most 61 rows;
- SQLite: posts_fts, an FTS5 trigram index over text, title and author (external content, kept
  in sync by triggers) for substring search; PostgreSQL: pg_trgm GIN indexes when the server
  has the extension (else search stays a scan).

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

LIVE_STORIES = sa.text("merged_into IS NULL")
SEARCHED = ("text", "title", "author")

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE posts_fts USING fts5("
    "text, title, author, content='posts', content_rowid='pk', tokenize='trigram')",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
    "CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, text, title, author) VALUES (new.pk, new.text, new.title, new.author); END",
    "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, title, author) "
    "VALUES ('delete', old.pk, old.text, old.title, old.author); END",
    "CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, title, author ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, title, author) "
    "VALUES ('delete', old.pk, old.text, old.title, old.author); "
    "INSERT INTO posts_fts(rowid, text, title, author) VALUES (new.pk, new.text, new.title, new.author); END",
]

MINUTE_OF_SEEN = {
    "sqlite": "CAST(strftime('%s', seen) AS INTEGER) / 60",
    "postgresql": "CAST(floor(extract(epoch FROM seen) / 60) AS BIGINT)",
}


def upgrade() -> None:
    _story_indexes()
    op.add_column("meta", sa.Column("posts", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE meta SET posts = (SELECT count(*) FROM posts)")
    op.create_table(
        "post_minutes",
        sa.Column("minute", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("minute", name="pk_post_minutes"),
    )
    dialect = op.get_bind().dialect.name
    minute = MINUTE_OF_SEEN["postgresql" if dialect == "postgresql" else "sqlite"]
    op.execute(f"INSERT INTO post_minutes (minute, posts) SELECT {minute}, count(*) FROM posts GROUP BY 1")
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        _postgres_trigram_indexes()


def _story_indexes() -> None:
    rank = [sa.text("velocity DESC"), sa.text("last_seen DESC"), sa.text("id DESC")]
    indexes = {
        "ix_stories_topic_rank": [sa.text("topic"), *rank],
        "ix_stories_topic_live_rank": [sa.text("topic"), sa.text("live"), *rank],
        "ix_stories_rank": rank,
    }
    for name, columns in indexes.items():
        op.create_index(name, "stories", columns, sqlite_where=LIVE_STORIES, postgresql_where=LIVE_STORIES)


def _postgres_trigram_indexes() -> None:
    """GIN trigram indexes when pg_trgm can be had; a server without it keeps the plain scan."""
    conn = op.get_bind()
    schema = conn.execute(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if schema is None:
        if not conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar():
            return
        savepoint = conn.begin_nested()
        try:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        except sa.exc.DBAPIError:  # no privilege, or another session racing us: search stays a scan
            savepoint.rollback()
            return
        savepoint.commit()
        schema = "public"
    for column in SEARCHED:
        opclass = f'"{schema}".gin_trgm_ops'
        conn.execute(sa.text(f"CREATE INDEX ix_posts_{column}_trgm ON posts USING gin ({column} {opclass})"))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS posts_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    elif dialect == "postgresql":
        for column in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_posts_{column}_trgm")
    op.drop_table("post_minutes")
    with op.batch_alter_table("meta") as batch:
        batch.drop_column("posts")
    for name in ("ix_stories_rank", "ix_stories_topic_live_rank", "ix_stories_topic_rank"):
        op.drop_index(name, "stories")
