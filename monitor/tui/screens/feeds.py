"""The feed health screen: each feed's last status, error and next check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from monitor.clock import Clock
from monitor.output import feed_health
from monitor.textsafe import one_line
from monitor.tui.render import age
from monitor.tui.widgets.rows import KeyedTable
from storage.errors import StorageError
from storage.types import FeedState

COLUMNS = ("feed", "health", "status", "last poll", "next check", "errors", "last error")
HEALTH_STYLE = {"ok": "green", "failing": "bold red", "pending": "yellow"}


def until(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    return "due" if when <= now else "in " + age(now, when)


def feed_cells(state: FeedState, now: datetime) -> tuple[Text, ...]:
    health = feed_health(state)
    return (
        Text(one_line(state.name, 28)),
        Text(health, style=HEALTH_STYLE[health]),
        Text(str(state.last_status) if state.last_status is not None else "-", justify="right"),
        Text(age(state.last_poll, now) + " ago" if state.last_poll else "never"),
        Text(until(state.next_check, now)),
        Text(str(state.error_count), justify="right"),
        Text(one_line(state.last_error or "", 80), style="red"),
    )


class FeedsScreen(Screen[None]):
    """Refreshes itself every two seconds from the store, in a worker thread."""

    CSS_PATH = Path(__file__).with_name("feeds.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,h", "app.pop_screen", "Back")]

    class Loaded(Message):
        def __init__(self, states: Sequence[FeedState], now: datetime) -> None:
            super().__init__()
            self.states = states
            self.now = now

    def __init__(self, feed_states: Callable[[], Sequence[FeedState]], *, clock: Clock) -> None:
        super().__init__()
        self.feed_states = feed_states
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static("Feed health", id="feeds-title")
        yield KeyedTable(id="feeds", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.load()
        self.set_interval(2.0, self.load)

    @work(thread=True, exclusive=True, group="feeds")
    def load(self) -> None:
        try:
            states = self.feed_states()
        except StorageError as e:
            self.app.call_from_thread(self.notify, str(e), severity="error", markup=False)
            return
        self.post_message(self.Loaded(states, self.clock()))

    def on_feeds_screen_loaded(self, message: Loaded) -> None:
        states = sorted(message.states, key=lambda s: (feed_health(s) != "failing", s.name))
        table = self.query_one(KeyedTable)
        table.replace([(s.name, feed_cells(s, message.now)) for s in states])
        failing = sum(1 for s in states if feed_health(s) == "failing")
        self.query_one("#feeds-title", Static).update(
            Text(f"Feed health: {len(states)} feeds, {failing} failing")
        )
