"""`monitor keywords ARTICLE [--json] [--top N]`: the article's weighted keywords and entities."""

from __future__ import annotations

import argparse

from monitor.commands._common import MAX_KEYWORDS, whole_number
from monitor.textsafe import json_dumps, one_line

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
        print(json_dumps([k.as_json() for k in keywords]))
        return 0
    terms = [one_line(k.term) for k in keywords]  # an article from a URL is the internet's text
    width = max(map(len, terms), default=0)
    for k, term in zip(keywords, terms, strict=True):
        aliases = f"  (also {one_line(', '.join(k.aliases))})" if k.aliases else ""
        print(f"{k.weight:5.3f}  {k.kind:<7}  {term:<{width}}{aliases}")
    return 0
