"""One writer per SQLite database: a second `monitor run` refuses cleanly, and a SIGKILLed daemon's
lock does not block the next start. Real subprocesses, a real database file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.feeds import feeds_toml, rss
from tests.server import FixtureServer, Reply

ROOT = Path(__file__).resolve().parents[1]
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}, "PYTHONPATH": str(ROOT)}


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, cwd=config.parent)


def run(*argv: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *argv, "--config", str(config)], check=False,
                          capture_output=True, text=True, env=ENV, cwd=config.parent, timeout=120)


def polled(server: FixtureServer, times: int) -> Callable[[], bool]:
    return lambda: len(server.requests_to("/feed")) >= times


def holds_lock(db: Path, daemon: subprocess.Popen[bytes]) -> Callable[[], bool]:
    lock = db.with_name(db.name + ".lock")
    return lambda: lock.exists() and lock.read_text().strip() == str(daemon.pid)


def test_a_second_writer_refuses_and_a_killed_ones_lock_is_not_stale(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, rss([("a", "Volcano near Grindavik")]), {"Content-Type": "application/rss+xml"})
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"f": server.url("/feed")}, interval="1s"))
    db = tmp_path / "monitor.db"

    first = start(config)
    try:
        wait_for(holds_lock(db, first))
        wait_for(polled(server, 1))
        before = db.read_bytes()
        for argv in (("run",), ("run", "--once"), ("ingest", str(tmp_path / "none.jsonl"))):
            if argv[0] == "ingest":
                (tmp_path / "none.jsonl").write_text('{"id": "z", "text": "volcano", "published": 0}\n')
            second = run(*argv, config=config)
            lines = second.stderr.splitlines()
            assert second.returncode == 2, second.stderr
            assert len(lines) == 1 and "already writing" in lines[0] and str(first.pid) in lines[0], second.stderr
        assert first.poll() is None, "the refused second writer did not disturb the first"
        assert run("status", config=config).returncode == 0, "readers are welcome while the daemon writes"
        assert len(before) > 0
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    third = start(config)
    try:
        wait_for(holds_lock(db, third))
        seen = len(server.requests_to("/feed"))
        wait_for(polled(server, seen + 2))
        assert third.poll() is None
    finally:
        third.send_signal(signal.SIGTERM)
        _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err.decode(errors="replace")[-1000:]
