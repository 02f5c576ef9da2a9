"""The dashboard app: wiring only. Screens and widgets live beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import webbrowser
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from monitor.textsafe import one_line
from monitor.tui.board import Reader
from monitor.tui.prefs import Prefs
from monitor.tui.screens.main import BINDINGS, MainScreen
from storage.store import Store

log = logging.getLogger(__name__)

Background = Callable[[asyncio.Event], Awaitable[None]]
STOP_TIMEOUT = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class MonitorApp(App[None]):
    """Read-only on the store. `background` (the daemon, for `watch` and `demo`) runs in this loop."""

    TITLE = "monitor"
    # Ctrl-C quits like q (Textual's default only shows a toast); in a text box it still copies.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+c", "quit", "Quit", show=False)]

    def __init__(
        self,
        store: Store,
        *,
        prefs: Prefs | None = None,
        clock: Callable[[], datetime] = utcnow,
        open_url: Callable[[str], object] = webbrowser.open,
        background: Background | None = None,
        poll_interval: float = 0.5,
        topic: str | None = None,
    ) -> None:
        super().__init__()
        self.reader = Reader(store)
        self.prefs = prefs or Prefs()
        self.clock = clock
        self.poll_interval = poll_interval
        self.first_topic = topic
        self._open_url = open_url
        self._background = background
        self._stop = asyncio.Event()
        # Not `_task`: that name is Textual's own (the app's message loop), and waiting on it waits forever.
        self._daemon: asyncio.Task[None] | None = None

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
        if self._background is not None:
            self._daemon = asyncio.create_task(self._run_background(self._background))
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals on Windows or off the main thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.call_later, self.action_quit)

    def on_unmount(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)

    @property
    def daemon_stopped(self) -> bool:
        """The daemon this app runs has finished (True when it runs none)."""
        return self._daemon is None or self._daemon.done()

    async def _run_background(self, background: Background) -> None:
        try:
            await background(self._stop)
        except Exception as e:  # the daemon failing must show, not kill the dashboard
            log.exception("the background daemon stopped")
            self.notify(f"the daemon stopped: {one_line(str(e))}", severity="error", timeout=30)

    async def action_quit(self) -> None:
        """Stop the daemon we run (letting its polls finish), then leave. SIGTERM and Ctrl-C come here too."""
        self._stop.set()
        if self._daemon is not None and not self._daemon.done():
            self.notify("stopping the daemon…", timeout=STOP_TIMEOUT)
            try:
                await asyncio.wait_for(asyncio.shield(self._daemon), STOP_TIMEOUT)
            except TimeoutError:
                log.warning("the daemon did not stop within %.0f s", STOP_TIMEOUT)
        self.exit()

    def open_link(self, url: str) -> None:
        """Only http(s) links: a post's link must not launch anything else."""
        if urlsplit(url).scheme not in ("http", "https"):
            self.notify("this post has no web link", severity="warning")
            return
        self._open_url(url)
        self.notify(f"opened {one_line(url)}", timeout=2)

    def copy_link(self, url: str) -> None:
        if not url:
            self.notify("this post has no link", severity="warning")
            return
        self.copy_to_clipboard(one_line(url))
        self.notify("link copied", timeout=2)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for binding in BINDINGS:
            if binding.action.startswith("app."):
                continue
            yield SystemCommand(
                binding.description, f"key: {binding.key_display or binding.key}", _runner(screen, binding.action)
            )
        for topic in screen.board.topics if screen.board else ():
            yield SystemCommand(f"Topic: {one_line(topic)}", "show this topic's stories", _switcher(screen, topic))


def _runner(screen: MainScreen, action: str) -> Callable[[], Awaitable[object]]:
    return lambda: screen.run_action(action)


def _switcher(screen: MainScreen, topic: str) -> Callable[[], None]:
    return lambda: screen.switch_topic(topic)
