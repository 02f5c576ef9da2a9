"""Help: every key of the main screen, generated from its bindings so it never drifts."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "Stories group the posts that tell the same thing. ● marks new or grown stories, ⚡ a spike, "
    "📌 a pinned one, 🔔 one that an alert rule fired on (b lists the last alerts). Mute, read and "
    "pin are yours: they live in a small file beside the database, "
    "never in it. u shows what you muted (🔇), where m and a unmute it. Ctrl+P opens the command "
    "palette; the mouse works too."
)


def help_text(bindings: list[Binding]) -> Text:
    out = Text(INTRO + "\n\n")
    for b in bindings:
        out.append(f"{b.key_display or b.key:>10}", style="bold")
        out.append(f"  {b.description}\n")
    return out


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static(help_text(self.bindings), id="help-body", markup=False)
