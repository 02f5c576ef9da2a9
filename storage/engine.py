"""Engine setup: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from storage.errors import NoDatabaseYet, StorageError
from storage.text_search import CONTAINS, holds

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 65536
"""The writer's page cache: with SQLite's default 2 MB, index inserts into a large store miss it."""


def normalize_url(url: str) -> URL:
    """Parse `url`; map plain PostgreSQL URLs to psycopg 3 and bare paths to SQLite."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: URL) -> str:
    """The URL for messages: never the password."""
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for in-memory or other backends."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: URL, *, readonly: bool) -> Engine:
    """An engine with the connection settings the store relies on."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, readonly=readonly)
    engine = create_engine(url, pool_pre_ping=True)
    if readonly:
        # The database itself refuses writes, so a read-only dashboard cannot corrupt anything.
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()

    return engine


def _sqlite_engine(url: URL, *, readonly: bool) -> Engine:
    path = sqlite_path(url)
    if path is not None and readonly:
        if not path.exists():
            raise NoDatabaseYet(f"no database at {path} yet: `monitor run` creates it")
        # mode=ro: the file is never created or written by a reader.
        url = url.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
    # Pooled connections stay open, which keeps the WAL and its index alive for readers;
    # check_same_thread is off because the pool hands them to the dashboard's worker threads.
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not readonly and path is not None:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        if not readonly:  # the writer's index inserts; readers (dashboards) keep SQLite's small default
            cur.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cur.close()
        # The search's check on the trigram index's candidates (storage/text_search.py).
        dbapi_conn.create_function(CONTAINS, -1, holds, deterministic=True)
        # Take transaction control from the sqlite3 module, which would not BEGIN before DDL or
        # SELECT; the "begin" hook below opens every SQLAlchemy transaction for real.
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
