"""monitor clusters [--topic T] [--live] [--limit N] [--json]: stories, most active first."""

from __future__ import annotations

import argparse

from monitor.clock import Clock, utc_now
from monitor.commands._common import limit_arg, reading
from monitor.output import post_line, story_json, story_line
from monitor.storyreads import stories_at
from monitor.textsafe import json_dumps

NAME = "clusters"
HELP = "list the stories (posts grouped by the happening they are about), most active first, each with its newest posts"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", help="only this topic's stories")
    parser.add_argument("--live", action="store_true", help="only stories that have not gone quiet")
    limit_arg(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    with reading(args) as (_, store):
        stories = stories_at(store, clock(), topic=args.topic, live_only=args.live, limit=args.limit)
        members = {s.id: store.posts(story=s.id) for s in stories}
    if args.json:
        print(json_dumps([story_json(s, members[s.id]) for s in stories]))
        return 0
    for story in stories:
        print(story_line(story))
        for post in members[story.id][:5]:
            print("    " + post_line(post, width=70))
    return 0
