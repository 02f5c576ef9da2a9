"""Bring a database to this code's schema with Alembic, configured in code (no alembic.ini).

Alembic is imported only when a database is behind: opening an up-to-date one (every start after
the first) reads the stamped revision with one query and costs no Alembic import. An empty SQLite
file is made at the head revision in one step (storage/fresh.py), without Alembic either.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from storage import fresh
from storage.errors import NoDatabaseYet, StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
             "0011", "0012")
"""Every revision in migrations/versions, oldest first; a test keeps it equal to Alembic's history."""
HEAD = REVISIONS[-1]


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this code knows."""
    return HEAD


def current(connection: Connection) -> str | None:
    """The revision the database is stamped with; None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_known(revision: str | None, shown: str) -> None:
    """Refuse a database stamped by a newer monitor: its schema may not match our queries."""
    if revision is not None and revision not in REVISIONS:
        raise StorageError(
            f"the database {shown} was written by a newer monitor (schema {revision}); upgrade monitor"
        )


def upgrade(engine: Engine, shown: str) -> None:
    """Apply any missing migrations in one transaction."""
    with engine.begin() as connection:
        _one_migrator(connection)
        revision = current(connection)
        check_known(revision, shown)
        if revision == HEAD:
            return
        if revision is None and fresh.can_create(connection):
            fresh.create_at_head(connection, HEAD)
            return
        from alembic import command

        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _one_migrator(connection: Connection) -> None:
    """Several workers starting at once on one PostgreSQL schema: one migrates, the others wait for
    its transaction and then find the schema at head (a lock held until this transaction ends)."""
    if connection.dialect.name != "postgresql":
        return  # SQLite: the database file's own write lock already serialises this transaction
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    key = zlib.crc32(f"monitor-migrate:{schema}".encode())
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def check_readable(engine: Engine, shown: str) -> None:
    """A reader cannot migrate: the database must already be at our head."""
    with engine.connect() as connection:
        revision = current(connection)
    check_known(revision, shown)
    if revision is None:
        raise NoDatabaseYet(f"{shown} is not a monitor database yet (run `monitor run` once to create it)")
    if revision != HEAD:
        raise StorageError(f"{shown} has an older schema ({revision}); run `monitor run` once to upgrade it")
