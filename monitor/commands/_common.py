"""What the commands share: loading the config and opening the store."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.config import Config, load
from storage.store import Store, open_store


def config_of(args: argparse.Namespace) -> Config:
    return load(args.config)


@contextmanager
def reading(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    """The config and a read-only store: readers never block the daemon."""
    config = config_of(args)
    with open_store(config.storage_url, readonly=True) as store:
        yield config, store


def limit_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=_positive, default=None, metavar="N", help="at most N (default: all)")


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be a positive number")
    return n
