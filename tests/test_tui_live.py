"""The dashboard against a real SQLite file that another thread writes while it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App

from monitor.tui.app import MonitorApp
from monitor.tui.board import Board, BoardLoader
from monitor.tui.prefs import Prefs
from monitor.tui.screens.main import MainScreen
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.status import StatusLine
from monitor.tui.widgets.stories import StoryTable
from storage.errors import StorageError
from storage.store import open_store
from tests.support.dashboard import T0, busy_store, db_url, in_thread, new_post, shown, story, until, write


def now() -> datetime:
    return datetime.now(UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def open_app(url: str) -> MonitorApp:
    app = MonitorApp(open_store(url, readonly=True), poll_interval=0.1)
    return app


def story_keys(app: MonitorApp) -> list[str]:
    return [str(k.value) for k in app.screen.query_one(StoryTable).rows]


def post_keys(app: MonitorApp) -> list[str]:
    return [str(k.value) for k in app.screen.query_one(PostTable).rows]


def status(app: MonitorApp) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def show_quake(app: MonitorApp, pilot: object) -> None:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await until(pilot, lambda: screen.board is not None)  # type: ignore[arg-type]
    screen.switch_topic("quake")
    await until(pilot, lambda: story_keys(app) == ["1", "2", "3"])  # type: ignore[arg-type]


async def test_a_new_story_appears(tmp_path: Path) -> None:
    """A story committed by the daemon's thread shows up in the list while the app runs."""
    url = db_url(tmp_path)
    busy_store(url, now())
    app = open_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_quake(app, pilot)
        with open_store(url) as writer:
            t = now()
            await in_thread(lambda: write(
                writer, now=t, stories=[story(9, "Aftershock rattles the capital", size=1, last=t, velocity=50.0)],
                posts=[new_post("w9", "A strong aftershock after the quake", at=t, story=9)],
            ))
        await until(pilot, lambda: story_keys(app)[:1] == ["9"])
        assert story_keys(app) == ["9", "1", "2", "3"]
        table = app.screen.query_one(StoryTable)
        assert "Aftershock rattles the capital" in str(table.get_row("9")[6])


async def test_selection_survives_updates(tmp_path: Path) -> None:
    """New rows above the selected story keep it selected, with its posts shown and updated."""
    url = db_url(tmp_path)
    busy_store(url, now())
    app = open_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_quake(app, pilot)
        await pilot.press("down")
        await until(pilot, lambda: post_keys(app) == ["wire\x1fw3", "wire\x1fw4"])
        table = app.screen.query_one(StoryTable)
        with open_store(url) as writer:
            t = now()
            await in_thread(lambda: write(
                writer,
                now=t,
                stories=[story(9, "Aftershock", size=1, last=t, velocity=50.0),
                         story(2, "Tsunami warning lifted for the islands", size=3, last=t, velocity=3.0)],
                posts=[new_post("w9", "aftershock quake", at=t, story=9),
                       new_post("w10", "Warning lifted, quake over", at=t, story=2)],
            ))
        await until(pilot, lambda: "9" in story_keys(app) and len(post_keys(app)) == 3)
        assert table.selected_story().story.id == 2  # type: ignore[union-attr]
        assert table.cursor_row == 2
        assert post_keys(app) == ["wire\x1fw10", "wire\x1fw3", "wire\x1fw4"]


async def test_scroll_position_survives_updates(tmp_path: Path) -> None:
    """In a scrolled list, a story arriving on top leaves the selected row where it was on screen."""
    url = db_url(tmp_path)
    t = now()
    with open_store(url) as writer:
        write(writer, now=t, stories=[story(i, f"Story {i}", size=1, last=t, velocity=100.0 - i) for i in range(1, 41)],
              posts=[new_post(f"p{i}", f"quake {i}", at=t, story=i) for i in range(1, 41)])
    app = open_app(url)
    async with app.run_test(size=(100, 24)) as pilot:
        await until(pilot, lambda: len(story_keys(app)) == 40)
        table = app.screen.query_one(StoryTable)
        table.focus()
        for _ in range(20):
            await pilot.press("down")
        await until(pilot, lambda: table.scroll_y > 0)
        selected, on_screen = table.selected_key(), table.cursor_row - table.scroll_y
        with open_store(url) as writer:
            await in_thread(lambda: write(writer, now=now(), stories=[story(99, "Breaking", size=1, last=now(),
                                                                            velocity=500.0)],
                                          posts=[new_post("p99", "quake breaking", at=now(), story=99)]))
        await until(pilot, lambda: story_keys(app)[:1] == ["99"])
        assert table.selected_key() == selected
        assert table.cursor_row - table.scroll_y == on_screen


async def test_columns_widen_when_a_story_updates_in_place(tmp_path: Path) -> None:
    """The same rows with wider values: the rate shows whole (it once read `26.0/`) and a spike's ⚡
    shows (an 18-post burst once had none: the marks column kept its first width)."""
    url = db_url(tmp_path)
    t = now()
    with open_store(url) as writer:
        write(writer, now=t, stories=[story(1, "Bridge closed", size=2, last=t, velocity=2.0)],
              posts=[new_post("p1", "quake: the bridge is closed", at=t)])
    app = open_app(url)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(StoryTable)
        await until(pilot, lambda: "2.0/h" in shown(table))
        with open_store(url) as writer:
            t = now()
            await in_thread(lambda: write(writer, now=t, stories=[
                story(1, "Bridge closed", size=20, last=t, velocity=26.0, spike=True)]))
        await until(pilot, lambda: str(table.get_row("1")[1]) == "20")  # updated in place
        await until(pilot, lambda: "26.0/h" in shown(table) and "⚡" in shown(table))


async def test_a_story_updated_in_place_is_drawn_anew(tmp_path: Path) -> None:
    """A changed row is drawn again even when no column widens (only its row is: the others keep theirs)."""
    url = db_url(tmp_path)
    t = now()
    with open_store(url) as writer:
        write(writer, now=t, stories=[story(1, "Bridge closed", size=2, last=t, velocity=2.0),
                                      story(2, "Ferry delayed", size=5, last=t - timedelta(minutes=1), velocity=1.0)],
              posts=[new_post("p1", "quake: the bridge is closed", at=t),
                     new_post("p2", "quake: ferry late", at=t, story=2)])
    app = open_app(url)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(StoryTable)
        await until(pilot, lambda: "2.0/h" in shown(table) and "Ferry delayed" in shown(table))
        with open_store(url) as writer:
            t = now()
            await in_thread(lambda: write(writer, now=t, stories=[
                story(1, "Bridge closed", size=3, last=t, velocity=3.0)]))
        await until(pilot, lambda: str(table.get_row("1")[1]) == "3")  # updated in place
        await until(pilot, lambda: "3.0/h" in shown(table))
        lines = shown(table).splitlines()
        assert any("3.0/h" in line and "Bridge closed" in line for line in lines)
        assert any("1.0/h" in line and "Ferry delayed" in line for line in lines)
        assert "2.0/h" not in shown(table)


async def test_ages_are_as_of_now_on_a_quiet_store(tmp_path: Path) -> None:
    """Nothing written for an hour: the story's and the post's age still say an hour, not two minutes."""
    url = db_url(tmp_path)
    busy_store(url, T0)
    clock = FakeClock(T0)
    app = MonitorApp(open_store(url, readonly=True), clock=clock, topic="quake", poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        stories, posts = app.screen.query_one(StoryTable), app.screen.query_one(PostTable)
        await until(pilot, lambda: posts.row_count == 4)
        assert str(stories.get_row("1")[5]) == "2m" and str(posts.get_row("social\x1fs3")[0]) == "2m"
        clock.now = T0 + timedelta(hours=1)
        await until(pilot, lambda: str(stories.get_row("1")[5]) == "1h")
        assert str(posts.get_row("social\x1fs3")[0]) == "1h"


async def test_the_daemon_down_state_shows_and_clears(tmp_path: Path) -> None:
    """An old heartbeat reads as down; a fresh beat (no revision change) flips it to alive."""
    url = db_url(tmp_path)
    busy_store(url, now() - timedelta(minutes=5))
    app = open_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "daemon down" in status(app))
        assert app.screen.query_one(StatusLine).has_class("-down")
        with open_store(url) as writer:
            await in_thread(lambda: writer.heartbeat(now()))
        await until(pilot, lambda: "daemon alive" in status(app))
        assert not app.screen.query_one(StatusLine).has_class("-down")


async def test_no_daemon_ever_reads_as_down(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    open_store(url).close()
    app = open_app(url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "daemon down" in status(app))
        assert story_keys(app) == []


class Failing(BoardLoader):
    """The store's reads fail until `heal` (a mock at the edge of the screen: the loader)."""

    healed = False

    def board(self, *args: Any, **kwargs: Any) -> Board:
        if not self.healed:
            raise StorageError("database is locked")
        return super().board(*args, **kwargs)


async def test_an_unreadable_store_shows_and_recovers(tmp_path: Path) -> None:
    """A read that fails says so on the status line; once reads work again the rows come, unasked."""
    url = db_url(tmp_path)
    busy_store(url, T0)
    loader = Failing(open_store(url, readonly=True))
    screen = MainScreen(loader, Prefs(), clock=lambda: T0, poll_interval=0.1, topic="quake")
    app = Bare(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        status_line = screen.query_one(StatusLine)
        await until(pilot, lambda: "cannot read the store: database is locked" in str(status_line.render()))
        assert screen.query_one(StoryTable).row_count == 0
        loader.healed = True
        await until(pilot, lambda: screen.query_one(StoryTable).row_count == 3)
        assert "cannot read" not in str(status_line.render())


class Bare(App[None]):
    def __init__(self, screen: MainScreen) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)
