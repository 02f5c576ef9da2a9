"""monitor demo: the dashboard on a sample stream served on 127.0.0.1; no internet, no setup."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from monitor.commands.dash import dashboard, log_to_file, require_terminal
from monitor.config import load
from monitor.errors import UsageError

NAME = "demo"
HELP = "try the dashboard on a bundled sample stream (no internet, nothing kept); q quits"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="play the four-minute stream X times faster (default 1)")


def demo_config(base: str, feeds: tuple[str, ...], topic: str, keywords: tuple[str, ...]) -> str:
    """feeds.toml for the demo: one keyword topic, every demo feed polled every two seconds."""
    lines = ["[[topics]]", f"name = {json.dumps(topic)}", f"keywords = {json.dumps(list(keywords))}", ""]
    for feed in feeds:
        lines += ["[[feeds]]", f'name = "{feed}"', 'type = "rss"', f'url = "{base}/{feed}.xml"',
                  'interval = "2s"', ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from monitor.demo.server import DemoServer
    from monitor.demo.stream import FEEDS, KEYWORDS, TOPIC

    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    require_terminal()
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, DemoServer(speed=args.speed) as server:
        path = Path(tmp) / "feeds.toml"
        path.write_text(demo_config(server.base, FEEDS, TOPIC, KEYWORDS), encoding="utf-8")
        log_to_file(Path(tmp) / "monitor.log")
        with dashboard(load(path), daemon=True) as app:
            app.run()
    return 0
