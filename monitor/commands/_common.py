"""What the commands share: loading the config and opening the store.

Command modules import their heavy dependencies inside `run`, so `monitor --help` and every
other command start without loading what they do not use.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from monitor.config import Config, load

if TYPE_CHECKING:
    from storage.store import Store


def config_of(args: argparse.Namespace) -> Config:
    return load(args.config)


@contextmanager
def reading(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    """The config and a read-only store: readers never block the daemon."""
    from storage.store import open_store

    config = config_of(args)
    with open_store(config.storage_url, readonly=True) as store:
        yield config, store


def limit_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=_positive, default=None, metavar="N", help="at most N (default: all)")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be a positive number")
    return n
