"""Edits take effect without a restart: the daemon reloads feeds.toml when it changes (and on SIGHUP),
applies added, removed and changed feeds and topics, and keeps its config when an edit is broken."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import pytest

from monitor.config import parse
from monitor.configchange import changes
from tests.support import daemon_world
from tests.support.cli import monitor, start_daemon, wait_for
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply

world = daemon_world.world

RSS = {"Content-Type": "application/rss+xml"}
VOLCANO = rss([("v1", "Volcano near Grindavik erupts"), ("q1", "A tremor shook the valley")])
MORE = rss([("v1", "Volcano near Grindavik erupts"), ("q1", "A tremor shook the valley"),
            ("q2", "Another tremor felt in town")])


def _serve(server: FixtureServer, *paths: str) -> None:
    for path in paths:
        server.routes[path] = Reply(200, VOLCANO, RSS)


def _reloaded(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "feeds.toml" in r.getMessage() and r.name == "monitor.daemon"]


async def test_a_feed_added_while_the_daemon_runs_is_polled_at_the_next_tick(
        world, server: FixtureServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _serve(server, "/a", "/b")
    w = world({"a": "/a"})
    await w.poll_due()
    added = monitor("feeds", "add", server.url("/b"), "--name", "b", "--config", str(w.config_path), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    checked = len(server.requests_to("/b"))  # `feeds add` looked at it once
    await w.poll_due()  # one tick
    assert len(server.requests_to("/b")) == checked + 1
    assert len(server.requests_to("/a")) == 1, "a was not due"
    assert sorted(p.post.source for p in w.store.posts()) == ["a", "b"]
    assert _reloaded(caplog) == [f"reloaded {w.config_path}: +1 feed (b)"]


async def test_a_broken_edit_is_one_line_and_the_old_config_keeps_running(
        world, server: FixtureServer, caplog: pytest.LogCaptureFixture) -> None:
    _serve(server, "/a", "/c")
    w = world({"a": "/a"})
    await w.poll_due()
    good = w.config_path.read_text()
    w.config_path.write_text(good.replace("[[feeds]]", "[[feeds]", 1))
    for _ in range(3):
        w.advance(6 * 60)
        await w.poll_due()
    assert len(server.requests_to("/a")) == 4, "still polled on the old config"
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "feeds.toml not reloaded" in warning.getMessage() and "not valid TOML" in warning.getMessage()
    assert "previous config" in warning.getMessage() and "\n" not in warning.getMessage()
    w.config_path.write_text(good + f'[[feeds]]\nname = "c"\nurl = "{server.url("/c")}"\n')
    await w.poll_due()
    assert len(server.requests_to("/c")) == 1


async def test_a_removed_feed_is_no_longer_polled_and_its_posts_stay(world, server: FixtureServer) -> None:
    _serve(server, "/a", "/b")
    w = world({"a": "/a", "b": "/b"})
    await w.poll_due()
    w.config_path.write_text(feeds_toml({"a": server.url("/a")}))
    w.advance(6 * 60)
    await w.poll_due()
    assert (len(server.requests_to("/a")), len(server.requests_to("/b"))) == (2, 1)
    assert {p.post.source for p in w.store.posts()} == {"a", "b"}


async def test_a_feed_that_now_reads_another_url_starts_afresh(world, server: FixtureServer) -> None:
    """The old address's ETag means nothing to the new one: the new URL is asked unconditionally, now."""
    server.routes["/old"] = Reply(200, VOLCANO, {**RSS, "ETag": '"old-1"'})
    _serve(server, "/new")
    w = world({"a": "/old"})
    await w.poll_due()
    w.config_path.write_text(feeds_toml({"a": server.url("/new")}))
    await w.poll_due()
    (seen,) = server.requests_to("/new")
    assert "if-none-match" not in seen.headers
    assert w.state("a").etag is None


async def test_a_new_interval_applies_from_the_next_poll(world, server: FixtureServer) -> None:
    _serve(server, "/a")
    w = world({"a": "/a"})
    await w.poll_due()
    w.config_path.write_text(feeds_toml({"a": server.url("/a")}, interval="1h"))
    w.advance(6 * 60)
    await w.poll_due()  # due under the old interval: polled, and next due an hour later
    w.advance(30 * 60)
    await w.poll_due()
    assert len(server.requests_to("/a")) == 2


async def test_a_new_topic_matches_from_the_next_poll(world, server: FixtureServer) -> None:
    body = [VOLCANO]
    server.routes["/a"] = lambda seen: Reply(200, body[0], RSS)
    w = world({"a": "/a"})
    await w.poll_due()
    assert [p.post.id for p in w.store.posts()] == ["v1"]
    w.config_path.write_text(w.config_path.read_text() + '[[topics]]\nname = "quake"\nkeywords = ["tremor"]\n')
    body[0] = MORE
    w.advance(6 * 60)
    await w.poll_due()
    assert sorted(p.post.id for p in w.store.posts(topic="quake")) == ["q1", "q2"]
    assert [p.post.id for p in w.store.posts(topic="volcano")] == ["v1"]


def test_changes_tell_added_removed_readdressed_retimed_and_topics(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    before = feeds_toml({"a": "https://a.example/", "b": "https://b.example/", "c": "https://c.example/"})
    after = feeds_toml({"a": "https://a.example/", "b": "https://b2.example/", "d": "https://d.example/"},
                       keywords=("volcano",))
    after = after.replace('url = "https://a.example/"\ninterval = "5m"', 'url = "https://a.example/"\ninterval = "1h"')
    change = changes(parse(before, path), parse(after, path))
    assert [f.name for f in change.added] == ["d"] and change.removed == ("c",)
    assert [f.name for f in change.readdressed] == ["b"] and [f.name for f in change.retimed] == ["a"]
    assert change.topics and not change.storage
    assert change.summary() == ("+1 feed (d); -1 feed (c); changed 1 feed (b); new interval for 1 feed (a); "
                                "topics changed")
    assert not changes(parse(before, path), parse("# only a comment\n" + before, path))


def test_monitor_run_follows_feeds_add_sighup_and_survives_a_broken_edit(tmp_path: Path, server: FixtureServer) -> None:
    """The real daemon: `feeds add` beside it is polled; SIGHUP reloads an edit its mtime hides; a broken
    edit is one line on stderr and the daemon goes on."""
    _serve(server, "/a", "/b", "/c")
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"a": server.url("/a")}))
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        daemon = start_daemon(config, stderr=stderr)
        try:
            wait_for(lambda: server.requests_to("/a"), what="a first poll")
            assert monitor("feeds", "add", server.url("/b"), "--config", str(config), cwd=tmp_path).returncode == 0
            wait_for(lambda: server.requests_to("/b"), what="the added feed polled")
            _edit_unseen(config, "/b", "/c")  # same size, same inode, same mtime: only SIGHUP tells
            daemon.send_signal(signal.SIGHUP)
            wait_for(lambda: server.requests_to("/c"), what="the edit applied on SIGHUP")
            config.write_text(config.read_text() + "[[feeds]\n")
            wait_for(lambda: "not reloaded" in log.read_text(), what="the broken edit logged")
            assert daemon.poll() is None, "the daemon goes on"
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0
    broken = [line for line in log.read_text().splitlines() if "not reloaded" in line]
    assert len(broken) == 1 and "Traceback" not in log.read_text()


def _edit_unseen(path: Path, old: str, new: str) -> None:
    stat = path.stat()
    with path.open("r+") as f:
        text = f.read().replace(old, new)
        f.seek(0)
        f.write(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
