"""The command line as a whole: how commands are found, named and called."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from monitor import commands
from monitor.commands import listed, load
from tests.support.cli import ROOT, clean_env, monitor
from tests.support.server import FixtureServer, Reply

COMMANDS_DIR = Path(commands.__file__).parent
FEEDS = '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n' \
        '[[feeds]]\nname = "quiet-feed"\ntype = "rss"\nurl = "http://127.0.0.1:9/feed"\n'
POST = '{"id": "1", "text": "lava flows", "published": "2024-03-01T12:00:00Z"}\n'


def test_no_command_module_looks_like_a_test() -> None:
    modules = sorted(p.name for p in COMMANDS_DIR.glob("*.py"))
    assert [m for m in modules if m.startswith("test_") or m.endswith("_test.py")] == []
    assert "test-query" in [c.name for c in listed()], "the command keeps its name"


def test_each_command_is_listed_as_its_module_declares_it() -> None:
    """The listing reads NAME and HELP from the modules' text: what importing them gives."""
    modules = sorted(p.stem for p in COMMANDS_DIR.glob("*.py") if not p.name.startswith("_"))
    assert sorted(c.module for c in listed()) == modules
    for c in listed():
        module = load(c.module)
        assert (c.name, c.help) == (module.NAME, module.HELP), f"{c.module}.py: NAME or HELP is not one plain line"


def test_help_lists_every_command_by_name_with_its_help(tmp_path: Path) -> None:
    done = monitor("--help", cwd=tmp_path, env=clean_env(COLUMNS="1000"))
    assert done.returncode == 0, done.stderr
    shown = [line.split(maxsplit=1) for line in done.stdout.splitlines() if re.match(r"    \S", line)]
    assert shown == [[c.name, c.help] for c in listed()]
    assert [c.name for c in listed()] == sorted(c.name for c in listed())


def test_a_commands_help_shows_its_own_options_and_the_global_ones(tmp_path: Path) -> None:
    done = monitor("status", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: monitor status") and "--json" in done.stdout and "--config" in done.stdout
    nested = monitor("feeds", "add", "--help", cwd=tmp_path)
    assert nested.returncode == 0 and "--interval" in nested.stdout, nested.stderr


def test_global_options_go_before_the_command_too(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere" / "feeds.toml"
    config.parent.mkdir()
    config.write_text(FEEDS, encoding="utf-8")
    assert monitor("run", "--once", "--config", str(config), cwd=tmp_path).returncode == 0
    before = monitor("--config", str(config), "status", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "quiet-feed" in before.stdout
    verbose = monitor("-v", "--config", str(config), "posts", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    after_wins = monitor("--config", str(tmp_path / "none.toml"), "status", "--config", str(config), cwd=tmp_path)
    assert after_wins.returncode == 0 and "quiet-feed" in after_wins.stdout, after_wins.stderr


def test_a_topic_is_known_when_configured_or_stored(tmp_path: Path) -> None:
    """A configured topic without posts yet lists nothing; a topic since removed from feeds.toml
    still lists what it stored."""
    config = tmp_path / "feeds.toml"
    config.write_text(FEEDS.replace('"volcano"', '"lava"'), encoding="utf-8")
    (tmp_path / "p.jsonl").write_text(POST, encoding="utf-8")
    assert monitor("ingest", "p.jsonl", cwd=tmp_path).returncode == 0
    config.write_text(FEEDS, encoding="utf-8")
    configured = monitor("posts", "--topic", "volcano", cwd=tmp_path)
    assert (configured.returncode, configured.stdout) == (0, ""), configured.stderr
    stored = monitor("posts", "--topic", "lava", cwd=tmp_path)
    assert stored.returncode == 0 and "lava flows" in stored.stdout, stored.stderr
    unknown = monitor("posts", "--topic", "ash", cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr == 'monitor: no topic "ash"; the topics are "volcano", "lava"\n'


def test_keywords_from_a_url_print_keywords_and_no_log_lines(server: FixtureServer, tmp_path: Path) -> None:
    html = "<html><body><article>" + "".join(
        f"<p>The volcano near Grindavik erupted again, paragraph {i}, and lava reached the road.</p>" for i in range(6)
    ) + "</article></body></html>"
    server.routes["/a.html"] = Reply(body=html.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    done = monitor("keywords", server.url("/a.html"), cwd=tmp_path)
    assert done.returncode == 0 and "Grindavik" in done.stdout
    assert done.stderr == "", "httpx announces each request at INFO: not for a user"


def test_git_ignores_what_running_monitor_leaves_in_a_checkout(tmp_path: Path) -> None:
    made = ["monitor.db", "monitor.db-wal", "monitor.db-shm", "monitor.db.lock", "monitor.db.dash.json"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *made], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.stdout.split() == made, done.stderr


def test_the_licence_is_an_spdx_string_so_installing_warns_of_nothing() -> None:
    """setuptools deprecates the `{ text = ... }` table with a banner on every install
    (checked by hand: `pip wheel --no-deps .` prints no warning)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"], "SPDX licence strings need setuptools 77"
