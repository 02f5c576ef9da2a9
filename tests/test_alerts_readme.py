"""The README's two alert examples, as written: they load, and they deliver (ntfy's protocol to a local
ntfy stand-in; the desktop command with a stand-in notify-send on PATH)."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts import SPIKE, Trigger, alert_json, render, stored_view
from monitor.channels import ExecChannel, channel_for
from monitor.config import parse
from storage.types import Match, NewPost, Post, Story
from tests.support.cli import ROOT
from tests.support.feeds import T0
from tests.support.server import FixtureServer, Reply

TOPIC = '[[topics]]\nname = "iran-hamas"\nkeywords = ["Hamas"]\n\n'


def readme_examples() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Alerts", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```toml\n(.*?)```", section, flags=re.S)


def spiking_alert() -> dict[str, object]:
    story = Story(4, "iran-hamas", "Strike on Gaza convoy", 6, T0, T0 + timedelta(minutes=9), sources=("bbc",),
                  velocity=6.0, spike="6 posts in 10 min, none in the hour before")
    post = Post("p1", "bbc", "BBC", "https://bbc.example/p1", "Strike on Gaza convoy, Hamas says", T0)
    item = NewPost(post, (Match("iran-hamas", ("Hamas",)),), {"iran-hamas": 4})
    rule = parse(TOPIC + readme_examples()[1], Path("feeds.toml"), environ={}).alerts[0]
    return alert_json(Trigger(rule, SPIKE, story, "iran-hamas"), [stored_view(item, "iran-hamas", 4)], T0)


def test_both_examples_load_as_written(tmp_path: Path) -> None:
    phone, desktop = readme_examples()
    config = parse(TOPIC + phone + "\n" + desktop, tmp_path / "feeds.toml", environ={})
    assert [(r.name, r.on) for r in config.alerts] == [("phone", ("new_story", "spike")), ("desktop", ("spike",))]
    assert [channel_for(r, config.path).shown for r in config.alerts] == ["ntfys://…", "exec sh"]


def test_the_phone_example_speaks_ntfy(server: FixtureServer) -> None:
    """The same URL with a local ntfy server for ntfy.sh (ntfy:// is its plain-HTTP form)."""
    server.routes["/"] = Reply(200, b'{"id": "x"}', {"Content-Type": "application/json"})
    phone = parse(TOPIC + readme_examples()[0], Path("feeds.toml"), environ={}).alerts[0]
    assert phone.notify is not None
    local = phone.notify.replace("ntfys://ntfy.sh", server.url("").replace("http://", "ntfy://"))
    answer = channel_for(type(phone)(phone.name, phone.on, notify=local), "feeds.toml").send(spiking_alert())
    assert answer.delivered, answer.text
    [published] = server.requests_to("/")
    sent = json.loads(published.body)
    assert sent["topic"] == "monitor-7f3a9c0d"
    assert (sent["title"], sent["message"]) == render(spiking_alert())


def test_the_desktop_example_runs_notify_send_with_the_title_and_text(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shown = tmp_path / "shown.json"
    notify_send = tmp_path / "bin" / "notify-send"
    notify_send.parent.mkdir()
    notify_send.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import json, sys; '
                           f"open('{shown}', 'w').write(json.dumps(sys.argv[1:]))\" \"$@\"\n")
    notify_send.chmod(notify_send.stat().st_mode | stat.S_IEXEC)
    desktop = parse(TOPIC + readme_examples()[1], tmp_path / "feeds.toml", environ={}).alerts[0]
    monkeypatch.setenv("PATH", f"{notify_send.parent}{os.pathsep}{os.environ['PATH']}")
    answer = ExecChannel(desktop.exec).send(spiking_alert())
    assert answer.delivered, answer.text
    title, text = render(spiking_alert())
    assert json.loads(shown.read_text()) == ["--app-name=monitor", title, text]
    assert title == "monitor: a story in iran-hamas is spiking"
    assert "⚡ 6 posts in 10 min, none in the hour before" in text and "https://bbc.example/p1" in text
