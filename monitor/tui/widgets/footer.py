"""The key bar: Textual's footer, without the two style passes per key it costs on every compose."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """Textual's keys start out compact and are then bound to the footer's (not compact): each switch restyles
    the key, twice per key on every compose (the first paint and every change of focus), ~20 ms for our 16
    keys. Here a bound key starts out as the footer is: nothing switches. (The command palette's key is not
    bound: it stays compact, as in Textual's.)"""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget
