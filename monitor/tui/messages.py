"""What a screen asks of the app. Screens post these; `MonitorApp` handles them, so no screen imports it."""

from __future__ import annotations

from textual.message import Message


class OpenLink(Message):
    """Open a post's link in the browser (the app opens only http(s) links)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url


class CopyLink(Message):
    """Copy a post's link to the clipboard."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
