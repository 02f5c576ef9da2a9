"""Small modal screens: ask for a line of text; pick one topic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from monitor.textsafe import one_line

CSS_PATH = Path(__file__).with_name("prompt.tcss")


class Prompt(ModalScreen[str | None]):
    """One line of input; Enter returns it ("" clears), Escape returns None."""

    CSS_PATH = CSS_PATH
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, markup=False)
            yield Input(value=self.value, placeholder="empty to clear", id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class TopicPicker(ModalScreen[str | None]):
    """The topics as a list; Enter picks one."""

    CSS_PATH = CSS_PATH
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, topics: Sequence[str], current: str | None) -> None:
        super().__init__()
        self.topics = list(topics)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Topic")
            options = [Option(Text(one_line(t)), id=str(i)) for i, t in enumerate(self.topics)]
            yield OptionList(*options, id="topics")

    def on_mount(self) -> None:
        if self.current in self.topics:
            self.query_one(OptionList).highlighted = self.topics.index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.topics[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)
