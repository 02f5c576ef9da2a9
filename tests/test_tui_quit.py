"""Leaving the dashboard: q, Ctrl-C and SIGTERM stop the daemon it runs (its polls finish) and exit at
once, never by a timeout; a terminal is left as it was found; without a terminal it refuses."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.commands.dash import dashboard
from monitor.config import load
from storage.store import open_store
from tests.support.cli import clean_env, stored_keys, wait_for
from tests.support.dashboard import Harness, busy_store, db_url, until
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply, Seen
from tests.support.terminal import Terminal, left_clean

TIMED_OUT = "did not stop within"  # the fallback's log line: a quit must never end that way


class HeldFeed(logging.Handler):
    """An RSS feed whose response waits until the daemon says it is stopping: a poll in flight at quit."""

    def __init__(self, server: FixtureServer) -> None:
        super().__init__()
        self.answer = threading.Event()
        self.server = server
        server.routes["/held.xml"] = self._reply

    def _reply(self, _: Seen) -> Reply:
        self.answer.wait(60)
        return Reply(200, rss([("v1", "Volcano erupts near Grindavik")]), {"Content-Type": "application/rss+xml"})

    def emit(self, record: logging.LogRecord) -> None:
        if "polls in flight" in record.getMessage():
            self.answer.set()

    def in_flight(self) -> bool:
        return bool(self.server.requests_to("/held.xml"))

    def config(self, tmp_path: Path) -> Path:
        path = tmp_path / "feeds.toml"
        path.write_text(feeds_toml({"held": self.server.url("/held.xml")}, interval="1h"), encoding="utf-8")
        return path


@pytest.fixture
def held(server: FixtureServer) -> Iterator[HeldFeed]:
    feed = HeldFeed(server)
    daemon_log = logging.getLogger("monitor.daemon")
    daemon_log.addHandler(feed)
    yield feed
    daemon_log.removeHandler(feed)
    feed.answer.set()  # never leave the server's thread waiting


def daemon_logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


async def test_q_in_dash_exits_at_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """No daemon to stop: q exits without a "stopping" notice and without waiting for any timeout."""
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("q")
        await until(pilot, lambda: not h.app.is_running)
    assert h.app.return_code == 0
    assert not daemon_logged(caplog, TIMED_OUT)
    assert not any("stopping the daemon" in str(n.message) for n in h.app._notifications)


async def _quit_with_a_poll_in_flight(tmp_path: Path, held: HeldFeed, caplog: pytest.LogCaptureFixture,
                                      quit: str) -> None:
    """The `watch` dashboard (daemon in its loop) quit by `quit` ("q", "ctrl+c" or "sigterm") while a poll
    waits for its response (released when the daemon logs that it is stopping): the daemon finishes and
    stores that poll, and only then the app exits."""
    caplog.set_level(logging.INFO)
    config = load(held.config(tmp_path))
    with dashboard(config, daemon=True) as app:
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, held.in_flight)
            if quit == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                await pilot.press(quit)
            await until(pilot, lambda: not app.is_running)
    assert app.daemon_stopped and app.return_code == 0
    assert daemon_logged(caplog, "finishing 1 polls in flight")
    assert not daemon_logged(caplog, TIMED_OUT)
    assert stored_keys(tmp_path / "monitor.db") == [("held", "v1")]


async def test_q_stops_the_daemon_letting_its_poll_finish(tmp_path: Path, held: HeldFeed,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    await _quit_with_a_poll_in_flight(tmp_path, held, caplog, "q")


async def test_ctrl_c_quits_like_q(tmp_path: Path, held: HeldFeed, caplog: pytest.LogCaptureFixture) -> None:
    await _quit_with_a_poll_in_flight(tmp_path, held, caplog, "ctrl+c")


async def test_sigterm_quits_like_q(tmp_path: Path, held: HeldFeed, caplog: pytest.LogCaptureFixture) -> None:
    received: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda sig, _: received.append(sig))  # were the app not to take it
    try:
        await _quit_with_a_poll_in_flight(tmp_path, held, caplog, "sigterm")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert received == []


async def test_the_footer_says_ctrl_c_quits(tmp_path: Path) -> None:
    """Even at 80 columns, where the footer is cut."""
    h = Harness(tmp_path)
    async with h.app.run_test(size=(80, 24)) as pilot:
        await h.ready(pilot)
        quit_keys = [b.binding for b in h.app.screen.active_bindings.values() if b.binding.action == "app.quit"]
        assert [b.key_display for b in quit_keys if b.show] == ["q/^c"]

        def painted() -> str:
            return "".join(seg.text for strip in h.app.screen._compositor.render_strips() for seg in strip)

        await until(pilot, lambda: "q/^c Quit" in painted())  # the footer composes its keys after a refresh


# -- the real commands, in a real terminal ----------------------------------------------------------


def dash_config(tmp_path: Path) -> Path:
    busy_store(db_url(tmp_path))
    path = tmp_path / "feeds.toml"
    path.write_text(feeds_toml({"wire": "http://127.0.0.1:9/wire.xml"}, keywords=("quake",)), encoding="utf-8")
    return path


def test_sigterm_to_dash_restores_the_terminal(tmp_path: Path) -> None:
    config = dash_config(tmp_path)
    with Terminal("dash", "--config", str(config), cwd=tmp_path) as term:
        term.read_until(b"Stories")
        term.process.send_signal(signal.SIGTERM)
        assert term.wait() == 0
        assert left_clean(term.output)


def test_sigterm_to_watch_finishes_the_polls_in_flight(tmp_path: Path, held: HeldFeed) -> None:
    config = held.config(tmp_path)
    article = tmp_path / "article.txt"
    article.write_text("A volcano erupts near Grindavik.", encoding="utf-8")
    log = tmp_path / "monitor.log"
    with Terminal("watch", str(article), "--topic", "volcano", "--config", str(config), cwd=tmp_path) as term:
        term.read_until(b"Stories")
        wait_for(held.in_flight, what="a poll in flight")
        term.process.send_signal(signal.SIGTERM)
        wait_for(lambda: log.exists() and "finishing 1 polls in flight" in log.read_text(), what="the daemon stopping")
        held.answer.set()  # in another process: its log line cannot release the feed itself
        assert term.wait() == 0
        assert left_clean(term.output)
    assert stored_keys(tmp_path / "monitor.db") == [("held", "v1")]


@pytest.mark.parametrize("command", [["dash"], ["watch", "article.txt", "--topic", "volcano"], ["demo"]])
def test_without_a_terminal_the_dashboard_refuses(tmp_path: Path, command: list[str]) -> None:
    """`monitor dash </dev/null` in a terminal once spun at 100 % CPU: now one line and exit 2."""
    (tmp_path / "feeds.toml").write_text(feeds_toml({"wire": "http://127.0.0.1:9/wire.xml"}), encoding="utf-8")
    open_store(db_url(tmp_path)).close()
    with Terminal(*command, "--config", str(tmp_path / "feeds.toml"), cwd=tmp_path, stdin=subprocess.DEVNULL) as term:
        assert term.wait(timeout=60) == 2
    lines = term.output.decode().strip().splitlines()
    assert len(lines) == 1 and "needs a terminal" in lines[0], lines
    assert not (tmp_path / "monitor.log").exists()  # nothing started


def test_watch_with_the_article_on_stdin_says_to_give_a_file(tmp_path: Path) -> None:
    """Its keys would come from the article: one line that says what to do instead."""
    done = subprocess.run([sys.executable, "-m", "monitor.cli", "watch", "-", "--config", str(tmp_path / "feeds.toml")],
                          input="A volcano erupts near Grindavik.", capture_output=True, text=True, cwd=tmp_path,
                          env=clean_env(), timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "give the article as a file or URL" in done.stderr
    assert not (tmp_path / "feeds.toml").exists()  # nothing set up half-way


def test_the_dashboard_refuses_a_pipe_for_output(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(feeds_toml({"wire": "http://127.0.0.1:9/wire.xml"}), encoding="utf-8")
    open_store(db_url(tmp_path)).close()
    keyboard, terminal = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "monitor.cli", "dash", "--config", str(tmp_path / "feeds.toml")],
                              stdin=terminal, capture_output=True, text=True, cwd=tmp_path, env=clean_env(),
                              timeout=60, check=False)
    finally:
        os.close(keyboard)
        os.close(terminal)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "needs a terminal" in done.stderr
