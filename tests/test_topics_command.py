"""`monitor topics`: what each topic matches on, what it learned, and forgetting a learned term."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.cli import monitor
from tests.support.floods import CONFIDENT, FLOODS_TOML

CONFIG = f"""# my topics
{FLOODS_TOML}
# a plain topic: any of its keywords, nothing to learn
[[topics]]
name = "volcano"
keywords = ["Grindavik"]
"""
T0 = datetime(2013, 9, 12, 6, tzinfo=UTC)


def stream(tmp_path: Path, texts: list[str]) -> Path:
    path = tmp_path / "posts.jsonl"
    rows = [{"id": str(n), "source": "feed", "author": f"a{n}", "url": f"https://example.org/{n}", "text": text,
             "published": (T0 + timedelta(minutes=n)).isoformat()} for n, text in enumerate(texts)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_topics_show_weights_learned_terms_and_counts(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(CONFIG, encoding="utf-8")
    posts = stream(tmp_path, [*CONFIDENT, "Thinking of everyone tonight #COFlood"])
    assert monitor("ingest", str(posts), cwd=tmp_path).returncode == 0
    done = monitor("topics", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    floods, volcano = json.loads(done.stdout)
    assert floods["threshold"] == 1.0 and floods["weights"]["Lyons"] == 1.0
    (learned,) = [t for t in floods["learned"] if t["term"] == "#coflood"]
    assert learned["posts"] >= 5 and learned["since"].startswith("2013-09-12")
    assert floods["posts"] == len(CONFIDENT) + 1  # the last post matched through what was learned
    assert volcano["learn"] is False and volcano["learned"] == [] and volcano["posts"] == 0
    text = monitor("topics", cwd=tmp_path).stdout
    assert "#coflood" in text and "learned from the posts its own terms matched" in text


def test_forget_keeps_comments_and_the_term_is_not_learned_again(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = monitor("topics", "forget", "floods", "#coflood", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    edited = config.read_text(encoding="utf-8")
    assert "# my topics" in edited and "# made by hand" in edited and "# a plain topic" in edited
    posts = stream(tmp_path, [*CONFIDENT, "Thinking of everyone tonight #COFlood"])
    assert monitor("ingest", str(posts), cwd=tmp_path).returncode == 0
    (floods, _) = json.loads(monitor("topics", "--json", cwd=tmp_path).stdout)
    assert floods["forget"] == ["#coflood"] and "#coflood" not in {t["term"] for t in floods["learned"]}
    assert floods["posts"] == len(CONFIDENT)


def test_forget_an_unknown_topic_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(CONFIG, encoding="utf-8")
    done = monitor("topics", "forget", "nosuch", "#x", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "\"floods\", \"volcano\"" in done.stderr


def test_topics_before_the_first_run_show_the_config(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(CONFIG, encoding="utf-8")
    done = monitor("topics", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [t["posts"] for t in json.loads(done.stdout)] == [0, 0]
    assert not (tmp_path / "monitor.db").exists()  # a reader never creates the database


def test_query_preview_scores_with_the_topics_weights(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(CONFIG, encoding="utf-8")
    posts = stream(tmp_path, ["Flooding downtown, stay safe", "Boulder streets flooding again", "Lyons cut off"])
    assert monitor("ingest", str(posts), cwd=tmp_path).returncode == 0
    bare = json.loads(monitor("test-query", "flooding", "--json", cwd=tmp_path).stdout)
    scored = json.loads(monitor("test-query", "flooding", "--topic", "floods", "--json", cwd=tmp_path).stdout)
    # "flooding" alone weighs 0.5: the bare query finds both posts that say it (the store kept the
    # one where Boulder, 0.6, stands beside it); the topic's weights keep that one, and say why
    assert [p["text"] for p in bare] == ["Boulder streets flooding again"]
    assert [(p["text"], p["matched"], p["score"]) for p in scored] == [
        ("Boulder streets flooding again", ["Boulder", "flooding"], 1.1)]
