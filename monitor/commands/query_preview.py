"""`monitor test-query QUERY [--topic T]`: preview what a query would match among stored posts, and why.

With `--topic`, the query is scored as the topic would score it: its weights, threshold and the
terms it learned. Named query_preview, not test_query, so that no one (and no test runner) takes it
for a test module.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from monitor.commands._common import check_topic, config_of, limit_arg, reading
from monitor.errors import UsageError
from monitor.output import iso
from monitor.textsafe import json_dumps, one_line

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.match import Matcher
    from storage.store import Store

NAME = "test-query"
HELP = "show which stored posts a query would match, with the terms that matched, before saving it"
SNIPPET = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help='the query, e.g. \'Khamenei OR "axis of resistance" -football\'')
    parser.add_argument("--topic", metavar="T",
                        help="only posts stored under this topic, scored with its weights, threshold and learned terms")
    parser.add_argument("--json", action="store_true",
                        help="a JSON list of {id, source, author, url, text, published, matched, score}")
    limit_arg(parser)


def run(args: argparse.Namespace) -> int:
    from storage.errors import NoDatabaseYet

    _check(args.query)
    try:
        with reading(args) as (config, store):
            stored = store.posts(topic=args.topic)
            matcher = _matcher(args.query, config, store, args.topic)
    except NoDatabaseYet:  # right after `init`: the query can still be checked
        check_topic(args.topic, config_of(args), stored=[])
        print("the query is valid; no posts are stored yet (`monitor run --once` fetches some)")
        return 0
    hits = [(s.post, match) for s in stored for match in matcher.match(s.post)]
    if args.limit is not None:
        hits = hits[: args.limit]
    if args.json:
        print(json_dumps([{"id": post.id, "source": post.source, "author": post.author, "url": post.url,
                           "text": post.text, "published": iso(post.published), "matched": list(match.terms),
                           "score": match.score} for post, match in hits]))
        return 0
    for post, match in hits:
        score = f"  (score {match.score:.2f})" if args.topic else ""
        print(f"{post.published:%Y-%m-%d %H:%M}  {one_line(post.source)}  {one_line(post.author)}")
        print(f"    {one_line(post.text, SNIPPET)}")
        print(f"    matched: {one_line(', '.join(match.terms)) or '(everything)'}{score}")
    where = f' under topic "{one_line(args.topic)}"' if args.topic else ""
    print(f"{len(hits)} of {len(stored)} stored posts{where} match")
    return 0


def _check(query: str) -> None:
    from monitor.query.parse import QuerySyntaxError, parse

    try:
        parse(query)
    except QuerySyntaxError as e:
        raise UsageError(f"query {query!r}: {e}") from None


def _matcher(query: str, config: Config, store: Store, topic: str | None) -> Matcher:
    """The bare query, or the topic as it would be with this query: its weights, threshold and what
    it learned."""
    from monitor.config import Topic
    from monitor.match import compile_topics

    scoring = next((t for t in config.topics if t.name == topic), None)
    if scoring is None:
        return compile_topics([Topic(NAME, query=query)])
    candidate = dataclasses.replace(scoring, query=query, keywords=())
    return compile_topics([candidate], {candidate.name: {t.term: t.weight for t in store.learned_terms(topic)}})
