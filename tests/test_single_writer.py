"""One writer per SQLite database: a second `monitor run` refuses cleanly, and a SIGKILLed daemon's
lock does not block the next start. Real subprocesses, a real database file."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.cli import monitor, start_daemon, wait_for
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply


def run(*argv: str, config: Path) -> subprocess.CompletedProcess[str]:
    return monitor(*argv, "--config", str(config), cwd=config.parent)


def polled(server: FixtureServer, times: int) -> Callable[[], bool]:
    return lambda: len(server.requests_to("/feed")) >= times


def holds_lock(db: Path, daemon: subprocess.Popen[bytes]) -> Callable[[], bool]:
    lock = db.with_name(db.name + ".lock")
    return lambda: lock.exists() and lock.read_text() == f"{daemon.pid} monitor run\n"


def test_a_second_writer_refuses_and_a_killed_ones_lock_is_not_stale(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, rss([("a", "Volcano near Grindavik")]), {"Content-Type": "application/rss+xml"})
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"f": server.url("/feed")}, interval="1s"))
    db = tmp_path / "monitor.db"

    first = start_daemon(config)
    try:
        wait_for(holds_lock(db, first), what="the first daemon holds the lock")
        wait_for(polled(server, 1), what="a first poll")
        before = db.read_bytes()
        for argv in (("run",), ("run", "--once"), ("ingest", str(tmp_path / "none.jsonl"))):
            if argv[0] == "ingest":
                (tmp_path / "none.jsonl").write_text('{"id": "z", "text": "volcano", "published": 0}\n')
            second = run(*argv, config=config)
            lines = second.stderr.splitlines()
            assert second.returncode == 2, second.stderr
            assert len(lines) == 1 and f"`monitor run` (pid {first.pid}) is already writing" in lines[0], second.stderr
        assert first.poll() is None, "the refused second writer did not disturb the first"
        assert run("status", config=config).returncode == 0, "readers are welcome while the daemon writes"
        assert len(before) > 0
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    third = start_daemon(config)
    try:
        wait_for(holds_lock(db, third), what="the restarted daemon holds the lock")
        seen = len(server.requests_to("/feed"))
        wait_for(polled(server, seen + 2), what="two more polls")
        assert third.poll() is None
    finally:
        third.send_signal(signal.SIGTERM)
        _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err.decode(errors="replace")[-1000:]
