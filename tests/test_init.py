"""`monitor init`: one topic per name, comments kept, a new feeds.toml that loads, never half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
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


def test_init_again_on_the_same_article_changes_no_byte(tmp_path: Path) -> None:
    """Every comment survives, the default "# Middle East news desks (RSS)." line after
    [topics.weights] too (tomlkit holds it as the tail of that table)."""
    assert init(tmp_path, "--config", "feeds.toml").returncode == 0
    first = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    assert "[topics.weights]" in first and "# Middle East news desks (RSS).\n[[feeds]]" in first
    again = init(tmp_path, "--config", "feeds.toml")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "feeds.toml").read_text(encoding="utf-8") == first


def test_a_comment_after_a_users_topic_stays_before_the_next_table(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(MINE.replace("\n[[feeds]]", "\n# the feeds\n[[feeds]]"), encoding="utf-8")
    assert init(tmp_path, "--topic", "volcano", "--config", "feeds.toml").returncode == 0
    text = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    assert "# the feeds\n[[feeds]]" in text
    assert 'name = "volcano"   # the first one' in text and "keywords" not in text
    assert config.load(tmp_path / "feeds.toml").topics[0].weights


def test_init_keeps_the_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(MINE, encoding="utf-8")
    path.chmod(0o644)
    assert init(tmp_path, "--config", "feeds.toml").returncode == 0
    assert path.stat().st_mode & 0o7777 == 0o644
    path.chmod(0o640)
    assert init(tmp_path, "--config", "feeds.toml").returncode == 0
    assert path.stat().st_mode & 0o7777 == 0o640


def test_a_new_feeds_toml_gets_the_usual_mode_not_a_temporary_files(tmp_path: Path) -> None:
    assert init(tmp_path, "--config", "feeds.toml").returncode == 0
    assert (tmp_path / "feeds.toml").stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_init_writes_through_a_symlinked_feeds_toml(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "feeds.toml"
    real.parent.mkdir()
    real.write_text(MINE, encoding="utf-8")
    link = tmp_path / "feeds.toml"
    link.symlink_to(real)
    assert init(tmp_path, "--config", "feeds.toml").returncode == 0
    assert link.is_symlink() and link.resolve() == real
    assert "[topics.weights]" in real.read_text(encoding="utf-8")
    assert sorted(p.name for p in real.parent.iterdir()) == ["feeds.toml"]


def test_init_where_nothing_can_be_written_keeps_the_old_file(tmp_path: Path) -> None:
    place = tmp_path / "locked"
    place.mkdir()
    (place / "feeds.toml").write_text(MINE, encoding="utf-8")
    with unwritable(place):
        result = init(place.parent, "--config", str(place / "feeds.toml"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert "feeds.toml" in result.stderr and "kept" in result.stderr, result.stderr
    assert (place / "feeds.toml").read_text(encoding="utf-8") == MINE
    assert sorted(p.name for p in place.iterdir()) == ["feeds.toml"]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def unwritable(place: Path) -> Iterator[None]:
    """A directory no one can write in: chmod for a user, the immutable attribute for root
    (who writes whatever the mode); skip where neither holds."""
    if os.geteuid() != 0:
        place.chmod(0o555)
        try:
            yield
        finally:
            place.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(place)], check=False).returncode:
        pytest.skip("root, and this file system has no immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(place)], check=True)
