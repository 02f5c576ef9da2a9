"""`monitor test-query QUERY [--topic T]`: preview what a query would match among stored posts, and why.

Named query_preview, not test_query, so that no one (and no test runner) takes it for a test module.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.commands._common import check_topic, config_of, limit_arg, reading
from monitor.errors import UsageError
from monitor.output import iso
from monitor.textsafe import json_dumps, one_line

if TYPE_CHECKING:
    from monitor.match import Matcher

NAME = "test-query"
HELP = "show which stored posts a query would match, with the terms that matched, before saving it"
SNIPPET = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help='the query, e.g. \'Khamenei OR "axis of resistance" -football\'')
    parser.add_argument("--topic", metavar="T", help="only posts stored under this topic")
    parser.add_argument("--json", action="store_true",
                        help="a JSON list of {id, source, author, url, text, published, matched}")
    limit_arg(parser)


def run(args: argparse.Namespace) -> int:
    from storage.errors import NoDatabaseYet

    matcher = _matcher(args.query)
    try:
        with reading(args) as (_, store):
            stored = store.posts(topic=args.topic)
    except NoDatabaseYet:  # right after `init`: the query can still be checked
        check_topic(args.topic, config_of(args), stored=[])
        print("the query is valid; no posts are stored yet (`monitor run --once` fetches some)")
        return 0
    hits = [(s.post, list(match.terms)) for s in stored for match in matcher.match(s.post)]
    if args.limit is not None:
        hits = hits[: args.limit]
    if args.json:
        print(json_dumps([{"id": post.id, "source": post.source, "author": post.author, "url": post.url,
                           "text": post.text, "published": iso(post.published), "matched": terms}
                          for post, terms in hits]))
        return 0
    for post, terms in hits:
        print(f"{post.published:%Y-%m-%d %H:%M}  {one_line(post.source)}  {one_line(post.author)}")
        print(f"    {one_line(post.text, SNIPPET)}")
        print(f"    matched: {one_line(', '.join(terms)) or '(everything)'}")
    where = f' under topic "{one_line(args.topic)}"' if args.topic else ""
    print(f"{len(hits)} of {len(stored)} stored posts{where} match")
    return 0


def _matcher(query: str) -> Matcher:
    from monitor.config import Topic
    from monitor.match import compile_topics
    from monitor.query.parse import QuerySyntaxError, parse

    try:
        parse(query)
    except QuerySyntaxError as e:
        raise UsageError(f"query {query!r}: {e}") from None
    return compile_topics([Topic(NAME, query=query)])
