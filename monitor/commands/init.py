"""`monitor init ARTICLE [--topic NAME]`: add or update a topic in feeds.toml from an article."""

from __future__ import annotations

import argparse

from monitor.commands._common import MAX_KEYWORDS, whole_number
from monitor.textsafe import one_line

NAME = "init"
HELP = "add or update a [[topics]] entry in feeds.toml from an article (creates feeds.toml if missing)"
SHOWN = 15


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", metavar="ARTICLE", help="a file, - for stdin, or an http(s) URL")
    parser.add_argument("--topic", metavar="NAME", help="the topic's name (default: from the article's top names)")
    parser.add_argument("--top", type=whole_number(MAX_KEYWORDS), default=None, metavar="N",
                        help="keywords to keep at most (default: every one that weighs enough, up to 60)")


def run(args: argparse.Namespace) -> int:
    from monitor.article import read_article
    from monitor.feedsfile import upsert_topic
    from monitor.keywords import THRESHOLD, extract, query_for, topic_name, topic_weights

    keywords = extract(read_article(args.article), top=args.top)
    name = args.topic or topic_name(keywords)
    weights = topic_weights(keywords)
    values: dict[str, object] = {"name": name, "article": args.article, "query": query_for(keywords),
                                 "threshold": THRESHOLD, "weights": weights}
    if args.article == "-":
        del values["article"]
    hashtag = next((k.term.lstrip("#") for k in keywords if k.kind in ("entity", "hashtag") and
                    k.term.lstrip("#").isalpha()), None)
    existed = args.config.exists()
    upsert_topic(args.config, values, hashtag)
    # The article may come from the internet, and the name from the command line: both shown safely.
    print(f"{'updated' if existed else 'created'} {one_line(str(args.config))}: topic \"{one_line(name)}\"")
    print(f"  threshold = {THRESHOLD}  (a post is kept when the weights of the terms it holds add up to this)")
    for key, weight in list(weights.items())[:SHOWN]:
        print(f"  {weight:4.2f}  {one_line(key)}")
    if len(weights) > SHOWN:
        print(f"  … and {len(weights) - SHOWN} more: `monitor topics` lists them, and what the topic learns")
    return 0
