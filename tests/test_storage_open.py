"""Opening a database: migrations, re-opening, read-only readers, and the databases we refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from storage import migrate
from storage.engine import normalize_url
from storage.errors import StorageError
from storage.store import open_store
from storage.tables import metadata, migration_only
from storage.types import Batch, FeedState, Match, NewPost, Post

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def one_post(pid: str) -> Batch:
    return Batch(posts=[NewPost(Post(pid, "rss", "a", "u", "ceasefire", T0), (Match("gaza", ("ceasefire",)),))])


def raw_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(normalize_url(url))


def declared(name: str | None, kind: str, parents: object) -> bool:
    return not migration_only(name)


def test_open_creates_the_schema_at_head(database_url: str) -> None:
    open_store(database_url).close()
    engine = raw_engine(database_url)
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        tables = set(inspect(conn).get_table_names())
        # The migrations build exactly what the code's tables describe.
        assert compare_metadata(MigrationContext.configure(conn, opts={"include_name": declared}), metadata) == []
    engine.dispose()
    assert {"feeds", "posts", "topics", "matches", "stories", "meta", "daemon"} <= tables


def schema_of(url: str) -> dict[str, object]:
    """Everything SQLite says of a database's schema and its fixed rows, comparable between files."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = inspect(conn)
        shape: dict[str, object] = {}
        for table in found.get_table_names():
            where = [str(i.get("dialect_options", {}).get("sqlite_where")) for i in found.get_indexes(table)]
            shape[table] = (
                [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in found.get_columns(table)],
                sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in found.get_indexes(table)),
                sorted(where), found.get_unique_constraints(table), found.get_foreign_keys(table),
                found.get_check_constraints(table), found.get_pk_constraint(table),
            )
        search = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'posts_fts%' AND sql IS NOT NULL ORDER BY name")
        shape["search index"] = [(kind, name, " ".join(sql.split())) for kind, name, sql in search]
        shape["rows"] = [conn.exec_driver_sql("SELECT * FROM meta").all(), migrate.current(conn)]
    engine.dispose()
    return shape


def test_a_new_sqlite_file_made_in_one_step_is_what_the_migrations_make(tmp_path: Path) -> None:
    """issue 17: an empty file skips the migrations (0.7 s of a first start) and gets the same database."""
    from alembic import command

    migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = create_engine(migrated)
    with engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    engine.dispose()
    made = f"sqlite:///{tmp_path / 'made.db'}"
    open_store(made).close()
    assert schema_of(made) == schema_of(migrated)
    assert "posts_fts_delete" in str(schema_of(made)["search index"])
    with open_store(made) as store:  # and it works: written, searched, re-opened without migrating
        store.write(one_post("1"), T0)
        assert [sp.post.id for sp in store.posts(text="CEASE")] == ["1"]


def test_reopen_keeps_data(database_url: str) -> None:
    with open_store(database_url) as store:
        store.sync_feeds(["rss"], T0)
        store.write(one_post("1"), T0)
        store.write(Batch(feed=FeedState("rss", etag='"x"')), T0)
    with open_store(database_url) as store:
        assert [sp.post.id for sp in store.posts()] == ["1"]
        assert store.feed_state("rss").etag == '"x"'
        assert store.write(one_post("1"), T0) == 0


def test_readonly_reads_while_a_writer_holds_a_transaction(database_url: str) -> None:
    with open_store(database_url) as writer:
        writer.write(one_post("committed"), T0)
        engine = raw_engine(database_url)
        with engine.connect() as busy:
            # Another connection is mid-write and has not committed.
            busy.execute(text("UPDATE meta SET revision = revision + 100"))
            busy.execute(text("DELETE FROM matches"))
            with open_store(database_url, readonly=True) as reader:
                assert [sp.post.id for sp in reader.posts()] == ["committed"]
                assert reader.revision() == writer.revision()
                with pytest.raises(StorageError, match="read-only"):
                    reader.write(one_post("nope"), T0)
            busy.rollback()
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    open_store(f"sqlite:///{db}").close()
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_readonly_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no database"):
        open_store(f"sqlite:///{tmp_path / 'absent.db'}", readonly=True)
    assert not (tmp_path / "absent.db").exists()


def test_a_newer_schema_is_refused(database_url: str) -> None:
    open_store(database_url).close()
    engine = raw_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    for readonly in (False, True):
        with pytest.raises(StorageError, match="written by a newer monitor"):
            open_store(database_url, readonly=readonly)


def test_a_garbage_file_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not SQLite at all\n" * 400)
    for readonly in (False, True):
        with pytest.raises(StorageError) as caught:
            open_store(str(db), readonly=readonly)
        message = str(caught.value)
        assert "not a database" in message
        assert "\n" not in message and "[SQL" not in message and "Traceback" not in message
    assert db.read_bytes() == b"this is not SQLite at all\n" * 400


def test_an_unreachable_postgres_is_one_line() -> None:
    with pytest.raises(StorageError) as caught:
        open_store("postgresql://monitor:secret@127.0.0.1:1/nowhere?connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("cannot open database postgresql+psycopg://monitor:***@127.0.0.1:1/nowhere")
    assert "secret" not in message and "\n" not in message


def test_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        open_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'm.db'}")
    assert "unable to open database file" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
        ("/var/lib/monitor/m.db", "sqlite"),
    ],
)
def test_urls_are_normalized(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_bad_urls_are_one_line() -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        open_store("://nothing")
    with pytest.raises(StorageError, match=r"^cannot open nosuchdb://what: .*nosuchdb$"):
        open_store("nosuchdb://what")


def test_the_known_revisions_are_alembics_history() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate._config())
    history = [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
    assert tuple(history) == migrate.REVISIONS
