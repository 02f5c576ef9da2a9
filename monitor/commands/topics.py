"""`monitor topics [--json]`: each topic's terms, weights, threshold, learned terms and counts;
`monitor topics forget TOPIC TERM`: remove a learned term for good."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.commands._common import config_of

if TYPE_CHECKING:
    from monitor.config import Config, Topic
    from storage.types import LearnedTerm

NAME = "topics"
HELP = "list each topic's terms, weights, threshold, learned terms and counts; `topics forget TOPIC TERM`"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="a JSON list, one object per topic")
    actions = parser.add_subparsers(dest="action", metavar="forget TOPIC TERM")
    forget = actions.add_parser("forget", help="remove a learned term and never learn it again (edits feeds.toml)")
    forget.add_argument("topic", metavar="TOPIC")
    forget.add_argument("term", metavar="TERM", help="the learned term as `monitor topics` shows it, e.g. #coflood")
    # Also after the action (`monitor topics forget t x --config f.toml`); SUPPRESS keeps the command's value.
    forget.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="feeds.toml to use")


def run(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.action == "forget":
        return _forget(config, args.topic, args.term)
    learned, counts = _stored(config)
    rows = [_row(t, learned.get(t.name, []), counts.get(t.name, (0, 0))) for t in config.topics]
    if args.json:
        from monitor.textsafe import json_dumps

        print(json_dumps(rows))
    else:
        for row in rows:
            _print(row)
    return 0


def _stored(config: Config) -> tuple[dict[str, list[LearnedTerm]], dict[str, tuple[int, int]]]:
    """Learned terms and (matched posts, live stories) per topic; none before the first `monitor run`."""
    from storage.store import open_store

    if config.storage_url.startswith("sqlite") and not _sqlite_exists(config.storage_url):
        return {}, {}
    with open_store(config.storage_url, readonly=True) as store:
        learned: dict[str, list[LearnedTerm]] = {}
        for term in store.learned_terms():
            learned.setdefault(term.topic, []).append(term)
        return learned, store.topic_counts()


def _sqlite_exists(url: str) -> bool:
    from storage.engine import normalize_url, sqlite_path

    path = sqlite_path(normalize_url(url))
    return path is None or path.exists()


def _row(topic: Topic, learned: list[LearnedTerm], counts: tuple[int, int]) -> dict[str, Any]:
    from monitor.output import iso

    return {
        "name": topic.name,
        "query": topic.query,
        "keywords": list(topic.keywords),
        "threshold": topic.threshold,
        "weights": dict(topic.weights),
        "learn": topic.learn and bool(topic.weights),
        "learned": [{"term": t.term, "weight": t.weight, "posts": round(t.posts, 1), "since": iso(t.since),
                     "seen": iso(t.seen)} for t in learned],
        "forget": list(topic.forget),
        "posts": counts[0],
        "live_stories": counts[1],
    }


def _print(row: dict[str, Any]) -> None:
    from monitor.textsafe import one_line

    threshold = f"threshold {row['threshold']:g}" if row["threshold"] is not None else "any term"
    print(f"{one_line(row['name'])}  ·  {threshold}  ·  {row['posts']:,} posts  ·  {row['live_stories']} live stories")
    if not row["weights"]:
        print(f"  query: {one_line(row['query'] or ' OR '.join(row['keywords']))}")
    for key, weight in sorted(row["weights"].items(), key=lambda kv: -kv[1]):
        print(f"  {weight:4.2f}  {one_line(key)}")
    if row["learned"]:
        print("  learned from the posts its own terms matched (forget one: monitor topics forget TOPIC TERM):")
    for t in row["learned"]:
        print(f"  {t['weight']:4.2f}  {one_line(t['term'])}  since {t['since']}, in {t['posts']:g} posts lately")
    if row["forget"]:
        print(f"  forgotten: {one_line(', '.join(row['forget']))}")
    print()


def _forget(config: Config, topic: str, term: str) -> int:
    from monitor.commands._common import check_topic
    from monitor.feedsfile import forget_term

    check_topic(topic, config, stored=[])
    from monitor.textsafe import one_line

    forget_term(config.path, topic, term)
    print(f'{one_line(str(config.path))}: topic "{one_line(topic)}" forgets {one_line(term)}'
          " (the daemon drops it when it reloads feeds.toml)")
    return 0
