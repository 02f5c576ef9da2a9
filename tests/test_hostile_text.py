"""Hostile text through store and CLI output: nothing reaches the terminal as a control code.

Posts carrying escape sequences (CSI, OSC, 8-bit CSI), bidi overrides, Textual/Rich markup, NULs
and a 1 MB body come in two ways, a real feed over 127.0.0.1 and `monitor ingest`; then every
reading command runs as a subprocess and its raw stdout bytes are checked.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.feeds import rss
from tests.support.server import FixtureServer, Reply

MEGABYTE = 2**20

HOSTILE = {
    "csi": "volcano \x1b[2J\x1b[31mred alert\x1b[0m and \x1b[1;1H home",
    "osc": "volcano \x1b]0;pwned title\x07 and \x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\ osc",
    "c1": "volcano \x9b31m eight-bit CSI \x9d0;title\x9c and DEL\x7f",
    "bidi": "volcano \u202egnp.exe\u202c \u2066isolate\u2069 \u200fmark",
    "markup": "volcano [bold red]Rich[/] [@click=app.quit]click[/] [link=file:///etc/passwd]x[/link] $var",
    "nul": "volcano\x00 with\x00 NULs \x00",
    "lines": "volcano\rover\x08written\x0bvt\x0cff line\nnext",
    "huge": "volcano " + "lava " * (MEGABYTE // 5),
}
# What a terminal acts on: C0 but newline and tab, DEL, C1, and the bidi/direction marks.
UNSAFE = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)


ARTICLE = "".join(f"Volcano {text[:300]} erupted near Grindavik.\n" for text in HOSTILE.values() if len(text) < 1000)


# An alert command that takes every alert and answers in escape sequences (`alerts` shows the answer).
ANSWER_HOSTILE = [sys.executable, "-c", "import sys; sys.stdin.read(); print('took it \\x1b]0;owned\\x07 \\u202e')"]


def jsonl() -> str:
    rows = [{"id": name, "source": f"src-{name}\x1b[7m", "author": f"\u202e{name}\x1b]0;t\x07",
             "url": f"http://example.org/{name}", "text": text, "published": "2024-03-01T12:00:00Z"}
            for name, text in HOSTILE.items()]
    return "".join(json.dumps(r) + "\n" for r in rows)


def feed_body() -> bytes:
    items = [(f"feed-{name}", text) for name, text in HOSTILE.items() if name not in ("huge", "nul")]
    return rss(items, title="\x1b[31mevil feed").replace(b"&#27;", b"\x1b")


@dataclass
class Place:
    config: Path
    outputs: dict[str, bytes]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Place:
    root = tmp_path_factory.mktemp("hostile")
    with FixtureServer() as server:
        server.routes["/evil"] = Reply(200, feed_body(), {"Content-Type": "application/rss+xml"})
        server.routes["/broken"] = Reply(500, b"\x1b[2J\x1b]0;owned\x07", {"X-Evil": "\x1b[31m"})
        config = root / "feeds.toml"
        config.write_text(
            '[[topics]]\nname = "volcano\\u001b[5m\\u202e"\nkeywords = ["volcano"]\n\n'
            f'[[feeds]]\nname = "evil\\u001b]0;x\\u0007\\u202e"\ntype = "rss"\nurl = "{server.url("/evil")}"\n\n'
            f'[[feeds]]\nname = "broken\\u001b[2J"\ntype = "rss"\nurl = "{server.url("/broken")}"\n\n'
            f'[[alerts]]\nname = "pager\\u001b[2J"\non = ["new_story", "match"]\nexec = {json.dumps(ANSWER_HOSTILE)}\n'
        )
        (root / "posts.jsonl").write_text(jsonl())
        (root / "article.txt").write_text(ARTICLE)
        for argv in (("run", "--once"), ("ingest", str(root / "posts.jsonl"))):
            done = cli(*argv, config=config)
            assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    commands = {
        "posts": ("posts",), "posts --json": ("posts", "--json"),
        "clusters": ("clusters",), "clusters --json": ("clusters", "--json"),
        "status": ("status",), "status --json": ("status", "--json"),
        "export": ("export",), "export csv": ("export", "--format", "csv"),
        "test-query": ("test-query", "volcano"), "test-query --json": ("test-query", "volcano", "--json"),
        "test-query --topic": ("test-query", "volcano", "--topic", "volcano\x1b[5m\u202e"),
        "keywords": ("keywords", "article.txt"), "keywords --json": ("keywords", "article.txt", "--json"),
        "init": ("init", "article.txt", "--topic", "volcano\x1b[5m\u202e"),
        "feeds list": ("feeds", "list"), "feeds list --json": ("feeds", "list", "--json"),
        "export opml": ("export", "--format", "opml"),
        "topics": ("topics",), "topics --json": ("topics", "--json"),
        "topics forget": ("topics", "forget", "volcano\x1b[5m\u202e", "#x\x1b]0;y\x07"),
        "alerts": ("alerts",), "alerts --json": ("alerts", "--json"),
        "alerts test": ("alerts", "test", "pager\x1b[2J"),
        "feeds retry": ("feeds", "retry", "evil\x1b]0;x\x07\u202e"),  # last: it changes the feed's state
    }
    outputs = {}
    for name, argv in commands.items():
        done = cli(*argv, config=config)
        assert done.returncode == 0, f"{name}: {done.stderr.decode(errors='replace')[-2000:]}"
        outputs[name] = done.stdout
        outputs[name + " (stderr)"] = done.stderr
    return Place(config, outputs)


def cli(*argv: str, config: Path) -> subprocess.CompletedProcess[bytes]:
    return monitor(*argv, "--config", str(config), cwd=config.parent, text=False, timeout=300)


OUTPUTS = ["posts", "posts --json", "clusters", "clusters --json", "status", "status --json", "export", "export csv",
           "test-query", "test-query --json", "test-query --topic", "keywords", "keywords --json", "init",
           "feeds list", "feeds list --json", "export opml", "topics", "topics --json", "topics forget", "alerts",
           "alerts --json", "alerts test", "feeds retry"]
PRINT_NO_STORED_TEXT = {"run", "ingest", "dash", "watch", "demo", "service"}
"""Commands that print no stored or fetched text: logs (sanitised at the fetch) or the dashboard's own tests;
`service` prints paths and variable names (feeds.toml requires those to be identifiers)."""


def test_every_printing_command_is_run_over_hostile_text() -> None:
    from monitor.commands import listed

    covered = {name.split()[0] for name in OUTPUTS}
    missing = {c.name for c in listed()} - covered - PRINT_NO_STORED_TEXT
    assert not missing, f"add {sorted(missing)} to this file's hostile run (or to PRINT_NO_STORED_TEXT)"


@pytest.mark.parametrize("name", OUTPUTS + [o + " (stderr)" for o in OUTPUTS])
def test_no_control_code_reaches_the_terminal(place: Place, name: str) -> None:
    text = place.outputs[name].decode("utf-8")  # valid UTF-8, or this raises
    if name == "export csv":
        text = text.replace("\r\n", "\n")  # CSV's own row ending (RFC 4180); a lone CR would still count
    found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in UNSAFE})
    assert not found, f"{name} printed {found}"


@pytest.mark.parametrize("name", ["posts --json", "clusters --json", "status --json", "test-query --json",
                                  "keywords --json", "topics --json", "alerts --json"])
def test_json_output_stays_valid_json(place: Place, name: str) -> None:
    assert json.loads(place.outputs[name])


def test_stored_text_keeps_what_was_said_and_json_escapes_it(place: Place) -> None:
    posts = {p["id"]: p for p in json.loads(place.outputs["posts --json"])}
    assert set(HOSTILE) <= set(posts), "every hostile post was stored"
    assert posts["markup"]["text"] == HOSTILE["markup"], "markup is data: kept literally, never interpreted"
    assert posts["csi"]["text"] == HOSTILE["csi"], "JSON carries the ESC as \\u001b, so the text round-trips"
    assert b"\\u001b[2J" in place.outputs["posts --json"]
    assert "\x00" not in posts["nul"]["text"] and "NULs" in posts["nul"]["text"]
    assert len(posts["huge"]["text"]) >= MEGABYTE - 16, "the 1 MB post is stored whole"
    from_feed = [p for p in posts.values() if p["id"].startswith("feed-")]
    assert len(from_feed) == len(HOSTILE) - 2, "the feed's hostile items were stored too"
    marks = set("\u200e\u200f\u061c")  # direction marks are part of right-to-left writing: kept in the data
    assert all(not (set(p["text"]) & (UNSAFE - marks)) for p in from_feed), "the feed adapter cleaned its text"


def test_text_rows_stay_one_short_line_each(place: Place) -> None:
    lines = place.outputs["posts"].decode().splitlines()
    assert len(lines) == len(json.loads(place.outputs["posts --json"])), "one line per post, even 1 MB ones"
    assert max(len(line) for line in lines) < 200
    status = place.outputs["status"].decode().splitlines()
    assert len(status) == 5, "two feeds, the alert rule, the summary and the files used, each on one line"
    assert "failing" in status[1] and "500" in status[1]
    assert status[2].startswith("alert pager  exec ") and "ok, last sent" in status[2]
    alerts = place.outputs["alerts"].decode().splitlines()
    assert max(len(line) for line in alerts) < 300, "an alert of a 1 MB post is one short line"


def test_export_rows_parse_back(place: Place) -> None:
    csv.field_size_limit(4 * MEGABYTE)
    rows = [json.loads(line) for line in place.outputs["export"].decode().splitlines()]
    table = list(csv.DictReader(io.StringIO(place.outputs["export csv"].decode())))
    assert len(rows) == len(table) == len(json.loads(place.outputs["posts --json"]))
    assert {r["id"] for r in rows} == {r["id"] for r in table}


def test_test_query_shows_the_hostile_posts_it_matches(place: Place) -> None:
    text = place.outputs["test-query"].decode()
    assert "red alert" in text and "[bold red]Rich[/]" in text, "the text is shown, markup as data"
    rows = json.loads(place.outputs["test-query --json"])
    assert {r["id"] for r in rows} >= set(HOSTILE)
    assert next(r for r in rows if r["id"] == "csi")["text"] == HOSTILE["csi"], "JSON escapes, never drops"


# -- the dashboard's alerts: the same hostile text, painted by Textual ------------------------------------


async def test_the_dashboards_alerts_paint_hostile_text_as_inert_text(tmp_path: Path) -> None:
    """An alert on a hostile story (label, posts, topic, rule name and the channel's answer all hostile):
    the 🔔 mark, the alerts screen and the alert's text show it as text, markup literally, no control code."""
    from datetime import timedelta

    from monitor.config import AlertRule
    from monitor.tui.app import MonitorApp
    from monitor.tui.screens.alerts import AlertsScreen
    from monitor.tui.widgets.rows import KeyedTable
    from storage.store import open_store
    from tests.support.dashboard import T0, alert, db_url, new_post, painted, story, until, write

    topic, rule = HOSTILE["csi"][:30], AlertRule("pager\x1b[2J[b]x[/b]", ("new_story",), exec=("true",))
    url = db_url(tmp_path)
    with open_store(url) as store:
        evil = story(7, HOSTILE["markup"] + HOSTILE["osc"] + HOSTILE["bidi"], size=3, last=T0, topic=topic)
        posts = [new_post(name, text, at=T0 - timedelta(minutes=i), story=7, topic=topic, author=HOSTILE["c1"][:40],
                          url="javascript:\x1b]0;x\x07") for i, (name, text) in enumerate(HOSTILE.items())]
        write(store, now=T0, stories=[evil], posts=posts)
        write(store, now=T0, alerts=[alert(rule, "new_story", evil, now=T0, posts=store.posts(story=7))])
        [queued] = store.recent_alerts()
        store.alert_failed(queued.id, HOSTILE["osc"] + HOSTILE["lines"], T0 + timedelta(minutes=1), T0)
    app = MonitorApp(open_store(url, readonly=True), clock=lambda: T0, poll_interval=0.1, topic=topic,
                     alert_rules=(rule,))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "🔔" in painted(app))
        main = painted(app)
        await pilot.press("b")
        assert isinstance(app.screen, AlertsScreen)
        await until(pilot, lambda: app.screen.query_one("#alerts", KeyedTable).row_count == 1
                    and "channel answered" in painted(app))
        alerts = painted(app)
    for name, screen in (("stories", main), ("alerts screen", alerts)):
        found = sorted({f"U+{ord(ch):04X}" for ch in screen if ch in UNSAFE})
        assert not found, f"the dashboard's {name} painted {found}"
    assert "[bold red]Rich[/]" in alerts, "markup is shown as the text it is"
    assert "pager[b]x[/b]  exec true" in alerts and "FAILING: volcano and link osc" in alerts
    assert "[@click=app.quit]click[/]" in alerts
