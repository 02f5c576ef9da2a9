"""The story list: the topic's stories, pinned first, then most active."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import events

from monitor.tui.board import StoryRow
from monitor.tui.render import story_cells
from monitor.tui.widgets.rows import KeyedTable

COLUMNS = {"marks": "", "posts": "posts", "src": "src", "trend": "trend", "rate": "rate", "age": "age",
           "story": "story"}
NARROW = 96  # cells inside the border (a 98-column terminal): below, the label needs the room of src and trend
WIDE_ONLY = ("src", "trend")


class StoryTable(KeyedTable):
    """One row per story, keyed by story id."""

    DEFAULT_CSS = (Path(__file__).with_suffix(".tcss")).read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.by_id: dict[int, StoryRow] = {}
        self.narrow = False
        self.now: datetime | None = None

    def on_mount(self) -> None:
        self._add_columns()
        self.border_title = "Stories"

    def on_resize(self, _: events.Resize) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.narrow:
            self.narrow = narrow
            self._relayout()

    def show(self, rows: Sequence[StoryRow], now: datetime) -> None:
        self.by_id = {r.story.id: r for r in rows}
        self.now = now
        self.replace([(str(r.story.id), self._cells(r, now)) for r in rows])

    def selected_story(self) -> StoryRow | None:
        key = self.selected_key()
        return None if key is None else self.by_id.get(int(key))

    def _columns(self) -> list[str]:
        return [c for c in COLUMNS if not (self.narrow and c in WIDE_ONLY)]

    def _add_columns(self) -> None:
        for key in self._columns():
            self.add_column(COLUMNS[key], key=key)

    def _cells(self, row: StoryRow, now: datetime) -> tuple[Text, ...]:
        cells = story_cells(row, now)
        return tuple(cells[c] for c in self._columns())

    def _relayout(self) -> None:
        """Columns for the new width, the same rows, the same story selected."""
        selected = self.selected_key()
        self.clear(columns=True)
        self._add_columns()
        if self.now is not None:
            self.show(list(self.by_id.values()), self.now)
        keys = [str(k.value) for k in self.rows]
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)
