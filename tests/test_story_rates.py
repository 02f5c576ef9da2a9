"""Issue 10.5: a story's rate and spike are functions of the time they are read at, so they cool
down with no new post: in the story room, through the pipeline and store, in `clusters`, in the dashboard."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, insert, text

from monitor.config import Topic
from monitor.pipeline import Pipeline
from monitor.storybuilder import StoryBuilder
from monitor.storyreads import stories_at
from monitor.storystate import SpikeRule, as_of, spike, velocity
from monitor.tui.app import MonitorApp
from monitor.tui.widgets.stories import StoryTable
from storage import migrate
from storage import tables as t
from storage.engine import normalize_url
from storage.store import open_store
from storage.types import Post, Story
from tests.support.cli import monitor
from tests.support.dashboard import busy_store, db_url, until

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
QUAKE = ["Quake shakes the harbour town", "Harbour town quake: walls cracked", "Quake damage in the harbour town"]
_serial = itertools.count(1)


def post(text: str, at: datetime) -> Post:
    n = next(_serial)
    return Post(str(n), "wire", f"user{n}", f"https://example.org/{n}", text, at)


def burst(start: datetime, posts: int = 7, minutes: float = 9) -> list[Post]:
    """`posts` reports of the quake over `minutes` from `start`."""
    step = timedelta(minutes=minutes / max(posts - 1, 1))
    return [post(QUAKE[i % 3], start + i * step) for i in range(posts)]


def clustered(posts: list[Post]) -> Story:
    builder = StoryBuilder("quake", itertools.count(1))
    for p in posts:
        builder.add(p, p.published)
    [story] = builder.changed()
    return story


# -- the pure functions ---------------------------------------------------------------------------


def test_a_burst_spikes_then_cools_down_with_no_new_post() -> None:
    story = clustered(burst(T0))
    last = T0 + timedelta(minutes=9)
    assert (story.velocity, story.spike) == (7.0, "7 posts in 10 min, none in the hour before")
    eleven_later = as_of(story, last + timedelta(minutes=11))
    assert (eleven_later.velocity, eleven_later.spike, eleven_later.live) == (7.0, None, True)
    hour_later = as_of(story, last + timedelta(minutes=61))
    assert (hour_later.velocity, hour_later.spike) == (0.0, None)


def test_a_story_nineteen_days_old_has_no_rate_and_is_closed() -> None:
    story = clustered(burst(T0, posts=30, minutes=30))
    assert story.velocity == 30.0
    old = as_of(story, T0 + timedelta(days=19))
    assert (old.velocity, old.spike, old.live) == (0.0, None, False)


def test_the_spike_decision_compares_the_window_with_the_hour_before() -> None:
    minute = int(T0.timestamp() // 60)
    calm_then_burst = (*((minute - 55 + 5 * i, 1) for i in range(10)), (minute, 6))
    assert velocity(calm_then_burst, T0) == 16.0
    assert spike(calm_then_burst, T0) == "6 posts in 10 min, 4× its previous hour"
    assert spike(calm_then_burst, T0, SpikeRule(ratio=5.0)) is None
    assert spike(calm_then_burst, T0, SpikeRule(min_posts=7)) is None
    assert spike(calm_then_burst, T0 + timedelta(minutes=10)) is None


# -- through the pipeline and the store -------------------------------------------------------------


def test_a_replayed_burst_stops_spiking_when_the_replay_moves_on(tmp_path: Path) -> None:
    """A burst replayed at 10:00, then one post elsewhere at 14:00: the 10:00 story no longer spikes."""
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, [Topic("news", query="*")], now=T0)
        pipeline.process(burst(T0), now=T0, replay=True)
        [burst_story] = stories_at(store, T0 + timedelta(minutes=9))
        assert burst_story.spike is not None
        later = T0 + timedelta(hours=4)
        pipeline.process([post("Council approves the new bus lanes downtown", later)], now=later, replay=True)
        by_label = {s.label: s for s in stories_at(store, later)}
    assert set(by_label) == {QUAKE[0], "Council approves the new bus lanes downtown"}
    assert (by_label[QUAKE[0]].velocity, by_label[QUAKE[0]].spike) == (0.0, None)
    assert by_label["Council approves the new bus lanes downtown"].velocity == 1.0
    assert list(by_label) == ["Council approves the new bus lanes downtown", QUAKE[0]], "most active first"


def test_a_story_stored_before_0005_with_a_stale_rate_reads_quiet(database_url: str) -> None:
    """The old schema kept a snapshot (505 posts an hour, 19 days ago); it is not carried over."""
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        old = T0 - timedelta(days=19)
        conn.execute(insert(t.topics), [{"name": "quake"}])
        conn.execute(text(
            "INSERT INTO stories (id, topic, label, size, first_seen, last_seen, live, sources, authors,"
            " velocity, spike) VALUES (1, 'quake', 'Quake shakes the harbour town', 505, :old, :old, :live, '[]',"
            " 9, 505.0, 'hot')"
        ), {"old": old, "live": True})
    engine.dispose()
    with open_store(database_url) as store:
        [story] = stories_at(store, T0)
    assert (story.size, story.velocity, story.spike, story.live, story.arrivals) == (505, 0.0, None, False, ())


# -- what a user sees ---------------------------------------------------------------------------------


def test_clusters_shows_rates_as_of_now_and_live_drops_quiet_stories(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text('[[topics]]\nname = "quake"\nkeywords = ["quake"]\n', encoding="utf-8")
    now = datetime.now(UTC)
    with open_store(f"sqlite:///{tmp_path / 'monitor.db'}") as store:
        # A burst 19 days ago, the last thing the daemon saw: the store still holds that story live.
        old = now - timedelta(days=19)
        Pipeline(store, [Topic("quake", keywords=("quake",))], now=old).process(burst(old, 20), now=old)
    listed = json.loads(monitor("clusters", "--json", cwd=tmp_path).stdout)
    assert [(s["size"], s["velocity"], s["spike"], s["live"]) for s in listed] == [(20, 0.0, None, False)]
    assert json.loads(monitor("clusters", "--live", "--json", cwd=tmp_path).stdout) == []

    with open_store(f"sqlite:///{tmp_path / 'monitor.db'}") as store:
        # Seven reports ending 11 minutes ago, polled as they came.
        recent = burst(now - timedelta(minutes=20))
        pipeline = Pipeline(store, [Topic("quake", keywords=("quake",))], now=now - timedelta(minutes=20))
        for p in recent:
            pipeline.process([p], now=p.published)
    live = json.loads(monitor("clusters", "--live", "--json", cwd=tmp_path).stdout)
    assert [(s["size"], s["velocity"], s["spike"]) for s in live] == [(7, 7.0, None)]
    text = monitor("clusters", "--live", cwd=tmp_path).stdout
    assert "7 posts" in text.splitlines()[0] and "7.0/h" in text and "⚡" not in text


async def test_the_dashboard_drops_the_spike_mark_as_the_minutes_pass_without_a_write(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    busy_store(url, T0)  # story 1 spikes at T0: 12 posts two minutes before
    clock = [T0]
    app = MonitorApp(open_store(url, readonly=True), clock=lambda: clock[0], poll_interval=0.05, topic="quake")

    def cells(story: str) -> tuple[bool, str]:
        row = app.screen.query_one(StoryTable).get_row(story)
        return "⚡" in str(row[0]), str(row[4])

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(StoryTable).row_count == 3)
        assert cells("1") == (True, "12.0/h")
        clock[0] = T0 + timedelta(minutes=11)
        await until(pilot, lambda: cells("1") == (False, "12.0/h"))
        clock[0] = T0 + timedelta(minutes=61)
        await until(pilot, lambda: cells("1") == (False, "0.0/h"))
