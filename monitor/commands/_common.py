"""What the commands share: loading the config, opening the store, checking arguments.

Command modules import their heavy dependencies (the store, HTTP, the dashboard) inside `run`, so
`monitor COMMAND --help` and a usage or config error end without loading them.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from monitor.config import Config, load
from monitor.errors import UsageError

if TYPE_CHECKING:
    from storage.store import Store

MAX_COUNT = 1_000_000_000
"""More than any store holds, far less than a database integer: a bound that only stops typos."""
MAX_KEYWORDS = 1000
"""More keywords than any article yields."""
MAX_ID = 2**63 - 1
"""The largest id SQLite and PostgreSQL can store."""
_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d+\s*")


def config_of(args: argparse.Namespace) -> Config:
    return load(args.config)


@contextmanager
def reading(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    """The config and a read-only store (readers never block the daemon), once the command's
    `--topic` and `--cluster`, where it has them, name a topic and a story that exist."""
    from storage.store import open_store

    config = config_of(args)
    with open_store(config.storage_url, readonly=True) as store:
        check_topic(getattr(args, "topic", None), config, stored=store.topics())
        _check_story(getattr(args, "cluster", None), store)
        yield config, store


def checked_config(args: argparse.Namespace) -> Config:
    """The config, once `--topic` names a topic that exists (for commands that open the store later)."""
    with reading(args) as (config, _):
        return config


def check_topic(topic: str | None, config: Config, *, stored: list[str]) -> None:
    """UsageError naming the topics there are, configured or `stored`, unless `topic` is one (or None)."""
    if topic is None:
        return
    configured = [t.name for t in config.topics]
    known = configured + [name for name in stored if name not in configured]
    if topic not in known:
        listed = ", ".join(f'"{name}"' for name in known) or "none yet (`monitor init ARTICLE` adds one)"
        raise UsageError(f'no topic "{topic}"; the topics are {listed}')


def _check_story(story_id: int | None, store: Store) -> None:
    if story_id is not None and store.story(story_id) is None:
        raise UsageError(f"no story #{story_id} (`monitor clusters` lists the stories and their ids)")


def limit_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=whole_number(MAX_COUNT), default=None, metavar="N",
                        help="at most N (default: all)")


def whole_number(most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `most` (a huge one would overflow the database)."""

    def parse(value: str) -> int:
        if not _WHOLE_NUMBER.fullmatch(value):
            raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a whole number")
        try:
            n = int(value)
        except ValueError:  # more digits than Python converts: far out of range either way
            n = 0
        if not 1 <= n <= most:
            raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {most:,}")
        return n

    return parse
