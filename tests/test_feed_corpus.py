"""Every file of ../shared/data/feeds/corpus (~3,800 feeds from feedparser's and the W3C feed
validator's suites) through parse_feed: only post lists or FeedErrors, and no file hangs.

Files run in a process pool in chunks; a chunk that does not answer within CHUNK_LIMIT_S fails
the test naming its files (a hang cannot be interrupted inside one process).
Run with -s to see the counts.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

from monitor.pollerrors import FeedError
from monitor.sources.rss import parse_feed

CHUNK = 64
CHUNK_LIMIT_S = 120


def outcome(path: str) -> tuple[str, str]:
    """("posts" | "empty" | "FeedError: <reason>" | "crash: <exception>", path)."""
    try:
        posts = parse_feed(Path(path).read_bytes(), url="http://corpus.example/feed.xml", source="corpus")
    except FeedError as error:
        return "FeedError: " + str(error).split(":")[0], path
    except Exception as error:  # the test's whole point: this must never happen
        return f"crash: {type(error).__name__}: {error}", path
    return ("posts" if posts else "empty"), path


def chunk_outcomes(paths: list[str]) -> list[tuple[str, str]]:
    return [outcome(path) for path in paths]


def test_corpus_gives_posts_or_feed_errors_and_never_hangs(shared: Path) -> None:
    corpus = shared / "data" / "feeds" / "corpus"
    paths = sorted(str(p) for p in corpus.rglob("*") if p.is_file())
    assert len(paths) > 3000
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    results: list[tuple[str, str]] = []
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pending = [(chunk, pool.apply_async(chunk_outcomes, (chunk,))) for chunk in chunks]
        for chunk, result in pending:
            try:
                results += result.get(timeout=CHUNK_LIMIT_S)
            except multiprocessing.TimeoutError:
                raise AssertionError(f"hang in one of {chunk[0]} .. {chunk[-1]}") from None
    counts = Counter(kind for kind, _ in results)
    print(f"\nfeed corpus: {len(results)} files")
    for kind, count in counts.most_common():
        print(f"  {count:5}  {kind}")
    crashes = [(kind, path) for kind, path in results if kind.startswith("crash")]
    assert not crashes, crashes[:10]
    assert len(results) == len(paths)
    assert counts["posts"] > 1000
