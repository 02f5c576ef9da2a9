"""A DataTable that is replaced row by row, keeping the selection and the scroll position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, RowKey

K = TypeVar("K", bound=tuple[Any, ...])
V = TypeVar("V")


class KeyedTable(DataTable[Text]):
    """Rows identified by a string key; `replace` changes only what changed."""

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def replace(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """Show `rows`; the selected row stays selected and stays where it was on screen."""
        keys = [key for key, _ in rows]
        current = [str(k.value) for k in self.rows]
        if keys == current:
            self._update_cells(rows)
            return
        selected = self.selected_key()
        old_index = self.cursor_row
        old_scroll = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            new_index = keys.index(selected)
            self.move_cursor(row=new_index, animate=False, scroll=False)
            # Rows arriving above the selection push it down: scroll along so it does not move.
            self.scroll_to(y=max(0.0, old_scroll + new_index - old_index), animate=False, immediate=True)
        elif rows:
            self.move_cursor(row=min(old_index, len(rows) - 1), animate=False)

    async def _on_idle(self, event: events.Idle) -> None:
        # Textual 8's DataTable measures new rows on idle but keeps lines it rendered before with
        # the old column widths (cut labels until the next change): drop them once measured, if the
        # widths moved (when they did not, those lines are right, and redrawing them all is a refresh's
        # biggest cost).
        remeasure = self._require_update_dimensions or bool(self._updated_cells)
        widths = self._widths()
        await super()._on_idle(event)
        if remeasure and self._widths() != widths:
            self._clear_caches()
            self.refresh()

    def _line_of(self, y: int) -> RowKey | None:
        try:
            return self._get_offsets(y)[0]
        except LookupError:
            return None

    def _widths(self) -> list[int]:
        return [self._row_label_column_width, *(column.get_render_width(self) for column in self.ordered_columns)]

    def _update_cells(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """Change the cells that differ and redraw their rows only: DataTable's update_cell makes every
        line of the table be drawn again (its caches are keyed by a count of updates)."""
        columns = list(self.columns)
        changed: set[RowKey] = set()
        for key, cells in rows:
            row_key = RowKey(key)
            data = self._data[row_key]
            for column, cell in zip(columns, cells, strict=False):
                if cell != data[column]:
                    data[column] = cell
                    self._updated_cells.add(CellKey(row_key, column))  # measured on idle: a wider value widens
                    changed.add(row_key)
        if changed:
            self._forget(changed)

    def _forget(self, changed: set[RowKey]) -> None:
        """Drop what was drawn of the `changed` rows and redraw them."""
        _discard(self._cell_render_cache, changed)
        _discard(self._row_render_cache, changed)
        self._row_renderable_cache.clear()  # keyed by row index and cheap: the cells themselves
        lines = self._line_cache.keys()  # keyed by the line's y in the table
        for key in [key for key in lines if self._line_of(key[0]) in changed]:
            self._line_cache.discard(key)
        for row_key in changed:
            self.refresh_row(self.get_row_index(row_key))


def _discard(cache: LRUCache[K, V], rows: set[RowKey]) -> None:
    """Drop a DataTable cache's entries of `rows` (keys whose first item is the row's)."""
    drawn = cache.keys()  # an LRUCache: no iteration of its own
    for key in [key for key in drawn if key[0] in rows]:
        cache.discard(key)
