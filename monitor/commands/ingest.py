"""monitor ingest FILE: run posts from JSONL or CSV through the same pipeline, their own times as the clock."""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from pathlib import Path

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of

NAME = "ingest"
HELP = "run posts from a JSONL or CSV file through the pipeline (archives, replays, benchmarks)"
CHUNK = 2000

log = logging.getLogger("monitor.ingest")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a .jsonl file of post objects or a .csv file with post columns")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    from monitor.pipeline import Pipeline
    from monitor.records import read_posts
    from storage.store import open_store

    config = config_of(args)
    # Read the whole file once before touching the database: a malformed row at line 900,000
    # must not leave the first 899,999 stored (or a fresh database created) behind.
    for _ in read_posts(args.file):
        pass
    posts = read_posts(args.file)
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
