"""Posts per second of the topic matcher against a plain `re` alternation, in the same run.

    .venv/bin/python bench/match.py [--posts 100000]

100k synthetic posts (25 common English words each, 1 in 20 holding a topic term) against one
topic of 50, 500 and 5,000 terms; then news-like posts (a title, ’ “ ” — in the text) against
500 and 5,000 terms of which a fifth are two-word phrases. Ours: monitor.match (fold, one
Aho-Corasick scan, evaluate).
Baseline: re.compile(r"\\b(?:t1|t2|…)\\b", re.IGNORECASE).search — no accent or width folding,
so it does less work than ours. Rates are in CPU time (process_time), so a busy shared machine
does not blur them; both sides are measured the same way. Goal: ≥ 200k posts/s at 500 terms, ≥ 100k at 5,000.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from datetime import UTC, datetime

import wordfreq

from monitor.config import Topic
from monitor.match import compile_topics
from storage.types import Post


def make_posts(n: int, terms: list[str], common: list[str], rng: random.Random, news: bool = False) -> list[Post]:
    """Plain posts: 25 common words and a full stop. News-like ones add a title and the typography of
    real headlines (’ “ ” —), which takes the folding off its pure-ASCII path."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    posts = []
    for i in range(n):
        words = rng.choices(common, k=25)
        if i % 20 == 0:
            words[rng.randrange(25)] = rng.choice(terms).capitalize()
        if news:
            text = "".join(w + rng.choice(NEWS_MARKS) for w in words[5:]) + "."
            posts.append(Post(str(i), "bench", "a", "u", text, now, title=" ".join(words[:5]).capitalize()))
        else:
            posts.append(Post(str(i), "bench", "a", "u", " ".join(words) + ".", now))
    return posts


NEWS_MARKS = [" "] * 12 + [", ", " — ", "’s ", " “", "” ", "… "]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} posts/s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(7)
    # ASCII words only: ours folds accents ("à" finds "a"), re does not, and the counts should agree.
    vocabulary = [w for w in wordfreq.top_n_list("en", 30_000) if w.isalpha() and w.isascii()]
    common, rare = vocabulary[:3000], vocabulary[3000:]
    print(f"{args.posts:,} posts of 25 words; one topic, any of N terms")
    for size in (50, 500, 5000):
        compare(args.posts, rng.sample(rare, size), common, rng, news=False)
    print("news-like: a title, curly quotes and dashes; a fifth of the terms two-word phrases")
    for size in (500, 5000):
        terms = rng.sample(rare, size)
        terms[: size // 5] = [f"{a} {b}" for a, b in zip(terms[: size // 5], rng.sample(rare, size // 5), strict=True)]
        compare(args.posts, terms, common, rng, news=True)


def compare(n: int, terms: list[str], common: list[str], rng: random.Random, news: bool) -> None:
    posts = make_posts(n, terms, common, rng, news)
    texts = [f"{p.title}\n{p.text}" if p.title else p.text for p in posts]

    matcher = compile_topics([Topic("bench", keywords=tuple(terms))])
    start = time.process_time()
    ours = sum(1 for p in posts if matcher.match(p))
    ours_s = time.process_time() - start

    # The alternation is slow enough at 5,000 terms to take minutes: time it on a sample.
    sample = texts[: max(2000, len(texts) * 50 // len(terms))]
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\b", re.IGNORECASE)
    start = time.process_time()
    theirs = sum(1 for t in sample if pattern.search(t))
    theirs_s = time.process_time() - start
    ours_on_sample = sum(1 for p in posts[: len(sample)] if matcher.match(p))

    agree = "agree" if ours_on_sample == theirs else f"DIFFER ({ours_on_sample} vs {theirs})"
    speedup = (len(posts) / ours_s) / (len(sample) / theirs_s)
    print(f"{len(terms):>5} terms  ours {rate(len(posts), ours_s)}   re {rate(len(sample), theirs_s)}"
          f" (on {len(sample):,})   ours/re x{speedup:,.0f}   matched {ours:,}, re on sample: {agree}")


if __name__ == "__main__":
    main()
