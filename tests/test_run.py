"""`monitor run` as a user runs it (real subprocesses, a real database file, a real server on 127.0.0.1):
what `--once` says, what the store says after, what the log says, and configurations it refuses."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import logs
from tests.support.cli import clean_env, monitor, start_daemon, wait_for
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply

VOLCANO = rss([("v1", "Volcano near Grindavik erupts"), ("v2", "Grindavik evacuated"), ("x1", "Bakery news")])


def run(*argv: str, config: Path) -> subprocess.CompletedProcess[str]:
    return monitor(*argv, "--config", str(config), cwd=config.parent)


@pytest.fixture
def two_feeds(tmp_path: Path, server: FixtureServer) -> Path:
    """A good feed (two volcano items and one about a bakery) and one that answers 500."""
    server.routes["/good"] = Reply(200, VOLCANO, {"Content-Type": "application/rss+xml"})
    server.routes["/bad"] = Reply(500, b"oops")
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"good": server.url("/good"), "bad": server.url("/bad")}))
    return config


def status(config: Path) -> dict[str, object]:
    shown = run("status", "--json", config=config)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)  # type: ignore[no-any-return]


def feed_of(shown: dict[str, object], name: str) -> dict[str, object]:
    feeds = shown["feeds"]
    assert isinstance(feeds, list)
    return next(f for f in feeds if f["name"] == name)


def test_once_ends_with_one_summary_line(two_feeds: Path) -> None:
    """issue 10.22: `run --once` ended silently."""
    done = run("run", "--once", config=two_feeds)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["polled 2 feeds: 3 new posts, 2 new matches, 1 failing (bad)"]
    again = run("run", "--once", config=two_feeds)
    assert again.stdout.splitlines() == ["polled 2 feeds: 0 new posts, 0 new matches, 1 failing (bad)"]


def test_once_names_the_streams_it_leaves_out_and_never_connects_to_them(two_feeds: Path) -> None:
    """A stream has no "once": `run --once` polls the rest and says which streams only `monitor run` reads."""
    with two_feeds.open("a", encoding="utf-8") as toml:  # nothing listens on port 9: a connection would fail
        toml.write('\n[[feeds]]\nname = "bsky-live"\ntype = "bluesky-stream"\nbase_url = "ws://127.0.0.1:9"\n')
    done = run("run", "--once", config=two_feeds)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["polled 2 feeds: 3 new posts, 2 new matches, 1 failing (bad); "
                                        "streams left out (bsky-live): `monitor run` reads them"]
    assert feed_of(status(two_feeds), "bsky-live")["last_error"] is None


def test_status_says_the_daemon_stopped_as_soon_as_run_once_exits(two_feeds: Path) -> None:
    """issue 10.7: status said "daemon running" for 15 s after the daemon exited."""
    assert run("run", "--once", config=two_feeds).returncode == 0
    daemon = status(two_feeds)["daemon"]
    assert isinstance(daemon, dict) and daemon["alive"] is False
    assert "no daemon running (last seen" in run("status", config=two_feeds).stdout


def test_a_stopped_daemon_says_so_and_a_running_one_is_alive(two_feeds: Path, server: FixtureServer) -> None:
    """issue 10.7: also after SIGTERM to `monitor run`."""
    daemon = start_daemon(two_feeds)
    try:
        wait_for(lambda: len(server.requests_to("/good")) >= 1, what="a first poll")
        wait_for(lambda: (status(two_feeds)["daemon"] or {}).get("alive") is True, what="status sees it alive")
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    shown = status(two_feeds)["daemon"]
    assert isinstance(shown, dict) and shown["alive"] is False and shown["pid"] == daemon.pid


def test_feeds_retry_clears_a_backoff(two_feeds: Path) -> None:
    """issue 10.11: `monitor feeds retry NAME` clears a backoff by hand."""
    assert run("run", "--once", config=two_feeds).returncode == 0
    bad = feed_of(status(two_feeds), "bad")
    assert bad["errors"] == 1 and bad["next_check"] is not None
    retried = run("feeds", "retry", "bad", config=two_feeds)
    assert retried.returncode == 0 and retried.stdout.strip() == "bad: backoff cleared; due now", retried.stderr
    after = feed_of(status(two_feeds), "bad")
    assert after["errors"] == 0 and str(after["next_check"]) < str(bad["next_check"])
    assert after["last_error"] == bad["last_error"], "the last error stays shown until the next poll"


def test_feeds_retry_names_the_feeds_there_are(two_feeds: Path) -> None:
    refused = run("feeds", "retry", "nosuch", config=two_feeds)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [f'monitor: no feed named "nosuch" in {two_feeds} (feeds: good, bad)']


@pytest.mark.parametrize(("toml", "expected"), [
    # issue 10.1: an interval the scheduler cannot add to a datetime crashed `run` with OverflowError
    ('[[topics]]\nname = "t"\nquery = "*"\n[[feeds]]\nname = "a"\nurl = "http://127.0.0.1:9/"\n'
     'interval = "100000000h"\n', 'key "interval": \'100000000h\' is longer than 30 days'),
    # issue 10.18: a bad query was caught only when polling, without the file's name
    ('[[topics]]\nname = "t"\nquery = "(Hamas OR"\n[[feeds]]\nname = "a"\nurl = "http://127.0.0.1:9/"\n',
     '[[topics]] "t": key "query": column 10'),
    # issue 10.18: an empty feeds.toml ran, polled nothing and said nothing
    ("", "no [[feeds]] to poll"),
    ('[[feeds]]\nname = "a"\nurl = "http://127.0.0.1:9/"\n', "no [[topics]]"),
])
def test_a_bad_config_is_one_line_naming_the_file_and_nothing_is_stored(
    tmp_path: Path, toml: str, expected: str
) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(toml)
    refused = run("run", "--once", config=config)
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"monitor: {config}: ") and expected in line, line
    assert not (tmp_path / "monitor.db").exists()


def test_a_pasted_token_is_refused_and_never_repeated(tmp_path: Path) -> None:
    """issue 10.12: `token_env = "<the token>"` was logged, stored as last_error and shown by status."""
    token = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz"
    config = tmp_path / "feeds.toml"
    config.write_text(f'[[topics]]\nname = "t"\nquery = "*"\n[[feeds]]\nname = "x"\ntype = "x"\ntopic = "t"\n'
                      f'token_env = "{token}"\n')
    for argv in (("run", "--once"), ("status",), ("status", "--json")):
        refused = run(*argv, config=config)
        assert refused.returncode == 2 and 'key "token_env"' in refused.stderr
        assert token[:6] not in refused.stderr + refused.stdout
    assert not (tmp_path / "monitor.db").exists()


def test_the_daemon_logs_one_line_per_poll_and_no_scheduler_chatter(tmp_path: Path, server: FixtureServer) -> None:
    """issue 10.13: APScheduler logged ~2.5 INFO lines a second ("Running job Daemon.tick ...")."""
    server.routes["/good"] = Reply(200, VOLCANO, {"Content-Type": "application/rss+xml"})
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"good": server.url("/good")}, interval="1s"))
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        daemon = start_daemon(config, stderr=stderr)
        try:
            wait_for(lambda: len(server.requests_to("/good")) >= 3, what="three polls")
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0
    lines = log.read_text().splitlines()
    polls = [line for line in lines if " poll good " in line]
    assert len(polls) == len(server.requests_to("/good")), lines
    assert all(" INFO poll good status=" in line for line in polls)
    assert not [line for line in lines if "apscheduler" in line.lower() or "Running job" in line], lines


def test_the_dashboards_log_file_is_rotated(tmp_path: Path) -> None:
    """issue 10.13: `watch` wrote 25-30 MB a day to monitor.log, never rotated."""
    path = tmp_path / "monitor.log"
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        logs.to_file(path, max_bytes=2000, backups=2)
        for n in range(200):
            logging.getLogger("monitor.daemon").info("poll feed-%d status=200 new=0 ms=12", n)
        logging.getLogger("apscheduler.executors.default").info("Running job tick")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["monitor.log", "monitor.log.1", "monitor.log.2"]
    assert all((tmp_path / name).stat().st_size <= 2000 for name in files)
    assert "poll feed-199" in path.read_text() and "Running job" not in path.read_text()


def test_once_over_unchanged_feeds_never_loads_the_pipeline(two_feeds: Path) -> None:
    """issue 17: a warm `run --once` spent most of its time loading the text models of a pipeline
    that had nothing to do; it loads them only for a poll that brings posts (the first run does)."""
    script = ("import sys; from monitor.cli import main; code = main(sys.argv[1:]); "
              "print('pipeline' if 'monitor.pipeline' in sys.modules else 'no pipeline'); sys.exit(code)")

    def once() -> list[str]:
        done = subprocess.run([sys.executable, "-c", script, "run", "--once", "--config", str(two_feeds)],
                              cwd=two_feeds.parent, env=clean_env(), capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert once() == ["polled 2 feeds: 3 new posts, 2 new matches, 1 failing (bad)", "pipeline"]
    assert once() == ["polled 2 feeds: 0 new posts, 0 new matches, 1 failing (bad)", "no pipeline"]
    assert feed_of(status(two_feeds), "good")["last_status"] == 200
