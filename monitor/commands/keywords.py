"""`monitor keywords ARTICLE [--json] [--top N]`: the article's weighted keywords and entities."""

from __future__ import annotations

import argparse
import json

from monitor.commands._common import MAX_KEYWORDS, whole_number

NAME = "keywords"
HELP = "print the weighted keywords and entities of an article (a file, - for stdin, or an http(s) URL)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", metavar="ARTICLE", help="a file, - for stdin, or an http(s) URL")
    parser.add_argument("--json", action="store_true", help="a JSON list of {term, weight, kind, aliases, count}")
    parser.add_argument("--top", type=whole_number(MAX_KEYWORDS), default=20, metavar="N", help="how many (default 20)")


def run(args: argparse.Namespace) -> int:
    from monitor.article import read_article
    from monitor.keywords import extract

    keywords = extract(read_article(args.article), top=args.top)
    if args.json:
        print(json.dumps([k.as_json() for k in keywords], ensure_ascii=False, indent=2))
        return 0
    width = max((len(k.term) for k in keywords), default=0)
    for k in keywords:
        aliases = f"  (also {', '.join(k.aliases)})" if k.aliases else ""
        print(f"{k.weight:5.3f}  {k.kind:<7}  {k.term:<{width}}{aliases}")
    return 0
