"""Each screen gets what it needs when it is made and asks the app for the rest by message: it runs in a
bare Textual app, and MonitorApp does what the messages ask (http(s) links only)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.app import App
from textual.message import Message
from textual.screen import Screen

from monitor.tui.app import MonitorApp
from monitor.tui.board import BoardLoader
from monitor.tui.messages import CopyLink, OpenLink
from monitor.tui.prefs import Prefs
from monitor.tui.screens.feeds import FeedsScreen
from monitor.tui.screens.main import MainScreen
from monitor.tui.screens.post import PostScreen
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.rows import KeyedTable
from monitor.tui.widgets.stories import StoryTable
from storage.store import open_store
from storage.types import FeedState
from tests.support.dashboard import T0, busy_store, db_url, new_post, story, until, write

URL = "https://example.org/social/s3"  # the newest post of busy_store's first story


class Host(App[None]):
    """A bare Textual app that records what its screen asks for: no MonitorApp anywhere."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen
        self.asked: list[Message] = []

    def on_mount(self) -> None:
        self.push_screen(self.first)

    def on_open_link(self, message: OpenLink) -> None:
        self.asked.append(message)

    def on_copy_link(self, message: CopyLink) -> None:
        self.asked.append(message)


def asked(host: Host) -> list[tuple[str, str]]:
    return [(type(m).__name__, m.url) for m in host.asked if isinstance(m, OpenLink | CopyLink)]


def main_screen(tmp_path: Path) -> MainScreen:
    url = db_url(tmp_path)
    busy_store(url)
    return MainScreen(BoardLoader(open_store(url, readonly=True)), Prefs(), clock=lambda: T0, poll_interval=0.1,
                      topic="quake")


async def test_the_main_screen_runs_in_any_app_and_asks_for_links(tmp_path: Path) -> None:
    host = Host(main_screen(tmp_path))
    async with host.run_test(size=(120, 30)) as pilot:
        posts = host.screen.query_one(PostTable)
        await until(pilot, lambda: host.screen.query_one(StoryTable).row_count == 3 and posts.row_count == 4)
        await pilot.press("o", "c")
    assert asked(host) == [("OpenLink", URL), ("CopyLink", URL)]


async def test_the_post_screen_asks_for_its_link(tmp_path: Path) -> None:
    screen = main_screen(tmp_path)
    host = Host(screen)
    async with host.run_test(size=(120, 30)) as pilot:
        posts = host.screen.query_one(PostTable)
        await until(pilot, lambda: posts.row_count == 4)
        posts.focus()
        await pilot.press("enter")
        assert isinstance(host.screen, PostScreen)
        await pilot.press("o", "c")
    assert asked(host) == [("OpenLink", URL), ("CopyLink", URL)]


async def test_the_feeds_screen_shows_the_states_it_is_given() -> None:
    states = [FeedState("wire", last_poll=T0 - timedelta(seconds=40), last_status=200),
              FeedState("social", last_poll=T0, last_status=503, last_error="HTTP 503", error_count=2)]
    host = Host(FeedsScreen(lambda: states, clock=lambda: T0))
    async with host.run_test(size=(120, 30)) as pilot:
        table = host.screen.query_one(KeyedTable)
        await until(pilot, lambda: table.row_count == 2)
        assert [str(k.value) for k in table.rows] == ["social", "wire"]
        assert str(table.get_row("wire")[3]) == "40s ago"


async def test_the_app_opens_and_copies_only_what_the_screens_ask(tmp_path: Path) -> None:
    """A javascript: link is never handed to the browser; the app says why."""
    url = db_url(tmp_path)
    with open_store(url) as store:
        write(store, now=T0, stories=[story(1, "quake", size=1, last=T0)],
              posts=[new_post("x1", "quake", at=T0, url="javascript:alert(1)")])
    opened: list[str] = []
    app = MonitorApp(open_store(url, readonly=True), clock=lambda: T0, open_url=opened.append)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(PostTable).row_count == 1)
        await pilot.press("o")
        assert opened == []
        assert [n.message for n in app._notifications] == ["this post has no web link"]
