"""monitor export --format jsonl|csv|opml: dump matched posts, or the feeds as OPML."""

from __future__ import annotations

import argparse
import sys

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of, reading
from monitor.output import post_json
from monitor.records import FIELDS, write_csv
from monitor.textsafe import json_dumps

NAME = "export"
HELP = "dump matched posts as JSONL or CSV on stdout, or the feeds as OPML (for any feed reader)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("jsonl", "csv", "opml"), default="jsonl",
                        help="jsonl or csv: the matched posts; opml: the feeds (OPML 2.0)")
    parser.add_argument("--topic", help="only this topic's posts")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    if args.format == "opml":
        return _opml(args, clock)
    with reading(args) as (_, store):
        rows = [post_json(p) for p in store.posts(topic=args.topic)]
    if args.format == "csv":
        write_csv(rows, sys.stdout, list(rows[0]) if rows else list(FIELDS))
    else:
        for row in rows:
            sys.stdout.write(json_dumps(row, indent=None) + "\n")
    return 0


def _opml(args: argparse.Namespace, clock: Clock) -> int:
    """The feeds of feeds.toml as OPML 2.0; the database is not needed."""
    from monitor import opml
    from monitor.feedlist import exported

    config = config_of(args)
    document = opml.write([exported(f) for f in config.feeds], title=f"monitor feeds ({config.path.name})",
                          now=clock())
    sys.stdout.buffer.write(document)
    sys.stdout.flush()
    return 0
