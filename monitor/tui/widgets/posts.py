"""The post list: the selected story's posts (or a search's), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from monitor.tui.board import PostRow
from monitor.tui.render import post_cells
from monitor.tui.widgets.rows import KeyedTable

COLUMNS = ("age", "source", "author", "post")


def post_key(row: PostRow) -> str:
    p = row.post.post
    return f"{p.source}\x1f{p.id}"


class PostTable(KeyedTable):
    """One row per post, keyed by source and id; duplicates are folded into "also on"."""

    DEFAULT_CSS = (Path(__file__).with_suffix(".tcss")).read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.by_key: dict[str, PostRow] = {}

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)
        self.border_title = "Posts"

    def show(self, rows: Sequence[PostRow], now: datetime) -> None:
        self.by_key = {post_key(r): r for r in rows}
        self.replace([(post_key(r), post_cells(r, now)) for r in rows])

    def selected_post(self) -> PostRow | None:
        key = self.selected_key()
        return None if key is None else self.by_key.get(key)
