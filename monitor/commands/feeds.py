"""monitor feeds retry NAME: the feeds without editing TOML (more subcommands join `retry` here)."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of
from monitor.errors import UsageError
from monitor.textsafe import one_line

NAME = "feeds"
HELP = "manage feeds: `retry NAME` clears a feed's backoff so the daemon polls it at once"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    retry = sub.add_parser("retry", help="clear a feed's backoff: the daemon polls it at its next tick")
    retry.add_argument("name", metavar="NAME", help="the feed's name in feeds.toml")
    # Also after the action (`monitor feeds retry x --config f.toml`); SUPPRESS keeps the command's value.
    retry.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="feeds.toml to use")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    return retry(args, clock)


def retry(args: argparse.Namespace, clock: Clock) -> int:
    """Due now, error count back to zero; the last error stays shown until the next poll replaces it.

    One small write beside the running daemon (it reads each feed's state afresh when it polls)."""
    from storage.store import open_store

    config = config_of(args)
    names = [f.name for f in config.feeds]
    if args.name not in names:
        raise UsageError(f'no feed named "{args.name}" in {config.path} (feeds: {", ".join(names) or "none"})')
    with open_store(config.storage_url) as store:
        store.retry_feed(args.name, clock())
    print(f"{one_line(args.name)}: backoff cleared; due now")
    return 0
