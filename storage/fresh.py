"""A new SQLite database made at the head revision in one step.

Running every migration on an empty file costs 0.7 s of each first start (Alembic's import, and
SQLite's batch mode copying tables for each change): most of a cold `run --once`. An empty file
instead gets the tables this code describes (storage.tables, which the migrations build exactly:
tests/test_storage_open.py compares the two), the search index of the newest migration that made
it (0010), the meta row of 0001, and the head revision's stamp. A database with anything in it, and
PostgreSQL, go through the migrations.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, inspect

from storage import tables as t

SEARCH_INDEX = (
    # As migration 0010 makes it (an empty posts table: nothing to rebuild), without the insert
    # trigger 0011 drops (the writer indexes its posts itself, storage/writes.py).
    "CREATE VIRTUAL TABLE posts_fts USING fts5(text, title, author, content='posts', content_rowid='pk', "
    "tokenize='trigram', detail=none, columnsize=0)",
    "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, title, author) "
    "VALUES ('delete', old.pk, old.text, old.title, old.author); END",
    "CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, title, author ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, title, author) "
    "VALUES ('delete', old.pk, old.text, old.title, old.author); "
    "INSERT INTO posts_fts(rowid, text, title, author) VALUES (new.pk, new.text, new.title, new.author); END",
)
STAMP = ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
         "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")


def can_create(connection: Connection) -> bool:
    """An empty SQLite database: no table at all."""
    return connection.dialect.name == "sqlite" and not inspect(connection).get_table_names()


def create_at_head(connection: Connection, head: str) -> None:
    """The schema at `head` on an empty SQLite database, in the caller's transaction."""
    t.metadata.create_all(connection)
    for statement in SEARCH_INDEX:
        connection.exec_driver_sql(statement)
    connection.execute(insert(t.meta).values(id=1, revision=0, last_write=None, posts=0))
    connection.exec_driver_sql(STAMP)
    connection.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES (?)", (head,))
