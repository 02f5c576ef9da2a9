"""`textsafe.printable` (the `regex` module's Unicode category, in C) vs the obvious per-character loop.

Usage: .venv/bin/python bench/textsafe.py

Text every command and the dashboard show goes through `printable`; a post may be 1 MB. Both
candidates run on the same texts in the same run: plain ASCII (the fast path), Latin/Cyrillic news
text with a few zero-width characters, and right-to-left text full of direction marks.
"""

from __future__ import annotations

import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.textsafe import printable, strip_controls  # noqa: E402

TEXTS = {
    "ascii 1 MB": "The volcano near Grindavik erupted again. " * 25_000,
    "latin+cyrillic 1 MB": "Ünïcödé news from Reykjavík, текст\u200b новости. " * 22_000,
    "hebrew with marks 1 MB": "\u200fשלום\u200e עולם 123 \u061c" * 55_000,
}


def per_character_loop(text: str) -> str:
    """What textsafe did before: strip, then drop Cf characters one by one (keeping the ZWJ)."""
    text = strip_controls(text)
    return "".join(ch for ch in text if ch == "\u200d" or unicodedata.category(ch) != "Cf")


def best_of(fn: Callable[[str], str], text: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'text':24} {'printable':>12} {'per-char loop':>14} {'ratio':>7}")
    for name, text in TEXTS.items():
        assert printable(text) == per_character_loop(text), name
        ours, loop = best_of(printable, text), best_of(per_character_loop, text)
        print(f"{name:24} {ours * 1000:9.1f} ms {loop * 1000:11.1f} ms {loop / ours:6.1f}x")


if __name__ == "__main__":
    main()
