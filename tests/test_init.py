"""`monitor init`: one topic per name, comments kept, a new feeds.toml that loads, never half-written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from monitor import config
from monitor.feedsfile import upsert_topic
from tests.support.cli import ROOT, monitor

ARTICLE = ("A volcano erupted near Grindavík in Iceland on Monday. The Icelandic Met Office said lava flowed "
           "toward the town of Grindavík, which was evacuated. Grindavík residents waited. "
           "Iceland's president visited.")
MINE = """# my feeds, my comments
[[topics]]
name = "volcano"   # the first one
keywords = ["Grindavik", "volcano"]

[[feeds]]
name = "a"
type = "rss"
url = "http://127.0.0.1:1/a.xml"
"""


def init(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    return monitor("init", "article.txt", *args, cwd=tmp_path)


def test_init_twice_keeps_one_topic_and_the_comments(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(MINE, encoding="utf-8")
    first = init(tmp_path, "--topic", "iceland", "--config", "feeds.toml")
    assert first.returncode == 0, first.stderr
    assert 'topic "iceland"' in first.stdout and "Grindavík" in first.stdout  # prints what it wrote
    second = init(tmp_path, "--topic", "iceland", "--config", "feeds.toml")
    assert second.returncode == 0
    text = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    assert text.startswith("# my feeds, my comments") and "# the first one" in text
    assert text.count('"iceland"') == 1
    loaded = config.load(tmp_path / "feeds.toml")
    assert [t.name for t in loaded.topics] == ["volcano", "iceland"]
    iceland = loaded.topics[1]
    assert iceland.threshold == 1.0 and iceland.article == "article.txt"
    assert any("Grindavík" in key for key in iceland.weights) and "Grindavík" in (iceland.query or "")


def test_init_creates_a_loadable_feeds_toml_with_default_feeds(tmp_path: Path) -> None:
    result = init(tmp_path, "--config", "new.toml")
    assert result.returncode == 0, result.stderr
    loaded = config.load(tmp_path / "new.toml")
    (topic,) = loaded.topics
    assert topic.name.startswith("grindav")  # named from the article's top names
    kinds = {f.name: f.options for f in loaded.feeds}
    assert kinds[f"google-news-{topic.name}"] == {"topic": topic.name}
    assert "bbc-middle-east" in kinds and (tmp_path / "new.toml").read_text().startswith("# feeds.toml")


def test_a_value_that_would_not_load_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(MINE, encoding="utf-8")
    with pytest.raises(config.ConfigError):
        upsert_topic(path, {"name": "bad", "query": "x", "colour": "red"})
    assert path.read_text(encoding="utf-8") == MINE
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.toml"]  # no temporary left behind


def test_a_broken_feeds_toml_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text("[[topics]\nname=", encoding="utf-8")
    result = init(tmp_path, "--config", "feeds.toml")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "feeds.toml" in result.stderr


def test_example_feeds_toml_loads() -> None:
    loaded = config.load(ROOT / "feeds.toml")
    assert loaded.topics and {f.type for f in loaded.feeds} == {"rss"}
