"""SIGKILL during a stream: every post committed before the kill is still there, and the next start
resumes from the stored cursor, so the stream ends up stored whole, each matched post once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from storage.errors import NoDatabaseYet
from storage.store import open_store
from tests.support import jetstream as js
from tests.support.cli import wait_for
from tests.support.server import FixtureServer
from tests.support.streams import profiles_route

T0 = 1_747_670_000_000_000
WORD = re.compile(r"\bredistricting\b", re.IGNORECASE)
MONITOR = Path(sys.executable).parent / "monitor"


def start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(MONITOR), "run", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def stored_ids(url: str) -> list[str]:
    try:
        with open_store(url, readonly=True) as store:
            return [sp.post.id for sp in store.posts()]
    except NoDatabaseYet:  # the daemon has not made it yet
        return []


def cursor(url: str) -> str:
    with open_store(url, readonly=True) as store:
        return store.feed_state("bsky-live").cursor.get("time_us", "")


def test_sigkill_mid_stream_loses_no_committed_post_and_the_restart_fills_the_rest(
    tmp_path: Path, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = js.many(views, 1200, T0, 100_000)
    wanted = {f"{v['uri']}n{n}" for n, v in ((n, views[n % len(views)]) for n in range(1200))
              if WORD.search(v["record"]["text"])}
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    with js.Jetstream(frames[:800], pace=0.004) as jet:
        config = tmp_path / "feeds.toml"
        config.write_text(f"""
[storage]
url = "{db}"
[[topics]]
name = "redistricting"
keywords = ["redistricting"]
[[feeds]]
name = "bsky-live"
type = "bluesky-stream"
base_url = "{jet.url}"
profiles_url = "{server.base}"
""")
        daemon = start(config)
        try:
            wait_for(lambda: len(stored_ids(db)) >= 40, 60, "posts stored")
            committed = set(stored_ids(db))
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(10)
        finally:
            daemon.kill()
        assert jet.connections[0].sent < 800, "killed mid-stream"
        after = stored_ids(db)
        assert committed <= set(after), "a committed post survives the kill"
        assert len(after) == len(set(after))

        jet.add(frames[800:])
        again = start(config)
        try:
            wait_for(lambda: cursor(db) == str(frames[-1].time_us), 60, "the whole stream stored")
            again.send_signal(signal.SIGTERM)
            assert again.wait(30) == 0
        finally:
            again.kill()
    resumed = int(jet.connections[1].query["cursor"])
    assert resumed < frames[jet.connections[0].sent - 1].time_us, "the restart resumes from the stored cursor"
    final = stored_ids(db)
    assert len(final) == len(set(final)) and set(final) == wanted, "no gap, no duplicate"
