"""A real `monitor run` killed with SIGKILL mid-poll loses nothing it committed and duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.feeds import feeds_toml, rss
from tests.server import FixtureServer, Reply, Seen

FEEDS = 12
FIRST = 30
WINDOW = 400  # wide enough that a post served to a killed poll is served again after restart


class SlidingFeeds:
    """A feed starts with FIRST items and each request adds one; a response holds the newest WINDOW.

    Everything ever served is recorded, so the test can compare the database with it.
    """

    def __init__(self) -> None:
        self.served: set[tuple[str, str]] = set()
        self._counts = [0] * FEEDS
        self._lock = threading.Lock()

    def route(self, n: int) -> Callable[[Seen], Reply]:
        def reply(_: Seen) -> Reply:
            with self._lock:
                self._counts[n] += 1
                top = self._counts[n] + FIRST
                items = [(f"f{n}-{i}", f"Volcano update {i} from feed {n}") for i in range(max(0, top - WINDOW), top)]
                self.served.update((f"f{n}", guid) for guid, _ in items)
            return Reply(200, rss(items), {"Content-Type": "application/rss+xml"})

        return reply


def stored(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT source, post_id FROM posts").fetchall()


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=config.parent,
    )


def count(db: Path) -> int:
    try:
        return len(stored(db))
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("kills", [int(os.environ.get("MONITOR_CRASH_KILLS", "3"))])
def test_sigkill_mid_poll_then_restart_keeps_every_post_exactly_once(
    tmp_path: Path, server: FixtureServer, kills: int
) -> None:
    feeds = SlidingFeeds()
    for n in range(FEEDS):
        server.routes[f"/f{n}"] = feeds.route(n)
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({f"f{n}": server.url(f"/f{n}") for n in range(FEEDS)}, interval="1s"))
    db = tmp_path / "monitor.db"

    for round_ in range(kills):
        before = count(db)
        daemon = start(config)
        wait_for(lambda b=before: count(db) > b + FEEDS)
        committed = set(stored(db))
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        assert set(stored(db)) >= committed, f"round {round_}: committed posts vanished"

    once = subprocess.run([sys.executable, "-m", "monitor.cli", "run", "--once", "--config", str(config)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert once.returncode == 0, once.stderr[-500:]
    rows = stored(db)
    assert len(rows) == len(set(rows)), "no post is stored twice"
    assert feeds.served <= set(rows), f"{len(feeds.served - set(rows))} served posts were lost"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
