"""Case-insensitive substring search over a post's text, title and author, per database.

SQLite: the FTS5 trigram index posts_fts (migration 0010: detail=none, which records only which
posts hold each trigram; since 0011 the writer fills it in each batch's own transaction) gives the
posts holding every trigram of the needle, and `monitor_contains` (registered on every SQLite
connection, storage/engine.py) keeps those whose text, title or author holds the needle itself,
folded as the trigram tokenizer folds. A needle under three characters has no trigram and scans
with LIKE. PostgreSQL: ILIKE, which the pg_trgm GIN indexes serve when the server had the
extension (otherwise it scans, correctly).

Which way SQLite goes matters on a big store. A rare needle: the index's few candidates are read and
sorted. A common one (a word in one post of 13 is 77k candidates in 1M posts): reading and sorting
them all took 0.9 s, so for a page of the newest (a LIMIT) the query walks posts newest first and
keeps those among the candidates, which stops after the page's fiftieth (50 ms).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Integer, and_, column, func, or_, text

from storage import tables as t

TRIGRAM = 3  # the shortest needle a trigram index can answer
COMMON = 2000
"""Candidates from which walking posts newest first beats reading every candidate and sorting them
(1M posts: the walk reads ~1M / candidates rows per post shown, the sort every candidate)."""
CONTAINS = "monitor_contains"  # the SQL name of `holds`


def contains(needle: str, dialect: str, *, indexed: bool, walk: bool = False) -> ColumnElement[bool]:
    """posts whose text, title or author contains `needle`, ignoring case. `walk` (SQLite): the
    candidates only filter the rows an ORDER BY's index walk reads, they do not drive the query."""
    p = t.posts.c
    if dialect == "postgresql":
        pattern = f"%{escape_like(needle)}%"
        return or_(*(col.ilike(pattern, escape="\\") for col in (p.text, p.title, p.author)))
    if dialect == "sqlite" and indexed and len(needle) >= TRIGRAM:
        found = text(f"SELECT rowid FROM {t.FTS_TABLE} WHERE {t.FTS_TABLE} MATCH :fts_query")
        pk = p.pk + 0 if walk else p.pk  # an expression: no index lookup by it, so it cannot drive
        candidates = pk.in_(found.bindparams(fts_query=fts_query(needle)).columns(column("rowid", Integer)))
        return and_(candidates, getattr(func, CONTAINS)(needle, p.text, p.title, p.author) == 1)
    return or_(*(col.icontains(needle, autoescape=True) for col in (p.text, p.title, p.author)))


def common(conn: Connection, needle: str) -> bool:
    """SQLite: the index has COMMON or more candidates for `needle` (counting stops there)."""
    if conn.dialect.name != "sqlite" or len(needle) < TRIGRAM:
        return False
    counted = text(f"SELECT count(*) FROM (SELECT rowid FROM {t.FTS_TABLE} WHERE {t.FTS_TABLE} MATCH :q LIMIT :n)")
    return bool(conn.execute(counted, {"q": fts_query(needle), "n": COMMON}).scalar_one() >= COMMON)


def trigrams(needle: str) -> list[str]:
    """The distinct three-character pieces of `needle`, in order of first appearance."""
    return list(dict.fromkeys(needle[i : i + TRIGRAM] for i in range(len(needle) - TRIGRAM + 1)))


def fts_query(needle: str) -> str:
    """Posts holding every trigram of `needle`, as an FTS5 query: each trigram one quoted string,
    so the query syntax of anything a user types stays inert."""
    return " AND ".join(fts_string(piece) for piece in trigrams(needle))


def fts_string(piece: str) -> str:
    return '"' + piece.replace('"', '""') + '"'


def holds(needle: str | None, *fields: str | None) -> int:
    """1 when one of `fields` contains `needle` ignoring case (Unicode lower case, as FTS5's trigram
    tokenizer folds), else 0: the check on the index's candidates."""
    if not needle:
        return 1
    folded = needle.lower()
    return int(any(field is not None and folded in field.lower() for field in fields))


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
