"""monitor dash: the dashboard (read-only on the store). Also how `watch` and `demo` open it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import logs
from monitor.clock import utc_now
from monitor.commands._common import checked_config
from monitor.config import Config
from monitor.errors import UsageError

if TYPE_CHECKING:
    import asyncio

    from monitor.tui.app import Background, MonitorApp
    from storage.store import Store

NAME = "dash"
HELP = "open the live dashboard (read-only; run `monitor run` beside it, or use `monitor watch`)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", help="the topic to show first (default: the first in feeds.toml)")


def run(args: argparse.Namespace) -> int:
    config = checked_config(args)  # an unknown --topic is a usage error, whatever the terminal
    require_terminal()
    with dashboard(config, daemon=False, topic=args.topic) as app:
        app.run()
    return 0


def require_terminal(hint: str = "for text output use `monitor clusters` or `monitor posts`") -> None:
    """The dashboard reads keys from stdin and draws on stdout; without a terminal it would spin."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"the dashboard needs a terminal on stdin and stdout ({hint})")


@contextmanager
def dashboard(config: Config, *, daemon: bool, topic: str | None = None) -> Iterator[MonitorApp]:
    """The app on `config`'s store; with `daemon`, the daemon runs in the app's own event loop."""
    from monitor.tui.app import MonitorApp
    from monitor.tui.prefs import Prefs, prefs_path_for
    from storage.store import open_store

    with ExitStack() as stack:
        background = None
        if daemon:
            writer = stack.enter_context(open_store(config.storage_url))
            writer.lock_writer(utc_now(), holder="monitor watch")  # or demo, on a database of its own
            background = _daemon_runner(config, writer)
        reader = stack.enter_context(open_store(config.storage_url, readonly=True))
        prefs = Prefs.load(prefs_path_for(config.storage_url, config.path))
        topics = [t.name for t in config.topics]
        yield MonitorApp(reader, prefs=prefs, clock=utc_now, background=background, topics=topics, topic=topic,
                         alert_rules=config.alerts)


def _daemon_runner(config: Config, writer: Store) -> Background:
    async def serve(stop: asyncio.Event) -> None:
        from monitor.daemon import Daemon
        from monitor.fetch import Fetcher

        async with Fetcher(clock=utc_now) as fetcher:
            await Daemon(config, writer, fetcher, utc_now).run_until(stop)

    return serve


def log_to_file(path: Path) -> None:
    """The daemon's log goes to a file (rotated, see monitor.logs) while the dashboard owns the terminal."""
    logs.to_file(path)
