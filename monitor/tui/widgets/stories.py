"""The story list: the topic's stories, pinned first, then most active."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from monitor.tui.board import StoryRow
from monitor.tui.render import story_cells
from monitor.tui.widgets.rows import KeyedTable

COLUMNS = ("", "posts", "src", "trend", "rate", "age", "story")


class StoryTable(KeyedTable):
    """One row per story, keyed by story id."""

    DEFAULT_CSS = (Path(__file__).with_suffix(".tcss")).read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.by_id: dict[int, StoryRow] = {}

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name or "marks")
        self.border_title = "Stories"

    def show(self, rows: Sequence[StoryRow], now: datetime) -> None:
        self.by_id = {r.story.id: r for r in rows}
        self.replace([(str(r.story.id), story_cells(r, now)) for r in rows])

    def selected_story(self) -> StoryRow | None:
        key = self.selected_key()
        return None if key is None else self.by_id.get(int(key))
