"""Snapshots of the dashboard at 80x24 and 160x48 with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.tui.app import MonitorApp
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.rows import KeyedTable
from monitor.tui.widgets.stories import StoryTable
from storage.store import open_store
from tests.support.dashboard import DESK, PHONE, T0, alerted_store, busy_store, db_url, new_post, story, write

SIZES = [(80, 24), (160, 48)]
SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(autouse=True)
def _snapshots_in_tests_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the SVGs under tests/snapshots/<module>/ (the house layout) instead of __snapshots__."""
    from pytest_textual_snapshot import SVGImageExtension

    def dirname(cls: type, *, test_location: Any) -> str:
        return str(SNAPSHOTS / test_location.basename)

    monkeypatch.setattr(SVGImageExtension, "dirname", classmethod(dirname))
HOSTILE = (
    "\x1b[2J\x1b[31m[bold red]PWNED[/bold red]\x1b[0m \x1b]0;evil title\x07 \x1b]8;;http://evil.example\x1b\\link"
    "\x1b]8;;\x1b\\ quake مرحبا بالعالم \u202eexe.txt\u202c zero\u200bwidth 👩‍👩‍👧 "
) + "quake " * 1700


def app_on(url: str) -> MonitorApp:
    return MonitorApp(open_store(url, readonly=True), clock=lambda: T0, topic="quake")


def loaded(predicate: Callable[[MonitorApp], bool]) -> Callable[[Any], Any]:
    async def wait(pilot: Any) -> None:
        for _ in range(200):
            if predicate(pilot.app):
                break
            await pilot.pause(0.05)
        await pilot.pause()

    return wait


def rows(app: MonitorApp, table: type[KeyedTable]) -> int:
    return app.screen.query_one(table).row_count


def sparklines(app: MonitorApp) -> bool:
    """Every story's sparkline is read (they come a frame after the rows)."""
    board = app.screen.board  # type: ignore[attr-defined]
    return board is not None and all(row.trend for row in board.stories)


@pytest.mark.parametrize("size", SIZES)
def test_empty_store(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """No topics, no daemon: the status says so and the lists are empty."""
    url = db_url(tmp_path)
    open_store(url).close()
    app = app_on(url)
    assert snap_compare(app, terminal_size=size, run_before=loaded(lambda a: a.screen.board is not None))  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", SIZES)
def test_busy_store(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """Stories with marks and sparklines; the first story's posts with a folded duplicate."""
    url = db_url(tmp_path)
    busy_store(url)
    app = app_on(url)
    assert snap_compare(app, terminal_size=size, run_before=loaded(
        lambda a: rows(a, StoryTable) == 3 and rows(a, PostTable) == 4 and sparklines(a)))


@pytest.mark.parametrize("size", SIZES)
def test_feed_health_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    url = db_url(tmp_path)
    busy_store(url)
    app = app_on(url)

    async def run_before(pilot: Any) -> None:
        await loaded(lambda a: rows(a, StoryTable) == 3)(pilot)
        await pilot.press("h")
        await loaded(lambda a: rows(a, KeyedTable) == 2)(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_alerts_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """b: the rules' channels (one failing), the last alerts with their delivery, the highlighted one's text."""
    url = db_url(tmp_path)
    alerted_store(url)
    app = MonitorApp(open_store(url, readonly=True), clock=lambda: T0, topic="quake", alert_rules=(PHONE, DESK))

    async def run_before(pilot: Any) -> None:
        await loaded(lambda a: rows(a, StoryTable) == 3)(pilot)
        await pilot.press("b")
        await loaded(lambda a: a.screen.query_one("#alerts", KeyedTable).row_count == 3)(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def hostile_store(url: str) -> None:
    with open_store(url) as store:
        write(store, now=T0, stories=[story(7, HOSTILE[:200], size=1, last=T0 - timedelta(minutes=1), spike=True)],
              posts=[new_post("h1", HOSTILE, at=T0 - timedelta(minutes=1), story=7, author="[b]mallory\x1b[5m",
                              source="evil\x1b]0;x\x07feed", url="javascript:alert(1)")])
        store.heartbeat(T0)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_post_in_the_lists(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """Escapes, markup, RTL, bidi overrides, zero-width and 10,000 characters stay inert text."""
    url = db_url(tmp_path)
    hostile_store(url)
    assert snap_compare(app_on(url), terminal_size=size,
                        run_before=loaded(lambda a: rows(a, PostTable) == 1 and sparklines(a)))


@pytest.mark.parametrize("size", SIZES)
def test_hostile_post_view(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    url = db_url(tmp_path)
    hostile_store(url)

    async def run_before(pilot: Any) -> None:
        await loaded(lambda a: rows(a, PostTable) == 1)(pilot)
        pilot.app.screen.query_one(PostTable).focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app_on(url), terminal_size=size, run_before=run_before)
