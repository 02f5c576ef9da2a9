"""The status line: is the daemon alive, how are the feeds, how fresh is the data, what is filtered."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.widget import Widget

from monitor.textsafe import one_line
from monitor.tui.board import Health
from monitor.tui.render import status_line


class StatusLine(Widget):
    """One line, fitted to its width (short words, then fewer facts); text only, never markup."""

    DEFAULT_CSS = (Path(__file__).with_suffix(".tcss")).read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.health: Health | None = None
        self.topic: str | None = None
        self.notes: tuple[str, ...] = ()
        self.error: str | None = None

    def show(self, health: Health | None, topic: str | None, notes: Sequence[str] = ()) -> None:
        before = self.render()
        self.health, self.topic, self.notes, self.error = health, topic, tuple(notes), None
        self.set_class(health is not None and not health.alive, "-down")
        if self.render() != before:  # shown every second, mostly the same words: a frame only for new ones
            self.refresh()

    def fail(self, error: str) -> None:
        self.error = error
        self.refresh()

    def render(self) -> Text:
        if self.error is not None:
            return Text(f"cannot read the store: {one_line(self.error)}", no_wrap=True, overflow="ellipsis")
        return status_line(self.health, self.topic, self.notes, self.content_size.width)
