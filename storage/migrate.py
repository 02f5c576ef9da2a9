"""Bring a database to this code's schema with Alembic, configured in code (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from storage.errors import StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this code knows."""
    heads = ScriptDirectory.from_config(_config()).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads; merge them"
    return heads[0]


def current(connection: Connection) -> str | None:
    """The revision the database is stamped with; None for an empty database."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def check_known(revision: str | None, shown: str) -> None:
    """Refuse a database stamped by a newer monitor: its schema may not match our queries."""
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(_config()).get_revision(revision)
    except CommandError as exc:
        raise StorageError(
            f"the database {shown} was written by a newer monitor (schema {revision}); upgrade monitor"
        ) from exc


def upgrade(engine: Engine, shown: str) -> None:
    """Apply any missing migrations in one transaction."""
    with engine.begin() as connection:
        check_known(current(connection), shown)
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_readable(engine: Engine, shown: str) -> None:
    """A reader cannot migrate: the database must already be at our head."""
    with engine.connect() as connection:
        revision = current(connection)
    check_known(revision, shown)
    if revision is None:
        raise StorageError(f"{shown} is not a monitor database yet (run `monitor run` once to create it)")
    if revision != head():
        raise StorageError(f"{shown} has an older schema ({revision}); run `monitor run` once to upgrade it")
