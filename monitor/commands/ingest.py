"""monitor ingest FILE: run posts from JSONL or CSV through the same pipeline, their own times as the clock."""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of

if TYPE_CHECKING:
    from storage.types import Post

NAME = "ingest"
HELP = "run posts from a JSONL or CSV file through the pipeline (archives, replays, benchmarks)"
CHUNK = 2000
KEPT = 50_000
"""Posts kept from the read that checks the file: a file of up to this many is read once, not twice."""

log = logging.getLogger("monitor.ingest")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a .jsonl file of post objects or a .csv file with post columns")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    from monitor.pipeline import Pipeline
    from monitor.records import read_posts
    from storage.store import open_store

    config = config_of(args)
    posts = iter(_checked(args.file, read_posts))
    started, seen, stored = time.perf_counter(), 0, 0
    with open_store(config.storage_url) as store:
        store.lock_writer(clock(), holder=f"monitor {NAME}")
        pipeline = Pipeline(store, config.topics, now=clock())
        while chunk := list(itertools.islice(posts, CHUNK)):
            seen += len(chunk)
            stored += pipeline.process(chunk, now=clock(), replay=True).stored
    elapsed = time.perf_counter() - started
    log.info("ingested %d posts, %d new matches stored, %.0f posts/s", seen, stored, seen / max(elapsed, 1e-9))
    return 0


def _checked(path: Path, read: Callable[[Path], Iterator[Post]]) -> Iterable[Post]:
    """Every post of `path`, once the whole file has been read: a malformed row at line 900,000
    must not leave the first 899,999 stored (or a fresh database created) behind. Up to KEPT posts
    are kept from that read; a bigger file is read again as it is ingested, bounding memory."""
    kept: list[Post] | None = []
    for post in read(path):
        if kept is not None:
            kept.append(post)
            if len(kept) > KEPT:
                kept = None
    return kept if kept is not None else read(path)
