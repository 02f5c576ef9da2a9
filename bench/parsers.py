"""feedparser vs fastfeedparser (and selectolax vs lxml for HTML → text), measured in one run.

Usage: .venv/bin/python bench/parsers.py [DATA_DIR]   (default ../shared/data/feeds)

For each parser, over every file of feeds/real and feeds/corpus: ms per feed (mean, p99, max),
entries per second, how many files raised and how many gave no entries. Then the adapter itself
(`parse_feed`, fast path + fallback) on the same files, and html_to_text's two candidates on
every entry summary of feeds/real.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastfeedparser
import feedparser
import lxml.html  # type: ignore[import-untyped]
from selectolax.lexbor import LexborHTMLParser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from monitor.pollerrors import FeedError  # noqa: E402
from monitor.sources.rss import parse_feed  # noqa: E402

Parser = Callable[[bytes], int]


def with_feedparser(body: bytes) -> int:
    return len(feedparser.parse(body)["entries"])


def with_fastfeedparser(body: bytes) -> int:
    return len(fastfeedparser.parse(body)["entries"])


def with_adapter(body: bytes) -> int:
    try:
        return len(parse_feed(body, url="http://example.com/feed", source="bench"))
    except FeedError:
        return -1  # counted as "raised": the adapter's only error, with a reason


def measure(name: str, parser: Parser, bodies: list[bytes], rounds: int) -> None:
    for body in bodies[:3]:  # warm up imports and caches outside the timing
        with contextlib.suppress(Exception):
            parser(body)
    times: list[float] = []
    entries = raised = empty = 0
    for body in bodies:
        start = time.perf_counter()
        for _ in range(rounds):
            try:
                count = parser(body)
            except Exception:
                count = -1
        times.append((time.perf_counter() - start) / rounds)
        if count < 0:
            raised += 1
        elif count == 0:
            empty += 1
        entries += max(count, 0)
    total = sum(times)
    p99 = sorted(times)[int(len(times) * 0.99)] if times else 0.0
    print(
        f"  {name:15} {1000 * statistics.mean(times):7.2f} ms/feed  p99 {1000 * p99:7.2f} ms"
        f"  max {1000 * max(times):7.1f} ms  {entries / total:9.0f} entries/s"
        f"  entries {entries:6}  raised {raised:5}  empty {empty:5}"
    )


def html_with_lxml(html: str) -> str:
    try:
        tree = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:
        return ""
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return " ".join(tree.text_content().split())


def html_with_selectolax(html: str) -> str:
    tree = LexborHTMLParser(html)
    for bad in tree.css("script, style"):
        bad.decompose()
    return " ".join((tree.text() or "").split())


def bench_html(summaries: list[str]) -> None:
    from monitor.sources.text import html_to_text

    for name, convert in [
        ("lxml.html", html_with_lxml),
        ("selectolax", html_with_selectolax),
        ("html_to_text", html_to_text),
    ]:
        start = time.perf_counter()
        for _ in range(5):
            for summary in summaries:
                convert(summary)
        elapsed = (time.perf_counter() - start) / 5
        print(f"  {name:15} {1e6 * elapsed / len(summaries):7.1f} µs per summary")


def summaries_of(bodies: list[bytes]) -> list[str]:
    found: list[str] = []
    for body in bodies:
        entries: list[Any] = feedparser.parse(body)["entries"]
        found += [str(e.get("summary", "")) for e in entries if e.get("summary")]
    return found


def main() -> None:
    warnings.simplefilter("ignore")
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "feeds"
    sets = {
        "real": sorted(p for p in (data / "real").iterdir() if p.is_file()),
        "corpus": sorted(p for p in (data / "corpus").rglob("*") if p.is_file()),
    }
    for label, paths in sets.items():
        bodies = [p.read_bytes() for p in paths]
        print(f"{label}: {len(bodies)} files, {sum(map(len, bodies)) / 1e6:.1f} MB")
        for name, parser in [
            ("feedparser", with_feedparser),
            ("fastfeedparser", with_fastfeedparser),
            ("parse_feed", with_adapter),
        ]:
            measure(name, parser, bodies, rounds=10 if label == "real" else 1)
    summaries = summaries_of([p.read_bytes() for p in sets["real"]])
    print(f"HTML → text on {len(summaries)} entry summaries of feeds/real:")
    bench_html(summaries)


if __name__ == "__main__":
    main()
