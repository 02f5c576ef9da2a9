"""Where things live by default: $MONITOR_CONFIG, else ./feeds.toml, else the platform's user config
folder for feeds.toml and its user data folder for the database; `status` says which files it uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.places import default_config, default_database
from tests.support.cli import clean_env, monitor
from tests.support.feeds import rss
from tests.support.server import FixtureServer, Reply


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"), **extra)


def test_without_feeds_toml_here_the_users_folders_hold_it_and_the_database(
        tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/a.xml"] = Reply(200, rss([("1", "volcano")]), {"Content-Type": "application/rss+xml"})
    work = tmp_path / "anywhere"
    work.mkdir()
    env = _env(tmp_path)
    assert monitor("feeds", "add", server.url("/a.xml"), "--name", "a", cwd=work, env=env).returncode == 0
    config = tmp_path / "config" / "monitor" / "feeds.toml"
    assert config.is_file() and not (work / "feeds.toml").exists()
    config.write_text('[[topics]]\nname = "v"\nkeywords = ["volcano"]\n\n' + config.read_text())
    assert monitor("run", "--once", cwd=work, env=env).returncode == 0
    database = tmp_path / "data" / "monitor" / "monitor.db"
    assert database.is_file() and not (config.parent / "monitor.db").exists()
    status = monitor("status", cwd=work, env=env)
    assert f"config {config}; database sqlite:///{database}" in status.stdout
    listed = json.loads(monitor("status", "--json", cwd=work, env=env).stdout)
    assert (listed["config"], listed["database"]) == (str(config), f"sqlite:///{database}")


def test_monitor_config_first_then_feeds_toml_here_then_the_users(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "project"
    here.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    env: dict[str, str] = {}
    assert default_config(env, here) == tmp_path / "config" / "monitor" / "feeds.toml"
    (here / "feeds.toml").write_text("")
    assert default_config(env, here) == here / "feeds.toml"
    assert default_config({**env, "MONITOR_CONFIG": "/elsewhere/f.toml"}, here) == Path("/elsewhere/f.toml")
    assert default_database(here / "feeds.toml") == (here / "monitor.db").resolve()
