"""The dashboard and alerts: stories that alerted are marked 🔔, `b` lists the last alerts with their
delivery and each rule's channel (a failing one says why), live, against a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot

from monitor.tui.app import MonitorApp
from monitor.tui.board import AlertBoard
from monitor.tui.screens.alerts import NO_RULES, AlertsScreen
from monitor.tui.screens.main import MainScreen
from monitor.tui.widgets.rows import KeyedTable
from monitor.tui.widgets.stories import StoryTable
from storage.store import open_store
from tests.support.dashboard import (
    DESK,
    PHONE,
    RECEIVER_DOWN,
    T0,
    alert,
    alerted_store,
    busy_store,
    db_url,
    painted,
    shown,
    until,
    write,
)
from tests.test_tui_screens import Host

SIZE = (120, 30)


def app_on(url: str, *, rules: bool = True, clock: datetime = T0) -> MonitorApp:
    return MonitorApp(open_store(url, readonly=True), clock=lambda: clock, poll_interval=0.1, topic="quake",
                      alert_rules=(PHONE, DESK) if rules else ())


@asynccontextmanager
async def alerts_screen(tmp_path: Path) -> AsyncIterator[tuple[MonitorApp, Pilot[None], str]]:
    """The app on `alerted_store`, its alerts screen open with the three alerts listed."""
    url = db_url(tmp_path)
    alerted_store(url)
    app = app_on(url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one(StoryTable).row_count == 3)
        await pilot.press("b")
        assert isinstance(app.screen, AlertsScreen)
        await until(pilot, lambda: len(alert_rows(app)) == 3)
        yield app, pilot, url


def alert_rows(app: MonitorApp) -> list[str]:
    return [str(k.value) for k in app.screen.query_one("#alerts", KeyedTable).rows]


def story_line(app: MonitorApp, label: str) -> str:
    [line] = [line for line in shown(app.screen.query_one(StoryTable)).splitlines() if label in line]
    return line


async def test_the_stories_that_alerted_are_marked(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    alerted_store(url)
    app = app_on(url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one(StoryTable).row_count == 3)
        assert "🔔" in story_line(app, "Magnitude 6.1 quake")
        assert "🔔" not in story_line(app, "Tsunami warning") and "🔔" not in story_line(app, "Aid convoys")


async def test_a_story_is_marked_as_soon_as_an_alert_on_it_is_stored(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    busy_store(url)
    app = app_on(url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one(StoryTable).row_count == 3)
        assert "🔔" not in shown(app.screen.query_one(StoryTable))
        with open_store(url) as store:
            tsunami = store.story(2)
            assert tsunami is not None
            write(store, now=T0, alerts=[alert(PHONE, "new_story", tsunami, now=T0)])
        await until(pilot, lambda: "🔔" in story_line(app, "Tsunami warning"))
        assert "🔔" not in story_line(app, "Magnitude 6.1 quake")


async def test_b_lists_the_last_alerts_with_their_delivery_and_the_failing_channel(tmp_path: Path) -> None:
    async with alerts_screen(tmp_path) as (app, _pilot, _url):
        screen = painted(app)
        assert "Alerts: 2 rules, 1 failing · the last 3" in screen
        assert f"desk  exec notify-send  spike in every topic  FAILING: {RECEIVER_DOWN} (2 tries" in screen
        assert "phone  ntfy://…  new_story, spike in quake  ok, last sent 2025-03-14 11:59:10Z" in screen
        assert "secret-topic" not in screen, "a channel shows as its scheme: the URL may hold a token"
        lines = [line for line in screen.splitlines() if " ago " in line]
        assert [line.split()[:5] for line in lines] == [
            ["1m", "ago", "desk", "spike", "waiting"],  # newest first
            ["1m", "ago", "phone", "spike", "sent"],
            ["2m", "ago", "phone", "new_story", "sent"],
        ]
        assert "waiting (2 failed)" in lines[0] and "Magnitude 6.1 quake strikes off the coast" in lines[0]
        assert "sent 11:59:10Z" in lines[1]


async def test_the_highlighted_alert_shows_what_it_said_and_what_the_channel_answered(tmp_path: Path) -> None:
    async with alerts_screen(tmp_path) as (app, pilot, _url):
        await until(pilot, lambda: "monitor: a story in quake is spiking" in painted(app))
        assert f"channel answered: {RECEIVER_DOWN}" in painted(app)
        assert "5 posts · from wire, social" in painted(app), "the story as it stood"
        await pilot.press("down", "down")
        await until(pilot, lambda: "monitor: new story in quake" in painted(app))
        assert "channel answered: sent" in painted(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_alerts_screen_follows_the_outbox(tmp_path: Path) -> None:
    """A new alert appears and a delivery changes its row while the screen is open."""
    async with alerts_screen(tmp_path) as (app, pilot, url):
        with open_store(url) as store:
            tsunami = store.story(2)
            assert tsunami is not None
            write(store, now=T0, alerts=[alert(PHONE, "new_story", tsunami, now=T0)])
            desk = next(a for a in store.recent_alerts() if a.rule == "desk")
            store.alert_sent(desk.id, "delivered", T0)
        await until(pilot, lambda: len(alert_rows(app)) == 4 and "1 failing" not in painted(app), seconds=15)
        assert "Tsunami warning lifted for the islands" in painted(app)
        assert "FAILING" not in painted(app)


async def test_without_rules_the_screen_says_how_to_add_one(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    busy_store(url)
    app = app_on(url, rules=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one(StoryTable).row_count == 3)
        await pilot.press("b")
        await until(pilot, lambda: NO_RULES in painted(app))
        assert "Alerts: 0 rules · none yet" in painted(app)


async def test_the_alerts_screen_shows_what_it_is_given_in_any_app() -> None:
    """No MonitorApp and no store: the screen needs only a way to read an AlertBoard."""
    now = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
    host = Host(AlertsScreen(lambda at: AlertBoard((), (), at), clock=lambda: now + timedelta(seconds=1)))
    async with host.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "none yet" in str(host.screen.query_one("#alerts-title").render()))
        await pilot.press("b")
        assert not isinstance(host.screen, AlertsScreen)
