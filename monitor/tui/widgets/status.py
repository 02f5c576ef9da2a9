"""The status line: is the daemon alive, how are the feeds, how fresh is the data."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from monitor.tui.board import Health
from monitor.tui.render import status_line


class StatusLine(Static):
    """One line; shows text only, never markup from the data."""

    DEFAULT_CSS = (Path(__file__).with_suffix(".tcss")).read_text(encoding="utf-8")

    def show(self, health: Health | None, topic: str | None, filters: str = "") -> None:
        self.set_class(health is not None and not health.alive, "-down")
        self.update(status_line(health, topic, filters))
