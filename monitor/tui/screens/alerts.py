"""The alerts screen: each rule's channel (working or failing, and why), the last alerts and where each
stands, and what the highlighted one said. Alert text comes from the internet: shown as text, never markup."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from monitor.alerts import HELD, PENDING, SENT, ChannelState, delivery, headline, render
from monitor.clock import Clock
from monitor.textsafe import one_line
from monitor.tui.board import AlertBoard
from monitor.tui.render import age
from monitor.tui.screens.refreshing import Refreshing
from monitor.tui.widgets.footer import KeyFooter
from monitor.tui.widgets.rows import KeyedTable
from storage.types import Alert

COLUMNS = ("when", "rule", "event", "delivery", "topic", "about")
DELIVERY_STYLE = {SENT: "green", HELD: "yellow", PENDING: "yellow"}
NO_RULES = "no alert rules: add an [[alerts]] table to feeds.toml (README, Alerts)"


def payload(alert: Alert) -> Mapping[str, Any]:
    """The alert's JSON as the channel got it ({} if unreadable: the row still shows)."""
    try:
        value = json.loads(alert.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def alert_cells(alert: Alert, now: datetime) -> tuple[Text, ...]:
    failing = alert.state == PENDING and alert.attempts > 0
    style = "bold red" if failing else DELIVERY_STYLE.get(alert.state, "")
    return (
        Text(age(alert.created, now) + " ago", justify="right"),
        Text(one_line(alert.rule, 16)),
        Text(alert.event, style="bold" if alert.event in ("spike", "new_story") else ""),
        Text(delivery(alert), style=style),
        Text(one_line(alert.topic or "every topic", 20)),
        Text(headline(payload(alert)) or (f"story #{alert.story}" if alert.story is not None else "")),
    )


def channel_text(channels: tuple[ChannelState, ...]) -> Text:
    """One line per rule, failing ones in red; `line` has made every string printable."""
    if not channels:
        return Text(NO_RULES, style="italic")
    return Text("\n").join(Text(c.line(), style="bold red" if c.failing else "") for c in channels)


def alert_detail(alert: Alert) -> Text:
    """The notification as the channel showed it, and what the channel answered."""
    title, body = render(payload(alert))
    out = Text(title + "\n", style="bold")
    if alert.answer:  # before the body, which the pane may cut
        out.append(f"channel answered: {one_line(alert.answer, 300)}\n", style="italic")
    out.append(body)
    return out


class AlertsScreen(Refreshing[AlertBoard]):
    """What the outbox holds, read again every two seconds."""

    CSS_PATH = Path(__file__).with_name("alerts.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,b", "app.pop_screen", "Back")]
    COLUMNS = COLUMNS

    def __init__(self, load: Callable[[datetime], AlertBoard], *, clock: Clock) -> None:
        super().__init__()
        self.load_board = load
        self.clock = clock
        self.by_key: dict[str, Alert] = {}

    def compose(self) -> ComposeResult:
        yield Static("Alerts", id="alerts-title", markup=False)
        yield Static("", id="channels", markup=False)
        yield KeyedTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alert-detail", markup=False)
        yield KeyFooter()

    def read(self) -> AlertBoard:
        return self.load_board(self.clock())

    def show(self, board: AlertBoard) -> None:
        self.by_key = {str(a.id): a for a in board.alerts}
        self.query_one(KeyedTable).replace([(str(a.id), alert_cells(a, board.now)) for a in board.alerts])
        failing = f", {board.failing} failing" if board.failing else ""
        shown = f"the last {len(board.alerts)}" if board.alerts else "none yet"
        rules = f"{len(board.channels)} rule{'' if len(board.channels) == 1 else 's'}"
        self.query_one("#alerts-title", Static).update(Text(f"Alerts: {rules}{failing} · {shown}"))
        self.query_one("#channels", Static).update(channel_text(board.channels))
        self._show_detail()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.query_one(KeyedTable).selected_key()
        alert = self.by_key.get(key) if key is not None else None
        self.query_one("#alert-detail", Static).update(alert_detail(alert) if alert else Text(""))
