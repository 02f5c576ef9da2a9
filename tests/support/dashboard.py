"""Builders for the dashboard tests: real SQLite stores written through Store.write."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widget import Widget

from monitor.alerts import Trigger, alert_json
from monitor.config import AlertRule
from monitor.tui.app import MonitorApp
from monitor.tui.prefs import Prefs
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.stories import StoryTable
from storage.store import Store, open_store
from storage.types import Batch, FeedState, Match, NewAlert, NewPost, Post, StoredPost, Story

T0 = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # the fixed clock of snapshot tests


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


def new_post(
    pid: str,
    text: str,
    *,
    at: datetime,
    source: str = "wire",
    author: str = "ann",
    topic: str = "quake",
    story: int | None = 1,
    terms: Sequence[str] = ("quake",),
    duplicate_of: tuple[str, str] | None = None,
    url: str = "",
) -> NewPost:
    post = Post(pid, source, author, url or f"https://example.org/{source}/{pid}", text, at)
    clusters = {topic: story} if story is not None else {}
    return NewPost(post, (Match(topic, tuple(terms)),), clusters, duplicate_of)


def story(
    sid: int,
    label: str,
    *,
    size: int,
    last: datetime,
    topic: str = "quake",
    velocity: float = 1.0,
    sources: Sequence[str] = ("wire",),
    spike: bool = False,
) -> Story:
    """A story that reads, as of `last`, as `velocity` posts in the hour, spiking or not."""
    return Story(sid, topic, label, size, last - timedelta(minutes=30), last, True, tuple(sources), 1,
                 arrivals=arrivals(velocity, last, spike))


def arrivals(velocity: float, last: datetime, spike: bool) -> tuple[tuple[int, int], ...]:
    """`velocity` posts in one minute: the minute of `last` when spiking (five at least, with none
    before), else ten minutes earlier, where they count for the hour but not for a spike."""
    posts, minute = round(velocity), int(last.timestamp() // 60)
    if spike:
        return ((minute, max(posts, 5)),)
    return ((minute - 10, posts),) if posts else ()


def write(
    store: Store, posts: Sequence[NewPost] = (), stories: Sequence[Story] = (), *, now: datetime, **kw: object
) -> None:
    """One Batch, stamped `now` (posts' arrival and the store's last write)."""
    store.write(Batch(posts=posts, stories=stories, **kw), now)  # type: ignore[arg-type]


def busy_store(url: str, now: datetime = T0) -> None:
    """Three stories of one topic, one spiking, with folded duplicates; a second topic; two feeds."""
    with open_store(url) as store:
        store.sync_feeds(["wire", "social"], now - timedelta(hours=2))
        write(store, now=now, stories=[
            story(1, "Magnitude 6.1 quake strikes off the coast", size=5, last=now - timedelta(minutes=2),
                  velocity=12.0, sources=("wire", "social"), spike=True),
            story(2, "Tsunami warning lifted for the islands", size=2, last=now - timedelta(minutes=20),
                  velocity=3.0),
            story(3, "Aid convoys reach the quake zone", size=1, last=now - timedelta(hours=3), velocity=0.5),
            story(4, "Parliament votes on the budget", size=1, last=now - timedelta(hours=1), topic="budget"),
        ], posts=[
            new_post("w1", "Magnitude 6.1 quake strikes off the coast, no damage reported yet",
                     at=now - timedelta(minutes=9)),
            new_post("s1", "Magnitude 6.1 quake strikes off the coast - no damage reported yet", at=now - timedelta(
                minutes=8), source="social", author="bob", duplicate_of=("wire", "w1")),
            new_post("w2", "Quake: residents describe strong shaking", at=now - timedelta(minutes=5), author="cy"),
            new_post("s2", "Felt the quake here, dishes everywhere", at=now - timedelta(minutes=3),
                     source="social", author="dee"),
            new_post("s3", "Second quake report from the harbour", at=now - timedelta(minutes=2), source="social",
                     author="eve"),
            new_post("w3", "Tsunami warning lifted after the quake", at=now - timedelta(minutes=20), story=2),
            new_post("w4", "Islands stand down after the quake warning", at=now - timedelta(minutes=25), story=2),
            new_post("w5", "Aid convoys reach the quake zone", at=now - timedelta(hours=3), story=3),
            new_post("b1", "Parliament votes on the budget", at=now - timedelta(hours=1), topic="budget",
                     story=4, terms=("budget",)),
        ])
        write(store, now=now, feed=FeedState("wire", last_poll=now - timedelta(seconds=40), last_status=200,
                                    next_check=now + timedelta(seconds=20), posts_seen=7))
        write(store, now=now, feed=FeedState("social", last_poll=now - timedelta(seconds=30), last_status=503,
                                    last_error="HTTP 503 Service Unavailable", error_count=3,
                                    next_check=now + timedelta(minutes=4)))
        store.heartbeat(now - timedelta(seconds=3))


# Two rules: a phone that takes what it is sent, a desktop command that keeps failing.
PHONE = AlertRule("phone", ("new_story", "spike"), topic="quake", notify="ntfy://ntfy.sh/secret-topic")
DESK = AlertRule("desk", ("spike",), exec=("notify-send", "monitor"))
RECEIVER_DOWN = "HTTP 500 from the receiver"


def alert(rule: AlertRule, event: str, about: Story, *, now: datetime, posts: Sequence[StoredPost] = ()) -> NewAlert:
    """An alert of `rule` on `about` with the JSON the pipeline would have put in the outbox."""
    payload = alert_json(Trigger(rule, event, about, about.topic), posts, now)
    return NewAlert(rule.name, event, f"story:{about.id}", about.topic, about.id, json.dumps(payload))


def alerted_store(url: str, now: datetime = T0) -> None:
    """`busy_store`, where both rules fired on the spiking story 1: the phone took its two alerts,
    the desk's failed twice and waits."""
    busy_store(url, now)
    with open_store(url) as store:
        spiking = store.story(1)
        assert spiking is not None
        write(store, now=now - timedelta(minutes=2), alerts=[alert(PHONE, "new_story", spiking, now=now)])
        write(store, now=now - timedelta(minutes=1), alerts=[alert(PHONE, "spike", spiking, now=now),
                                                             alert(DESK, "spike", spiking, now=now)])
        first, spike, desk = store.recent_alerts()[::-1]
        store.alert_sent(first.id, "sent", now - timedelta(minutes=2))
        store.alert_sent(spike.id, "sent", now - timedelta(seconds=50))
        store.alert_failed(desk.id, RECEIVER_DOWN, now + timedelta(seconds=30), now - timedelta(seconds=50))
        store.alert_failed(desk.id, RECEIVER_DOWN, now + timedelta(minutes=1), now - timedelta(seconds=20))


def painted(app: MonitorApp) -> str:
    """The whole screen as the terminal shows it, line by line."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


async def until(pilot: Pilot[object], predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for `predicate` with a bounded loop of short pauses (never a blind sleep)."""
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    assert predicate(), "condition not met in time"


def shown(widget: Widget) -> str:
    """The widget's lines as the terminal shows them (what fits; cut cells are gone)."""
    return "\n".join("".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height))


async def in_thread(fn: Callable[[], object]) -> None:
    await asyncio.to_thread(fn)


class Harness:
    """The app on a busy store (topic quake), with its prefs file and the links it would open."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = db_url(tmp_path)
        busy_store(self.url, datetime.now(UTC))
        self.prefs_path = tmp_path / "monitor.db.dash.json"
        self.opened: list[str] = []
        self.app = MonitorApp(open_store(self.url, readonly=True), prefs=Prefs.load(self.prefs_path),
                              open_url=self.opened.append, poll_interval=0.1, topic="quake")

    def stories(self) -> list[str]:
        return [str(k.value) for k in self.app.screen.query_one(StoryTable).rows]

    def posts(self) -> list[str]:
        return [str(k.value).split("\x1f")[1] for k in self.app.screen.query_one(PostTable).rows]

    async def ready(self, pilot: Pilot[object]) -> None:
        await until(pilot, lambda: self.stories() == ["1", "2", "3"] and self.posts() == ["s3", "s2", "w2", "w1"])

    def saved(self) -> dict[str, object]:
        return json.loads(self.prefs_path.read_text())  # type: ignore[no-any-return]
