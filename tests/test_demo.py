"""The demo: its loopback stream, and the whole thing (server, daemon, dashboard) in one loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.commands.dash import dashboard
from monitor.commands.demo import demo_config
from monitor.config import parse
from monitor.demo.server import DemoServer, due
from monitor.demo.stream import FEEDS, ITEMS, KEYWORDS, TOPIC
from monitor.sources.rss import parse_feed
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.stories import StoryTable
from tests.support.dashboard import until


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_stream_arrives_over_minutes_from_several_sources() -> None:
    """Items come due over a few minutes, from every feed, with a burst (the spike) near two minutes."""
    assert {i.feed for i in ITEMS} == set(FEEDS)
    assert len({i.author for i in ITEMS}) >= 10
    assert max(i.at for i in ITEMS) >= 180
    burst = [i for i in ITEMS if 120 <= i.at < 150]
    quiet = [i for i in ITEMS if 60 <= i.at < 90]
    assert len(burst) >= 5 * len(quiet)
    assert due("wire", 0) == [ITEMS[0]]


def test_the_server_serves_rss_that_grows_with_time() -> None:
    """The real RSS parser reads what the server sends; later polls see more items."""
    import httpx

    clock = FakeMonotonic()
    with DemoServer(monotonic=clock) as server:
        first = httpx.get(server.url("wire"))
        clock.now = 300
        later = httpx.get(server.url("wire"))
        missing = httpx.get(server.base + "/nope.xml")
    early = parse_feed(first.content, url=server.url("wire"), source="wire")
    full = parse_feed(later.content, url=server.url("wire"), source="wire")
    assert [p.author for p in early] == ["Wire Desk"]
    assert len(full) == len([i for i in ITEMS if i.feed == "wire"])
    assert missing.status_code == 404


def test_the_config_is_valid(tmp_path: Path) -> None:
    text = demo_config("http://127.0.0.1:9", FEEDS, TOPIC, KEYWORDS)
    config = parse(text, tmp_path / "feeds.toml")
    assert [f.interval for f in config.feeds] == [2.0] * len(FEEDS)
    assert config.topics[0].name == TOPIC


async def test_demo_shows_stories_with_duplicates_and_a_spike_and_q_quits(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The whole demo, played fast: stories form, duplicates fold, a spike shows; q stops the daemon
    (which ends the wait: the fallback timeout never does)."""
    with DemoServer(speed=60) as server:
        path = tmp_path / "feeds.toml"
        path.write_text(demo_config(server.base, FEEDS, TOPIC, KEYWORDS), encoding="utf-8")
        config = parse(path.read_text(), path)
        with dashboard(config, daemon=True) as app:
            async with app.run_test(size=(140, 40)) as pilot:
                stories = app.screen.query_one(StoryTable)
                await until(pilot, lambda: server.elapsed() > 260 and stories.row_count >= 3, seconds=30)
                await until(pilot, lambda: any(r.story.spike for r in stories.by_id.values()), seconds=20)
                posts = app.screen.query_one(PostTable)
                await until(pilot, lambda: posts.row_count > 0)
                await pilot.press("q")
                await until(pilot, lambda: not app.is_running, seconds=15)
            assert app.return_code == 0 and app.daemon_stopped
    assert "did not stop within" not in caplog.text
    labels = [r.story.label for r in stories.by_id.values()]
    # The stream's three storylines each read as a story (which post is most central varies with timing).
    said = " ".join(labels).lower()
    assert "ferr" in said and "detour" in said and any(w in said for w in ("bridge", "portalder", "crack")), labels


