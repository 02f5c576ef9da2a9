"""monitor export --format jsonl|csv: dump matched posts."""

from __future__ import annotations

import argparse
import sys

from monitor.commands._common import reading
from monitor.output import post_json
from monitor.records import FIELDS, write_csv
from monitor.textsafe import json_dumps

NAME = "export"
HELP = "dump matched posts as JSONL or CSV on stdout"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--topic", help="only this topic's posts")


def run(args: argparse.Namespace) -> int:
    with reading(args) as (_, store):
        rows = [post_json(p) for p in store.posts(topic=args.topic)]
    if args.format == "csv":
        write_csv(rows, sys.stdout, list(rows[0]) if rows else list(FIELDS))
    else:
        for row in rows:
            sys.stdout.write(json_dumps(row, indent=None) + "\n")
    return 0
