"""The dashboard app: wiring only. Screens and widgets live beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import webbrowser
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from monitor.clock import Clock, utc_now
from monitor.config import AlertRule
from monitor.textsafe import one_line
from monitor.tui.board import BoardLoader
from monitor.tui.messages import CopyLink, OpenLink
from monitor.tui.prefs import Prefs
from monitor.tui.screens.main import BINDINGS, MainScreen
from storage.store import Store

log = logging.getLogger(__name__)

Background = Callable[[asyncio.Event], Awaitable[None]]
STOP_TIMEOUT = 10.0


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
        clock: Clock = utc_now,
        open_url: Callable[[str], object] = webbrowser.open,
        background: Background | None = None,
        poll_interval: float = 0.05,
        topics: Sequence[str] = (),
        topic: str | None = None,
        alert_rules: Sequence[AlertRule] = (),
    ) -> None:
        """`topics`: the configured ones, in order (the first is shown first); `topic`: show this one first;
        `alert_rules`: the configured ones, whose channels the alerts screen shows."""
        super().__init__()
        self._main = MainScreen(BoardLoader(store, topics, alert_rules), prefs or Prefs(), clock=clock,
                                poll_interval=poll_interval, topic=topic)
        self._open_url = open_url
        self._background = background
        self._stop = asyncio.Event()
        # Not `_task`: that name is Textual's own (the app's message loop), and waiting on it waits forever.
        self._daemon: asyncio.Task[None] | None = None

    def on_mount(self) -> None:
        self.push_screen(self._main)
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
            self.notify(f"the daemon stopped: {one_line(str(e))}", severity="error", timeout=30,
                        markup=False)

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

    def on_open_link(self, message: OpenLink) -> None:
        """Only http(s) links: a post's link must not launch anything else."""
        if urlsplit(message.url).scheme not in ("http", "https"):
            self.notify("this post has no web link", severity="warning")
            return
        self._open_url(message.url)
        self.notify(f"opened {one_line(message.url)}", timeout=2, markup=False)

    def on_copy_link(self, message: CopyLink) -> None:
        if not message.url:
            self.notify("this post has no link", severity="warning")
            return
        self.copy_to_clipboard(one_line(message.url))
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
