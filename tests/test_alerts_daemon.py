"""Alerts through the daemon: a replayed stream over a real socket, a SIGKILL between commit and send,
and Apprise URLs (which hold tokens) kept out of logs, status, errors and the database."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import threading
import uuid
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

from monitor.storyreads import stories_at
from tests.support import daemon_world
from tests.support.cli import clean_env, monitor, start_daemon, wait_for
from tests.support.feeds import T0
from tests.support.leaks import assert_token_kept_out
from tests.support.server import FixtureServer, Reply, Seen

world = daemon_world.world

WRITE_STDIN = "import sys; open(sys.argv[1], 'ab').write(sys.stdin.buffer.read() + b'\\n')"


def rss_of(items: list[tuple[str, str, datetime]]) -> bytes:
    body = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid><title>{escape(text)}</title><description>{escape(text)}'
        f"</description><link>https://news.example/{guid}</link><pubDate>{format_datetime(when)}</pubDate></item>"
        for guid, text, when in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title><link>https://news.example/</link>'
            f"<description>d</description>{body}</channel></rss>").encode()


BRIDGE = "Port Alder bridge closed after cracks found in the main span, report {}"
VOLCANO = "Volcano near Grindavik erupts again and lava reaches the coast road, report {}"
FERRY = "Summer ferry timetable for the islands published by the harbour office, note {}"


def recorded_stream() -> list[tuple[str, str, datetime]]:
    """Ninety minutes of a wire: two bursts (a bridge at minute 40, a volcano at 70) over a quiet ferry story."""
    items = [(f"f{m}", FERRY.format(m), T0 + timedelta(minutes=m)) for m in range(0, 90, 20)]
    items += [(f"b{m}", BRIDGE.format(m), T0 + timedelta(minutes=m)) for m in range(40, 48)]
    items += [(f"v{m}", VOLCANO.format(m), T0 + timedelta(minutes=m)) for m in range(70, 77)]
    return items


async def test_a_spike_in_a_replayed_stream_alerts_once_per_rule_and_story(world, server: FixtureServer,
                                                                           tmp_path: Path) -> None:
    stream = recorded_stream()
    clock: list[datetime] = []
    server.routes["/wire"] = lambda seen: Reply(200, rss_of([i for i in stream if i[2] <= clock[0]]))
    server.routes["/hook"] = Reply(200, b"ok")
    got = tmp_path / "got.jsonl"
    w = world(toml=f"""
[[topics]]
name = "news"
keywords = ["bridge", "volcano", "ferry"]

[[feeds]]
name = "wire"
url = "{server.url('/wire')}"
interval = "30s"

[[alerts]]
name = "webhook"
on = ["spike"]
notify = "{server.url('/hook').replace('http://', 'json://')}"

[[alerts]]
name = "script"
on = ["spike"]
exec = {json.dumps([sys.executable, "-c", WRITE_STDIN, str(got)])}
""")
    clock.append(w.now[0])
    spiking: Counter[int] = Counter()  # polls after which each story read as spiking
    for _ in range(90):  # a poll a minute, the sender after each
        w.advance(60)
        clock[0] = w.now[0]
        await w.poll_due()
        await w.daemon.send_alerts()
        spiking.update(s.id for s in stories_at(w.store, w.now[0], topic="news") if s.spike)

    outbox = sorted((a.rule, a.event, a.story) for a in w.store.recent_alerts())
    stories = sorted({story for _, _, story in outbox if story is not None})
    assert outbox == sorted((r, "spike", s) for r in ("script", "webhook") for s in stories), "one per rule and story"
    assert sorted(spiking) == stories, "two bursts spiked (the quiet ferry story never did), each alerted on"
    assert min(spiking.values()) >= 3, f"each spike lasted several polls, and still alerted once: {spiking}"

    hooked = [json.loads(s.body) for s in server.requests_to("/hook")]
    scripted = [json.loads(line) for line in got.read_text().splitlines()]
    assert [h["title"] for h in hooked] == ["monitor: a story in news is spiking"] * 2
    assert ["Port Alder bridge" in hooked[0]["message"], "Grindavik" in hooked[1]["message"]] == [True, True]
    assert [(a["event"], a["rule"]) for a in scripted] == [("spike", "script")] * 2
    assert len({a["story"]["id"] for a in scripted}) == 2, "one alert per story"
    assert scripted[0]["story"]["spike"].startswith("5 posts in 10 min")


# -- a crash between the commit and the send ---------------------------------------------------------------


def just_now(n: int) -> list[tuple[str, str, datetime]]:
    """`n` bridge reports of the last few minutes (a daemon on the real clock closes older stories at once)."""
    start = datetime.now(UTC) - timedelta(minutes=n + 1)
    return [(f"b{i}", BRIDGE.format(i), start + timedelta(minutes=i)) for i in range(n)]


def bridge_news(tmp_path: Path, server: FixtureServer, feed_keys: str, alerts: str) -> Path:
    """feeds.toml: topic "news" on bridges, the server's /wire feed (with `feed_keys`), then `alerts`."""
    config = tmp_path / "feeds.toml"
    config.write_text(f'[[topics]]\nname = "news"\nkeywords = ["bridge"]\n\n'
                      f'[[feeds]]\nname = "wire"\nurl = "{server.url("/wire")}"\n{feed_keys}\n{alerts}')
    return config


def outbox_rows(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return list(conn.execute("SELECT event, state FROM alerts ORDER BY id"))


def test_sigkill_between_commit_and_send_loses_nothing_and_sends_nothing_twice(tmp_path: Path,
                                                                               server: FixtureServer) -> None:
    server.routes["/wire"] = Reply(200, rss_of(just_now(3)))
    release = threading.Event()
    taken: list[Seen] = []

    def hook(seen: Seen) -> Reply:
        if not release.is_set():  # the first daemon's send hangs here until it is killed
            release.wait(30)
            return Reply(503, b"")
        taken.append(seen)
        return Reply(200, b"ok")

    server.routes["/hook"] = hook
    config = bridge_news(tmp_path, server, 'interval = "1h"', f"""
[[alerts]]
name = "phone"
on = ["new_story"]
notify = "{server.url('/hook').replace('http://', 'json://')}"
""")
    db = tmp_path / "monitor.db"
    daemon = start_daemon(config)
    try:
        wait_for(lambda: len(server.requests_to("/hook")) == 1, what="the first daemon sending the alert")
        assert outbox_rows(db) == [("new_story", "pending")], "committed with the story, not yet sent"
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(30)
    finally:
        release.set()
        daemon.kill()

    for _ in range(2):  # the restart sends what was pending; the next start finds nothing to send
        before = daemon_row(db)
        daemon = start_daemon(config)
        try:
            wait_for(lambda: outbox_rows(db) == [("new_story", "sent")], what="the alert marked sent")
            wait_for(partial(ran_a_while, before, db), what="the new daemon running a few sender passes")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    assert len(taken) == 1, "taken once, after the restart, and never again"
    assert json.loads(taken[0].body)["title"] == "monitor: new story in news"


def daemon_row(db: Path) -> tuple[str, str] | None:
    """(started, last beat) of the daemon that last ran on `db`."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT started, beat FROM daemon").fetchone()


def ran_a_while(before: tuple[str, str] | None, db: Path) -> bool:
    """Another daemon than `before` has beaten once after starting (5 s: two passes of its sender)."""
    now = daemon_row(db)
    return now is not None and (before is None or now[0] != before[0]) and now[1] > now[0]


# -- tokens in Apprise URLs ------------------------------------------------------------------------------------


def test_a_token_in_an_apprise_url_stays_out_of_logs_status_errors_and_the_database(tmp_path: Path,
                                                                                   server: FixtureServer) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    server.routes["/wire"] = Reply(200, rss_of(just_now(3)))
    echo = lambda seen: Reply(500, f"bad token {seen.path} {seen.headers.get('authorization')}".encode(),  # noqa: E731
                              {"Retry-After": f"not {seen.path}"})  # a garbage Retry-After quoting the token
    server.routes[f"/hook/{token}"] = echo
    url = f"json://user:{token}@{server.url('/hook/' + token).removeprefix('http://')}?secret={token}"
    config = bridge_news(tmp_path, server, "", f"""
[[alerts]]
name = "inline"
on = ["new_story", "match"]
notify = "{url}"

[[alerts]]
name = "from-env"
on = ["new_story"]
notify_env = "MONITOR_TEST_ALERT_URL"
""")
    env = clean_env(MONITOR_TEST_ALERT_URL=url)
    outputs: dict[str, bytes] = {}
    done = monitor("run", "--once", "-v", "--config", str(config), env=env, cwd=tmp_path, text=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    outputs["run"] = done.stdout + done.stderr
    for argv in (("alerts",), ("alerts", "--json"), ("status",), ("status", "--json"), ("alerts", "test", "inline")):
        done = monitor(*argv, "--config", str(config), env=env, cwd=tmp_path, text=False)
        outputs[" ".join(argv)] = done.stdout + done.stderr
    bad = config.read_text().replace(f"@{server.url('').removeprefix('http://')}", "@")  # no host: Apprise refuses
    (tmp_path / "bad.toml").write_text(bad.replace("json://", "jsonx://"))
    done = monitor("run", "--once", "--config", str(tmp_path / "bad.toml"), env=env, cwd=tmp_path, text=False)
    assert done.returncode == 2
    outputs["a bad URL"] = done.stdout + done.stderr

    assert len(server.requests_to(f"/hook/{token}")) >= 2, "the channels were tried, so each answer had it to leak"
    assert b"500" in outputs["alerts"] and b"500" in outputs["status"], "the failure shows, without the token"
    assert_token_kept_out(token, outputs, tmp_path)
