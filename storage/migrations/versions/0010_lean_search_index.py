"""A leaner search index on SQLite: posts_fts keeps only which posts hold each trigram.

Migration 0002's posts_fts (FTS5 trigram, detail=full) stored every trigram's positions: about 480
bytes per post, half the database, and most of the cost of writing a post. With detail=none the
index says only which posts hold a trigram, and it keeps no per-post token counts: about a third
of the size, and cheaper to write. A search asks for the posts holding every trigram of the needle
and checks those posts' text (storage/text_search.py), so what a search finds is unchanged.
PostgreSQL: nothing changes.

Revision ID: 0010
Revises: 0009
Create Date: 2025-09-01
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

TRIGGERS = ("insert", "delete", "update")


def _fts(detail: str) -> list[str]:
    """posts_fts over posts (external content) and the triggers that keep it, with FTS5's `detail`;
    the lean one also keeps no token counts (columnsize=0: they serve only bm25 ranking, unused)."""
    extra = ", columnsize=0" if detail == "none" else ""
    return [
        "CREATE VIRTUAL TABLE posts_fts USING fts5("
        f"text, title, author, content='posts', content_rowid='pk', tokenize='trigram', detail={detail}{extra})",
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


def _replace(detail: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS posts_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS posts_fts")
    for statement in _fts(detail):
        op.execute(statement)


def upgrade() -> None:
    _replace("none")


def downgrade() -> None:
    _replace("full")
