"""The dashboard at the widths people use: a status line that fits (short words, then fewer facts), and
a story label with room at 80 columns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.tui.app import MonitorApp
from monitor.tui.board import Health
from monitor.tui.render import status_line
from monitor.tui.widgets.status import StatusLine
from monitor.tui.widgets.stories import StoryTable
from storage.store import open_store
from storage.types import DaemonInfo, Stats
from tests.support.dashboard import T0, busy_store, db_url, shown, until

BUSY = Health(Stats(posts_total=90_000, posts_last_hour=1234, feeds_ok=12, feeds_failing=3,
                    last_write=T0 - timedelta(seconds=12)),
              DaemonInfo(pid=1, host="h", started=T0 - timedelta(days=2), beat=T0), T0)
TOPIC = "israel-gaza-ceasefire-talks"
FILTERS = ["search “hostage deal”", "source “bbc-world”"]


def test_wide_the_status_line_says_everything_in_full() -> None:
    line = status_line(BUSY, TOPIC, FILTERS, 200).plain
    assert line == ("● daemon alive  feeds 12 ok, 3 failing  1234 posts in the last hour  updated 12s ago  "
                    f"topic: {TOPIC}  search “hostage deal”  source “bbc-world”")


def test_at_120_columns_the_status_line_keeps_every_fact_but_the_topic() -> None:
    """In short words; the topic is the one fact the stories' title repeats, so it goes first."""
    line = status_line(BUSY, TOPIC, FILTERS, 118).plain  # 120 less the line's padding
    assert line == ("● alive  feeds 12 ok, 3 failing  1234 posts/h  updated 12s  "
                    "search “hostage deal”  source “bbc-world”")


def test_then_the_posts_of_the_last_hour_go_then_freshness() -> None:
    assert status_line(BUSY, TOPIC, FILTERS, 100).plain == \
        "● alive  feeds 12 ok, 3 failing  updated 12s  search “hostage deal”  source “bbc-world”"


def test_at_80_columns_the_daemon_the_feeds_and_the_filters_stay() -> None:
    line = status_line(BUSY, TOPIC, FILTERS, 78).plain
    assert line == "● alive  feeds 12 ok, 3 failing  search “hostage deal”  source “bbc-world”"


def test_too_narrow_for_one_fact_it_ends_in_an_ellipsis() -> None:
    line = status_line(BUSY, TOPIC, [], 5).plain
    assert line == "● al…"


def busy_app(tmp_path: Path) -> MonitorApp:
    url = db_url(tmp_path)
    busy_store(url)
    return MonitorApp(open_store(url, readonly=True), clock=lambda: T0, topic="quake", poll_interval=0.1)


async def test_filters_show_whole_in_the_status_line_at_120_columns(tmp_path: Path) -> None:
    """It was cut at 120 columns: the source filter fell off the end."""
    app = busy_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        status = app.screen.query_one(StatusLine)
        await until(pilot, lambda: "daemon" in shown(status))
        await pilot.press("slash", *"shaking", "enter", "s", *"social", "enter")
        await until(pilot, lambda: "source “social”" in shown(status))
        assert "text “shaking”" in shown(status) and "1 failing" in shown(status)
        assert "…" not in shown(status)


async def test_at_80_columns_the_story_label_has_room(tmp_path: Path) -> None:
    """The source count and the sparkline give way below 98 columns and come back above; the selected
    story stays selected."""
    app = busy_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(StoryTable)
        await until(pilot, lambda: "Magnitude 6.1 quake strikes off the coast" in shown(table))
        assert "trend" not in shown(table)
        await pilot.press("down")
        await pilot.resize_terminal(120, 30)
        await until(pilot, lambda: "trend" in shown(table))
        assert table.selected_key() == "2" and table.cursor_row == 1
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: "trend" not in shown(table))
        assert table.selected_key() == "2"
