"""The feed health screen: each feed's last status, error and next check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from monitor.clock import Clock
from monitor.output import feed_health
from monitor.textsafe import one_line
from monitor.tui.render import age
from monitor.tui.screens.refreshing import Refreshing
from monitor.tui.widgets.footer import KeyFooter
from monitor.tui.widgets.rows import KeyedTable
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


class FeedsScreen(Refreshing[tuple[Sequence[FeedState], datetime]]):
    """Each feed's health, failing ones first, read again every two seconds."""

    CSS_PATH = Path(__file__).with_name("feeds.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,h", "app.pop_screen", "Back")]
    COLUMNS = COLUMNS

    def __init__(self, feed_states: Callable[[], Sequence[FeedState]], *, clock: Clock) -> None:
        super().__init__()
        self.feed_states = feed_states
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static("Feed health", id="feeds-title")
        yield KeyedTable(id="feeds", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def read(self) -> tuple[Sequence[FeedState], datetime]:
        return self.feed_states(), self.clock()

    def show(self, value: tuple[Sequence[FeedState], datetime]) -> None:
        found, now = value
        states = sorted(found, key=lambda s: (feed_health(s) != "failing", s.name))
        table = self.query_one(KeyedTable)
        table.replace([(s.name, feed_cells(s, now)) for s in states])
        failing = sum(1 for s in states if feed_health(s) == "failing")
        self.query_one("#feeds-title", Static).update(
            Text(f"Feed health: {len(states)} feeds, {failing} failing")
        )
