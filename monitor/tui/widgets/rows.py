"""A DataTable that is replaced row by row, keeping the selection and the scroll position."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


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
        # the old column widths (cut labels until the next change): drop them once measured.
        remeasure = self._require_update_dimensions or bool(self._updated_cells)
        await super()._on_idle(event)
        if remeasure:
            self._clear_caches()
            self.refresh()

    def _update_cells(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        columns = list(self.columns)
        for key, cells in rows:
            row_key = RowKey(key)
            old = self.get_row(row_key)
            for column, cell, before in zip(columns, cells, old, strict=False):
                if cell != before:
                    self.update_cell(row_key, column, cell, update_width=True)  # else a wider value is cut
