"""The post view: full text, link, and why it matched."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from monitor.tui.board import PostRow
from monitor.tui.messages import CopyLink, OpenLink
from monitor.tui.render import post_detail
from monitor.tui.widgets.footer import KeyFooter


class PostScreen(Screen[None]):
    """One post, all of it; Escape goes back."""

    CSS_PATH = Path(__file__).with_name("post.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("o", "open_link", "Open link"),
        Binding("c", "copy_link", "Copy link"),
    ]

    def __init__(self, row: PostRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="post-scroll"):
            yield Static(post_detail(self.row.post, self.row.also_on), id="post-body", markup=False)
        yield KeyFooter()

    def action_open_link(self) -> None:
        self.post_message(OpenLink(self.row.post.post.url))

    def action_copy_link(self) -> None:
        self.post_message(CopyLink(self.row.post.post.url))
