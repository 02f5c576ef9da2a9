"""monitor watch ARTICLE: a first-time user's one command: init if needed, then daemon + dashboard."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.commands.dash import dashboard, log_to_file, require_terminal
from monitor.config import Config, load

NAME = "watch"
HELP = "set up a topic from ARTICLE if needed, then run the daemon under the dashboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", metavar="ARTICLE", help="a file or an http(s) URL")
    parser.add_argument("--topic", metavar="NAME", help="the topic's name (default: from the article)")


def needs_init(path: Path, article: str, topic: str | None) -> bool:
    """No feeds.toml yet, or no topic for this article (by name, or by the article it came from)."""
    if not path.exists():
        return True
    config = load(path)
    wanted = article if article == "-" or "://" in article else str(article)
    return not any(t.name == topic or (topic is None and t.article == wanted) for t in config.topics)


def topic_of(config: Config, article: str, topic: str | None) -> str | None:
    named = [t.name for t in config.topics if t.name == topic or (topic is None and t.article == article)]
    return named[0] if named else None


def run(args: argparse.Namespace) -> int:
    from monitor.commands import init

    require_terminal("give the article as a file or URL: the dashboard reads its keys from stdin"
                     if args.article == "-" else "to only poll, use `monitor run`")
    if needs_init(args.config, args.article, args.topic):
        code = init.run(argparse.Namespace(config=args.config, article=args.article, topic=args.topic, top=None))
        if code:
            return code
    config = load(args.config)
    log_to_file(args.config.resolve().parent / "monitor.log")
    with dashboard(config, daemon=True, topic=topic_of(config, args.article, args.topic)) as app:
        app.run()
    return 0
