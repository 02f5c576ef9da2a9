"""monitor posts [--topic T] [--cluster ID] [--limit N] [--json]: matched posts, newest first."""

from __future__ import annotations

import argparse

from monitor.commands._common import MAX_ID, limit_arg, reading, whole_number
from monitor.output import post_json, post_line
from monitor.textsafe import json_dumps

NAME = "posts"
HELP = "list matched posts, newest first"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", help="only this topic's posts")
    parser.add_argument("--cluster", type=whole_number(MAX_ID), metavar="ID",
                        help="only this story's posts (with its duplicates)")
    limit_arg(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    with reading(args) as (_, store):
        posts = store.posts(topic=args.topic, story=args.cluster, limit=args.limit)
    if args.json:
        print(json_dumps([post_json(p) for p in posts]))
    else:
        for p in posts:
            print(post_line(p))
    return 0
