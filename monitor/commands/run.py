"""monitor run [--once]: the daemon."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of
from monitor.config import Config, ConfigError

if TYPE_CHECKING:
    from monitor.daemon import Tally
    from monitor.parsing import PageParser
    from storage.store import Store

NAME = "run"
HELP = "poll the feeds and store matching posts (a daemon; --once polls every feed once and exits)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="poll every feed once, process, and exit")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    from monitor.parsing import PageParser, spare_core

    config = config_of(args)
    if not config.feeds:
        raise ConfigError(f"{config.path}: no [[feeds]] to poll (`monitor init ARTICLE` adds default feeds)")
    if not config.topics:
        raise ConfigError(f"{config.path}: no [[topics]], so every post would be dropped (`monitor init ARTICLE`)")
    # Forked first, while this process has one thread and has opened nothing (monitor/parsing.py);
    # stopped however the run ends (CPython 3.11's pool can fail at exit when left to the collector).
    with PageParser.forked() if spare_core() else PageParser() as parser:
        from storage.store import open_store

        with open_store(config.storage_url) as store:
            if args.once or not store.shared():  # SQLite, or one pass: the one writer
                store.lock_writer(clock(), holder=f"monitor {NAME}")
            tally = asyncio.run(serve(config, store, clock=clock, once=args.once, parser=parser))
    if args.once:
        print(tally.line())
    return 0


async def serve(config: Config, store: Store, *, clock: Clock = utc_now, once: bool = False,
                parser: PageParser | None = None) -> Tally:
    """Poll until stopped (or once), with one HTTP client for the whole run; what the polls did.
    `parser`: where pages are parsed (by default a thread of this process); the daemon closes it."""
    from monitor.daemon import Daemon
    from monitor.fetch import Fetcher
    from monitor.sdnotify import Notifier

    async with Fetcher(clock=clock) as fetcher:
        if store.shared() and not once:  # one worker among any number on this PostgreSQL database
            from monitor.worker import Worker

            daemon: Daemon = Worker(config, store, fetcher, clock, Notifier.from_environment(), lease=config.lease,
                                    parser=parser)
        else:
            daemon = Daemon(config, store, fetcher, clock, Notifier.from_environment(), parser=parser)
        try:
            if once:
                await daemon.run_once()
            else:
                await daemon.run_forever()
        finally:
            await daemon.drain()
    return daemon.tally
