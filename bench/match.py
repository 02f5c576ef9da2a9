"""Posts per second of the topic matcher against a plain `re` alternation, in the same run.

    .venv/bin/python bench/match.py [--posts 100000]

100k synthetic posts (25 common English words each, 1 in 20 holding a topic term) against one
topic of 50, 500 and 5,000 terms; then news-like posts (a title, ’ “ ” — in the text) against
500 and 5,000 terms of which a fifth are two-word phrases. Ours: monitor.match (fold, one
Aho-Corasick scan, evaluate).
Baseline: re.compile(r"\\b(?:t1|t2|…)\\b", re.IGNORECASE).search — no accent or width folding,
so it does less work than ours. Last, the relevance set's real tweets against the 22 weighted topics
`monitor init` makes from its articles (forms, scores and hashtag splitting included).
Rates are in CPU time (process_time), so a busy shared machine does not blur them; both sides are
measured the same way. Goal: ≥ 200k posts/s at 500 terms, ≥ 100k at 5,000.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from datetime import UTC, datetime
from pathlib import Path

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
    real_posts()


RELEVANCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "relevance"


def real_posts() -> None:
    """Real tweets (the relevance set's streams, many languages, half with hashtags) against the
    weighted topics `monitor init` makes from each event's article: scoring, forms and hashtag
    splitting included. Baseline: an `re` alternation of every form of every key (no scores)."""
    if not RELEVANCE.is_dir():
        print("(no ../shared/data/relevance here: the real-post run is skipped)")
        return
    import json

    from monitor.keywords import THRESHOLD, extract, query_for, topic_weights

    topics, posts = [], []
    for article in sorted((RELEVANCE / "articles").glob("*.txt")):
        keywords = extract(article.read_text(encoding="utf-8"))
        topics.append(Topic(article.stem, query=query_for(keywords), weights=topic_weights(keywords),
                            threshold=THRESHOLD))
        for line in (RELEVANCE / "streams" / f"{article.stem}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            posts.append(Post(row["id"], "bench", "a", "u", row["text"], datetime(2013, 1, 1, tzinfo=UTC)))
    matcher = compile_topics(topics)
    forms = sorted({w for t in topics for key in t.weights for w in key.replace('"', "").split(" OR ")})
    print(f"real tweets: {len(posts):,} posts against the {len(topics)} topics init made from the articles"
          f" ({matcher.patterns:,} patterns, {len(forms):,} forms)")
    start = time.process_time()
    found = sum(len(matcher.match(p)) for p in posts)
    ours_s = time.process_time() - start
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, forms)) + r")\b", re.IGNORECASE)
    sample = posts[:5000]
    start = time.process_time()
    for p in sample:
        pattern.search(p.text)
    theirs_s = time.process_time() - start
    print(f"  ours {rate(len(posts), ours_s)} ({found:,} topic matches)   re any form {rate(len(sample), theirs_s)}"
          f" (on {len(sample):,}, no scores, no hashtag splitting)")


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
