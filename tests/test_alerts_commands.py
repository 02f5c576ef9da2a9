"""`monitor alerts`, `monitor alerts test NAME` and the alert lines of `status`, run as a user runs them;
bad rules are one line naming the table and key, and exit 2."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.server import FixtureServer, Reply

TOPIC = '[[topics]]\nname = "news"\nkeywords = ["bridge"]\n\n'


def wire(server: FixtureServer) -> str:
    """A feed of three reports of one story from the last few minutes."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    items = "".join(
        f'<item><guid isPermaLink="false">b{i}</guid><title>Port Alder bridge closed after cracks in the main span, '
        f"report {i}</title><link>https://news.example/b{i}</link>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=i))}</pubDate></item>" for i in range(3)
    )
    server.routes["/wire"] = Reply(200, f'<rss version="2.0"><channel><title>w</title>{items}</channel></rss>'.encode())
    return f'[[feeds]]\nname = "wire"\nurl = "{server.url("/wire")}"\n\n'


def hook(server: FixtureServer, path: str, status: int) -> str:
    server.routes[path] = Reply(status, b"")
    return server.url(path).replace("http://", "json://")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ('on = ["new_story", "explosion"]\nnotify = "ntfy://ntfy.sh/t"', "on"),
        ('notify = "nosuchservice://example.org/t"', "notify"),
        ('notify = "ntfy://ntfy.sh/t"\nexec = ["notify-send", "monitor"]', "exec"),
        ('notify = "ntfy://ntfy.sh/t"\nmax_per_hour = 0', "max_per_hour"),
    ],
)
@pytest.mark.parametrize("argv", [("run", "--once"), ("alerts",), ("alerts", "test", "phone")])
def test_a_bad_rule_exits_2_with_one_line_naming_the_table_and_key(tmp_path: Path, rule: str, key: str,
                                                                   argv: tuple[str, ...]) -> None:
    never_polled = '[[feeds]]\nname = "wire"\nurl = "http://127.0.0.1:9/feed.xml"\n\n'
    config = write(tmp_path, TOPIC + never_polled + f'[[alerts]]\nname = "phone"\n{rule}\n')
    done = monitor(*argv, "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f'monitor: {config}: [[alerts]] "phone": key "{key}": ')
    assert "Traceback" not in done.stderr


def test_alerts_lists_each_rule_with_its_channel_and_the_alerts_newest_first(tmp_path: Path,
                                                                              server: FixtureServer) -> None:
    config = write(tmp_path, TOPIC + wire(server)
                   + f'[[alerts]]\nname = "ok"\non = ["new_story"]\nnotify = "{hook(server, "/ok", 200)}"\n\n'
                   + f'[[alerts]]\nname = "down"\non = ["new_story"]\nnotify = "{hook(server, "/down", 500)}"\n')
    assert monitor("run", "--once", "--config", str(config), cwd=tmp_path).returncode == 0

    done = monitor("alerts", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ok, down, blank, newest, oldest = done.stdout.splitlines()
    assert ok.startswith("ok  json://…  new_story in every topic  ok, last sent ")
    assert down.startswith("down  json://…  new_story in every topic  FAILING: ")
    assert "error=500" in down and "(1 try, next at " in down and down.endswith("; 1 waiting")
    assert blank == ""
    assert "down" in newest and "waiting (1 failed)" in newest and "Port Alder bridge" in newest
    assert "ok" in oldest and " sent " in oldest

    listed = json.loads(monitor("alerts", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert [(r["name"], r["state"], r["waiting"]) for r in listed["rules"]] == [("ok", "ok", 0), ("down", "failing", 1)]
    assert [(a["rule"], a["event"], a["state"]) for a in listed["alerts"]] == [
        ("down", "new_story", "pending"), ("ok", "new_story", "sent")]
    assert listed["alerts"][1]["alert"]["story"]["size"] == 3


def test_alerts_shows_the_next_try_a_channel_asked_for_with_retry_after(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/busy"] = Reply(429, b"", {"Retry-After": "120"})
    busy = server.url("/busy").replace("http://", "json://")
    config = write(tmp_path, TOPIC + wire(server)
                   + f'[[alerts]]\nname = "busy"\non = ["new_story"]\nnotify = "{busy}"\n')
    before = datetime.now(UTC).replace(microsecond=0)
    assert monitor("run", "--once", "--config", str(config), cwd=tmp_path).returncode == 0
    after = datetime.now(UTC)
    asked = timedelta(seconds=120)

    line = monitor("alerts", "--config", str(config), cwd=tmp_path).stdout.splitlines()[0]
    assert line.startswith("busy  json://…  new_story in every topic  FAILING: ")
    assert "error=429" in line and "Retry-After: 120" in line
    shown = re.search(r"\(1 try, next at (\S+ \S+Z)\)", line)
    assert shown is not None, line
    next_at = datetime.strptime(shown.group(1), "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC)
    assert before + asked <= next_at <= after + asked, "two minutes after the 429, as asked, not our 15-30 s"
    [rule] = json.loads(monitor("alerts", "--json", "--config", str(config), cwd=tmp_path).stdout)["rules"]
    assert before + asked <= datetime.fromisoformat(rule["next_try"]) <= after + asked


def test_status_shows_a_failing_alert_channel(tmp_path: Path, server: FixtureServer) -> None:
    config = write(tmp_path, TOPIC + wire(server)
                   + f'[[alerts]]\nname = "down"\non = ["new_story"]\nnotify = "{hook(server, "/down", 503)}"\n')
    monitor("run", "--once", "--config", str(config), cwd=tmp_path)
    text = monitor("status", "--config", str(config), cwd=tmp_path).stdout
    assert [line for line in text.splitlines() if line.startswith("alert down  json://…") and "FAILING" in line]
    status = json.loads(monitor("status", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert [(a["name"], a["state"], a["waiting"]) for a in status["alerts"]] == [("down", "failing", 1)]


def test_alerts_test_sends_a_sample_and_says_what_the_channel_answered(tmp_path: Path,
                                                                       server: FixtureServer) -> None:
    config = write(tmp_path, TOPIC
                   + f'[[alerts]]\nname = "ok"\nnotify = "{hook(server, "/ok", 200)}"\n\n'
                   + f'[[alerts]]\nname = "down"\nnotify = "{hook(server, "/down", 500)}"\n')
    sent = monitor("alerts", "test", "ok", "--config", str(config), cwd=tmp_path)
    assert (sent.returncode, sent.stdout) == (0, "ok: test alert delivered through json://…: delivered by json://…\n")
    [request] = server.requests_to("/ok")
    assert json.loads(request.body)["title"] == "monitor: a test alert for news"

    failed = monitor("alerts", "test", "down", "--config", str(config), cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stdout.startswith("down: test alert NOT delivered through json://…: ")
    assert "error=500" in failed.stdout

    unknown = monitor("alerts", "test", "pager", "--config", str(config), cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr == 'monitor: no alert rule "pager"; the rules are "ok", "down"\n'
    assert not (tmp_path / "monitor.db").exists(), "a test send goes around the outbox"
