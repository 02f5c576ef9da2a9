"""`monitor test-query` over a real SQLite store filled by `monitor ingest`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import monitor as run_monitor

POSTS = [
    {"id": "1", "source": "s", "author": "a", "url": "http://x/1", "text": "Volcano near Grindavík erupts",
     "published": "2024-01-01T00:00:00+00:00"},
    {"id": "2", "source": "s", "author": "b", "url": "http://x/2", "text": "Volcano tourism booms",
     "published": "2024-01-01T01:00:00+00:00"},
]


def monitor(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_monitor(*args, "--config", "feeds.toml", cwd=cwd)


def test_shows_what_would_match_and_why(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text('[[topics]]\nname = "v"\nkeywords = ["volcano"]\n', encoding="utf-8")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(p) + "\n" for p in POSTS), encoding="utf-8")
    assert monitor(tmp_path, "ingest", "in.jsonl").returncode == 0
    shown = monitor(tmp_path, "test-query", "grindav* OR lava")
    assert shown.returncode == 0, shown.stderr
    assert "matched: grindav*" in shown.stdout and "1 of 2 stored posts match" in shown.stdout
    rows = json.loads(monitor(tmp_path, "test-query", "volcano -tourism", "--json").stdout)
    assert [(r["id"], r["matched"]) for r in rows] == [("1", ["volcano"])]


def test_a_bad_query_names_the_column(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text('[[topics]]\nname = "v"\nkeywords = ["volcano"]\n', encoding="utf-8")
    result = monitor(tmp_path, "test-query", "lava OR (")
    assert result.returncode == 2 and "column 10" in result.stderr and result.stderr.count("\n") == 1
