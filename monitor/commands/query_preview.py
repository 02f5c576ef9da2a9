"""`monitor test-query QUERY [--topic T]`: preview what a query would match among stored posts, and why.

Named query_preview, not test_query, so that no one (and no test runner) takes it for a test module.
"""

from __future__ import annotations

import argparse
import json

from monitor.commands._common import limit_arg, reading
from monitor.errors import UsageError

NAME = "test-query"
HELP = "show which stored posts a query would match, with the terms that matched, before saving it"
SNIPPET = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help='the query, e.g. \'Khamenei OR "axis of resistance" -football\'')
    parser.add_argument("--topic", metavar="T", help="only posts stored under this topic")
    parser.add_argument("--json", action="store_true", help="a JSON list of {id, source, text, matched}")
    limit_arg(parser)


def run(args: argparse.Namespace) -> int:
    from monitor.config import Topic
    from monitor.match import compile_topics
    from monitor.query.parse import QuerySyntaxError, parse

    try:
        parse(args.query)
    except QuerySyntaxError as e:
        raise UsageError(f"query {args.query!r}: {e}") from None
    matcher = compile_topics([Topic("test-query", query=args.query)])
    with reading(args) as (_, store):
        stored = store.posts(topic=args.topic)
    hits = [(s.post, m) for s in stored for m in matcher.match(s.post)]
    if args.limit is not None:
        hits = hits[: args.limit]
    if args.json:
        rows = [{"id": p.id, "source": p.source, "author": p.author, "url": p.url, "text": p.text,
                 "published": p.published.isoformat(), "matched": list(m.terms)} for p, m in hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for post, match in hits:
        text = " ".join(post.text.split())
        snippet = text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"
        print(f"{post.published:%Y-%m-%d %H:%M}  {post.source}  {post.author}")
        print(f"    {snippet}")
        print(f"    matched: {', '.join(match.terms) or '(everything)'}")
    where = f' under topic "{args.topic}"' if args.topic else ""
    print(f"{len(hits)} of {len(stored)} stored posts{where} match")
    return 0
