"""Case-insensitive substring search over a post's text, title and author, per database.

SQLite: the FTS5 trigram index posts_fts (migration 0002) finds the posts holding the needle; it
needs at least three characters, so shorter needles scan with LIKE. PostgreSQL: ILIKE, which the
pg_trgm GIN indexes serve when the server had the extension (otherwise it scans, correctly).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, column, or_, text

from storage import tables as t

TRIGRAM = 3  # the shortest needle a trigram index can answer


def contains(needle: str, dialect: str, *, indexed: bool) -> ColumnElement[bool]:
    """posts whose text, title or author contains `needle`, ignoring case."""
    p = t.posts.c
    if dialect == "postgresql":
        pattern = f"%{escape_like(needle)}%"
        return or_(*(col.ilike(pattern, escape="\\") for col in (p.text, p.title, p.author)))
    if dialect == "sqlite" and indexed and len(needle) >= TRIGRAM:
        found = text(f"SELECT rowid FROM {t.FTS_TABLE} WHERE {t.FTS_TABLE} MATCH :fts_phrase")
        return p.pk.in_(found.bindparams(fts_phrase=fts_phrase(needle)).columns(column("rowid", Integer)))
    return or_(*(col.icontains(needle, autoescape=True) for col in (p.text, p.title, p.author)))


def fts_phrase(needle: str) -> str:
    """`needle` as one FTS5 string: the query syntax of anything a user types stays inert."""
    return '"' + needle.replace('"', '""') + '"'


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
