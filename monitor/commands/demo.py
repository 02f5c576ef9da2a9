"""monitor demo: from an article to live stories, on a stream served on 127.0.0.1; no internet, no setup.

It starts where a user starts: a bundled article (Iran's message to Hamas, the story this project
was made for) → the keywords `monitor init` extracts and the topic it makes of them → a stream of
posts about it, played by four feeds on 127.0.0.1 → the daemon and the dashboard.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from monitor.commands.dash import dashboard, log_to_file, require_terminal
from monitor.config import load
from monitor.errors import UsageError
from monitor.textsafe import one_line

NAME = "demo"
HELP = "from a bundled article to live stories, on a sample stream (no internet, nothing kept); q quits"
SHOWN = 12
"""Keywords printed before the dashboard opens."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="play the five-minute stream X times faster (default 1)")


def article_topic() -> tuple[list[str], dict[str, object]]:
    """The bundled article's keywords, and the topic `monitor init` makes of them (query, weights, threshold)."""
    from monitor.demo.stream import article
    from monitor.keywords import THRESHOLD, extract, query_for, topic_name, topic_weights

    keywords = extract(article())
    topic = {"name": topic_name(keywords), "query": query_for(keywords), "threshold": THRESHOLD,
             "weights": topic_weights(keywords)}
    return [k.term for k in keywords], topic


def demo_config(base: str, feeds: tuple[str, ...], topic: Mapping[str, object]) -> str:
    """feeds.toml for the demo: the article's topic, every demo feed polled every two seconds."""
    import tomlkit

    feed_tables = [{"name": f, "type": "rss", "url": f"{base}/{f}.xml", "interval": "2s"} for f in feeds]
    return tomlkit.dumps({"topics": [dict(topic)], "feeds": feed_tables})


def introduction(keywords: list[str], topic: Mapping[str, object]) -> str:
    """What the demo says before the dashboard opens (and again after it): the article, what `init` took from it."""
    from monitor.demo.stream import article

    headline = article().strip().splitlines()[0]
    return (f"The article: {one_line(headline)}\n"
            f"Its keywords, as `monitor init` extracts them: {one_line(', '.join(keywords[:SHOWN]))} …\n"
            f"Topic \"{one_line(str(topic['name']))}\": a post is kept when the weights of the terms it holds "
            f"reach {topic['threshold']}; the stream of posts about it comes from four feeds on 127.0.0.1.")


def run(args: argparse.Namespace) -> int:
    import tempfile

    from monitor.demo.server import DemoServer
    from monitor.demo.stream import FEEDS

    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    require_terminal()
    keywords, topic = article_topic()
    print(introduction(keywords, topic), flush=True)
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, DemoServer(speed=args.speed) as server:
        path = Path(tmp) / "feeds.toml"
        path.write_text(demo_config(server.base, FEEDS, topic), encoding="utf-8")
        log_to_file(Path(tmp) / "monitor.log")
        with dashboard(load(path), daemon=True) as app:
            app.run()
    print(introduction(keywords, topic))
    return 0
