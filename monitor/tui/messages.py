"""What a screen asks of the app. Screens post these; `MonitorApp` handles them, so no screen imports it."""

from __future__ import annotations

from textual.message import Message


class _AboutLink(Message):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url


class OpenLink(_AboutLink):
    """Open a post's link in the browser (the app opens only http(s) links)."""


class CopyLink(_AboutLink):
    """Copy a post's link to the clipboard."""
