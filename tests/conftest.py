from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.support.server import FixtureServer, serve

if TYPE_CHECKING:
    from storage.store import Store

# Property tests assert what is true of every input, not how fast: a first example that loads word
# tables or builds a lazy table on a loaded machine must not fail on Hypothesis's 200 ms deadline.
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole run: what is cached there (word tables) is the same for every test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def own_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, user_cache: Path
) -> None:
    """No test reads or writes the real user's config, data and cache folders (platformdirs reads
    XDG_*), even one that runs a command in-process without --config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    """A real HTTP server on 127.0.0.1 with routes the test sets and a request log."""
    yield from serve()


@pytest.fixture
def shared() -> Path:
    """../shared (real data no one here wrote); the test skips where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (real-data tests run in CI and on developer machines)")
    return SHARED


# --- storage: the same tests on SQLite and (where configured) PostgreSQL ---

PG_URL_ENV = "MONITOR_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL no other test uses: a SQLite file under tmp_path, or a fresh PostgreSQL
    schema (dropped afterwards) when MONITOR_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is unset (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    yield from _postgres_schema(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema of its own (dropped afterwards); skips where none is configured."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is unset (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    yield from _postgres_schema(base)


def _postgres_schema(base: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An opened (migrated) store on `database_url`, closed after the test."""
    from storage.store import open_store

    with open_store(database_url) as opened:
        yield opened
