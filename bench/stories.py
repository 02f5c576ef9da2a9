"""Story clustering quality and speed: Deduper + StoryBuilder against a naive single-pass baseline.

    .venv/bin/python bench/stories.py                    # UCI headlines, whole file and slices
    .venv/bin/python bench/stories.py --synthetic 1000000  # time per post at 10k/100k/1M, peak memory
    .venv/bin/python bench/stories.py --via-cli            # the UCI file through `monitor ingest`
    .venv/bin/python bench/stories.py --common             # 10k posts of 40 common words (worst case)
    .venv/bin/python bench/stories.py --held-out           # only the held-out figure

The UCI prefix arrives story by story (each Google News story is one burst of seconds), which would
flatter any method that leans on time. The "interleaved" rows re-time every story to a random
six-hour stretch of the same 36 hours, so many stories run at once and only the text can tell them
apart. Defaults are judged on every row, not tuned to one; but they were chosen looking at this file,
so every row is in-sample. The last lines are not: the main knobs are chosen on half the stories and
judged on the other half (and the other way round).

Rates are posts per second of this process's CPU time (time.process_time), so that other work on a
shared machine does not blur the comparison; the synthetic run prints wall-clock time beside it.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.dedup import Deduper
from monitor.storybuilder import StoryBuilder, StoryParams
from monitor.textfeatures import Featurizer, content_words
from storage.types import Post

UCI = Path(__file__).resolve().parents[2] / "shared" / "data" / "stories" / "uci-news-aggregator-prefix.csv"
csv.field_size_limit(1 << 24)


# -- metrics ---------------------------------------------------------------------------------------


def bcubed(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), computed from the contingency table."""
    n = len(truth)
    if n == 0:
        return 0.0, 0.0, 0.0
    joint = Counter(zip(truth, predicted, strict=True))
    truth_sizes = Counter(truth)
    predicted_sizes = Counter(predicted)
    # Each of the `count` items in cell (t, p) sees count/|p| precision and count/|t| recall.
    precision = sum(c * c / predicted_sizes[p] for (_, p), c in joint.items()) / n
    recall = sum(c * c / truth_sizes[t] for (t, _), c in joint.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def adjusted_rand(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Adjusted Rand index (Hubert & Arabie)."""
    n = len(truth)

    def pairs(x: int) -> float:
        return x * (x - 1) / 2

    index = sum(pairs(c) for c in Counter(zip(truth, predicted, strict=True)).values())
    rows = sum(pairs(c) for c in Counter(truth).values())
    cols = sum(pairs(c) for c in Counter(predicted).values())
    expected = rows * cols / pairs(n) if n > 1 else 0.0
    maximum = (rows + cols) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def normalized_mutual_info(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """NMI with the arithmetic-mean normalisation (scikit-learn's default)."""
    n = len(truth)

    def entropy(counts: Counter[Hashable]) -> float:
        return -sum(c / n * math.log(c / n) for c in counts.values())

    truth_counts, predicted_counts = Counter(truth), Counter(predicted)
    mutual = sum(
        c / n * math.log(c * n / (truth_counts[t] * predicted_counts[p]))
        for (t, p), c in Counter(zip(truth, predicted, strict=True)).items()
    )
    h_truth, h_predicted = entropy(truth_counts), entropy(predicted_counts)
    if h_truth == 0.0 and h_predicted == 0.0:
        return 1.0
    return mutual / ((h_truth + h_predicted) / 2) if h_truth + h_predicted else 0.0


# -- data ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Labelled:
    post: Post
    story: str
    category: str


def load_uci(path: Path) -> list[Labelled]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Labelled(
                Post(
                    id=row["ID"], source=row["PUBLISHER"] or row["HOSTNAME"], author=row["PUBLISHER"],
                    url=row["URL"], text="", title=row["TITLE"],
                    published=datetime.fromtimestamp(int(row["TIMESTAMP"]) / 1000, UTC),
                ),
                row["STORY"], row["CATEGORY"],
            )
            for row in csv.DictReader(handle)
        ]


def interleaved(items: list[Labelled], spread: timedelta, seed: int = 7) -> list[Labelled]:
    """Each story re-timed to a random `spread` within the data's span; then sorted by time."""
    rng = random.Random(seed)
    start = min(i.post.published for i in items)
    span = max(i.post.published for i in items) - start - spread
    offsets = {story: rng.random() * span for story in {i.story for i in items}}
    out = [
        replace(item, post=replace(item.post, published=start + offsets[item.story] + rng.random() * spread))
        for item in items
    ]
    return sorted(out, key=lambda i: i.post.published)


# -- the methods -----------------------------------------------------------------------------------


DEFAULTS = StoryParams()


def run_ours(items: Sequence[Labelled], params: StoryParams = DEFAULTS) -> tuple[list[int], float]:
    """Cluster labels per post (merges resolved) and posts per second."""
    ids = itertools.count(1)
    featurizer = Featurizer()
    deduper = Deduper(featurizer=featurizer)
    builder = StoryBuilder("all", ids, featurizer=featurizer, params=params)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    assigned: list[int] = []
    started = time.process_time()
    for n, item in enumerate(items, 1):
        features = featurizer(item.post)  # once for both, as the pipeline does
        duplicate = deduper.check(item.post, features)
        assignment = builder.add(item.post, item.post.published, duplicate, features)
        for gone in assignment.merged:
            parent[gone] = assignment.story_id
        assigned.append(assignment.story_id)
        if n % 50 == 0:
            builder.changed()  # the pipeline drains this after every poll
    builder.changed()
    elapsed = time.process_time() - started
    return [find(a) for a in assigned], len(items) / elapsed


def run_baseline(items: Sequence[Labelled], threshold: float) -> tuple[list[int], float]:
    """Single pass: TF-IDF (online document frequencies) cosine against every cluster's centroid."""
    df: Counter[str] = Counter()
    centroids: list[dict[str, float]] = []
    norms: list[float] = []
    labels: list[int] = []
    started = time.process_time()
    for n, item in enumerate(items, 1):
        words = Counter(content_words(item.post.title or item.post.text))
        df.update(words.keys())
        vector = {w: tf * math.log((n + 1) / (df[w] + 0.5)) for w, tf in words.items()}
        length = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vector = {w: v / length for w, v in vector.items()}
        best, best_score = -1, threshold
        for cid, centroid in enumerate(centroids):
            score = sum(v * centroid.get(w, 0.0) for w, v in vector.items()) / norms[cid]
            if score >= best_score:
                best, best_score = cid, score
        if best < 0:
            centroids.append({})
            norms.append(0.0)
            best = len(centroids) - 1
        centroid = centroids[best]
        for w, v in vector.items():
            centroid[w] = centroid.get(w, 0.0) + v
        norms[best] = math.sqrt(sum(v * v for v in centroid.values()))
        labels.append(best)
    return labels, len(items) / (time.process_time() - started)


def scores(truth: Sequence[str], labels: Sequence[int]) -> dict[str, float]:
    p, r, f = bcubed(truth, labels)
    return {
        "P": p, "R": r, "F1": f, "ARI": adjusted_rand(truth, labels),
        "NMI": normalized_mutual_info(truth, labels), "stories": float(len(set(labels))),
    }


def report(name: str, items: list[Labelled], baseline: bool) -> float:
    truth = [i.story for i in items]
    labels, rate = run_ours(items)
    ours = scores(truth, labels)
    line = (
        f"{name:<22} n={len(items):>5} true={len(set(truth)):>3} | ours P={ours['P']:.3f} R={ours['R']:.3f} "
        f"F1={ours['F1']:.3f} ARI={ours['ARI']:.3f} NMI={ours['NMI']:.3f} stories={ours['stories']:.0f} "
        f"{rate:,.0f} posts/s"
    )
    if baseline:
        best: tuple[float, float, dict[str, float], float] | None = None
        for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
            base_labels, base_rate = run_baseline(items, threshold)
            base = scores(truth, base_labels)
            if best is None or base["F1"] > best[2]["F1"]:
                best = (threshold, base_rate, base, base_rate)
        assert best is not None
        threshold, base_rate, base, _ = best
        line += (
            f"\n{'':<22} {'':>21} | base P={base['P']:.3f} R={base['R']:.3f} F1={base['F1']:.3f} "
            f"ARI={base['ARI']:.3f} NMI={base['NMI']:.3f} stories={base['stories']:.0f} "
            f"{base_rate:,.0f} posts/s (best threshold {threshold})"
        )
    print(line, flush=True)
    return ours["F1"]


def uci(path: Path, baseline: bool) -> None:
    items = load_uci(path)
    half = len(items) // 2
    slices: list[tuple[str, list[Labelled]]] = [
        ("whole file, in-sample", items),
        ("first half", items[:half]),
        ("second half", items[half:]),
    ]
    for category, name in (("b", "business"), ("e", "entertainment"), ("t", "technology")):
        slices.append((f"only {name}", [i for i in items if i.category == category]))
    slices.append(("interleaved 6h", interleaved(items, timedelta(hours=6))))
    slices.append(("interleaved 24h", interleaved(items, timedelta(hours=24))))
    for name, chunk in slices:
        report(name, chunk, baseline)
    held_out(items)


# -- a figure not measured where the defaults were chosen -----------------------------------------------

# The defaults were chosen looking at this file, so every row above is in-sample. Here the main knobs
# are chosen on the posts of half the stories and judged on the other half's, which they never saw.
GRID: dict[str, tuple[float, ...]] = {
    "join_threshold": (0.06, 0.08, 0.1, 0.12, 0.15),
    "merge_threshold": (0.15, 0.2, 0.25, 0.3),
    "silence_penalty": (0.1, 0.2, 0.3),
}


def story_halves(items: Sequence[Labelled], seed: int = 11) -> tuple[list[Labelled], list[Labelled]]:
    """The posts of a random half of the stories and those of the other half, each in time order."""
    stories = sorted({i.story for i in items})
    random.Random(seed).shuffle(stories)
    first = set(stories[: len(stories) // 2])
    return [i for i in items if i.story in first], [i for i in items if i.story not in first]


def f1_of(items: Sequence[Labelled], params: StoryParams) -> float:
    labels, _ = run_ours(items, params)
    return bcubed([i.story for i in items], labels)[2]


def chosen_on(items: Sequence[Labelled]) -> StoryParams:
    """The grid point with the best F1 on `items` (the first in grid order on a tie)."""
    settings = itertools.product(*GRID.values())
    grid = [replace(DEFAULTS, **dict(zip(GRID, values, strict=True))) for values in settings]
    return max(grid, key=lambda params: f1_of(items, params))


def knobs(params: StoryParams) -> str:
    return " ".join(f"{name}={getattr(params, name)}" for name in GRID)


def held_out(items: Sequence[Labelled]) -> None:
    halves = dict(zip("AB", story_halves(items), strict=True))
    print(f"held out: the stories split in two halves, A and B; {math.prod(map(len, GRID.values()))} "
          f"settings of {', '.join(GRID)} tried on one half, the best judged on the other", flush=True)
    best = {half: chosen_on(posts) for half, posts in halves.items()}
    scores_out = []
    for chosen, judged in (("A", "B"), ("B", "A")):
        out = f1_of(halves[judged], best[chosen])
        scores_out.append(out)
        print(
            f"  chosen on {chosen} ({knobs(best[chosen])}): F1 on {judged} {out:.3f} held out; "
            f"on {judged} the defaults score {f1_of(halves[judged], DEFAULTS):.3f} and the best for "
            f"{judged} itself {f1_of(halves[judged], best[judged]):.3f} (both in-sample)", flush=True,
        )
    print(f"  held-out F1, mean of both ways: {sum(scores_out) / len(scores_out):.3f}", flush=True)


# -- synthetic stream --------------------------------------------------------------------------------


def synthetic_posts(count: int, seed: int = 1) -> Iterator[Post]:
    """A month-long stream (~0.4 posts/s): stories of pseudo-words, bursty, overlapping."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "tus", "vo", "bar", "qi", "zen", "dra", "pel", "nox", "ur", "sa"]
    vocabulary = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30_000)]
    common = ["report", "update", "today", "people", "video", "news", "first", "after", "world", "live"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=30) / count
    live: list[list[str]] = []
    for n in range(count):
        if not live or rng.random() < 0.03:
            live.append(rng.sample(vocabulary, 8))
            if len(live) > 40:
                live.pop(rng.randrange(len(live)))
        story = live[min(int(rng.expovariate(0.15)), len(live) - 1)]
        words = rng.sample(story, 5) + rng.sample(vocabulary, 2) + rng.sample(common, 1)
        rng.shuffle(words)
        published = start + step * n
        yield Post(
            id=str(n), source=f"feed{n % 50}", author=f"user{rng.randrange(5000)}",
            url=f"https://example.org/{n}", text=" ".join(words), published=published,
        )


def synthetic(count: int) -> None:
    featurizer = Featurizer()
    deduper = Deduper(featurizer=featurizer)
    builder = StoryBuilder("all", itertools.count(1), featurizer=featurizer)
    checkpoints = sorted({c for c in (10_000, 100_000, 1_000_000, count) if c <= count})
    lap_start, lap_cpu, lap_posts = time.perf_counter(), time.process_time(), 0
    total_start = lap_start
    for n, post in enumerate(synthetic_posts(count), 1):
        features = featurizer(post)
        builder.add(post, post.published, deduper.check(post, features), features)
        if n % 100 == 0:
            builder.changed()
        lap_posts += 1
        if n in checkpoints or n % 10_000 == 0:
            lap = time.perf_counter() - lap_start
            cpu = time.process_time() - lap_cpu
            if n in checkpoints:
                print(
                    f"{n:>9,} posts: {lap / lap_posts * 1e6:6.1f} µs/post wall, {cpu / lap_posts * 1e6:6.1f} cpu, "
                    f"over the last {lap_posts:,} "
                    f"(live stories {builder.live_count}, dedup window {len(deduper):,} posts, "
                    f"peak RSS {peak_mb():.0f} MB)", flush=True,
                )
            lap_start, lap_cpu, lap_posts = time.perf_counter(), time.process_time(), 0
    elapsed = time.perf_counter() - total_start
    print(f"total {count:,} posts in {elapsed:.1f} s = {count / elapsed:,.0f} posts/s; peak RSS {peak_mb():.0f} MB")


# -- through the real command line ---------------------------------------------------------------------


def via_cli(items: list[Labelled]) -> None:
    """Replays `items` through `monitor ingest` (JSONL, a `*` topic), reads `monitor clusters --json`."""
    from bench.installed import as_installed

    as_installed()  # as an installed package has them: the CLI's start is not Python compiling it
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = workdir / "feeds.toml"
        config.write_text('[[topics]]\nname = "all"\nquery = "*"\n', encoding="utf-8")
        posts = workdir / "posts.jsonl"
        with posts.open("w", encoding="utf-8") as out:
            for item in items:
                p = item.post
                row = {"id": p.id, "source": p.source, "author": p.author, "url": p.url, "text": p.title,
                       "published": p.published.isoformat().replace("+00:00", "Z")}
                out.write(json.dumps(row) + "\n")
        started, cpu_before = time.perf_counter(), _children_cpu()
        _monitor("ingest", str(posts), "--config", str(config))
        elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
        stories = json.loads(_monitor("clusters", "--json", "--config", str(config)))
        inner_elapsed, inner_cpu = in_process(posts, workdir / "in-process")
    story_of = {(p["source"], p["id"]): s["id"] for s in stories for p in s["posts"]}
    missing = sum(1 for i in items if (i.post.source, i.post.id) not in story_of)
    labels = [story_of.get((i.post.source, i.post.id), -n) for n, i in enumerate(items, 1)]
    ours = scores([i.story for i in items], labels)
    print(
        f"{'monitor ingest (CLI)':<22} n={len(items):>5} true={len({i.story for i in items}):>3} | "
        f"ours P={ours['P']:.3f} R={ours['R']:.3f} F1={ours['F1']:.3f} ARI={ours['ARI']:.3f} "
        f"NMI={ours['NMI']:.3f} stories={ours['stories']:.0f} {len(items) / cpu:,.0f} posts/s CPU, "
        f"{len(items) / elapsed:,.0f} posts/s wall (the whole command: start-up, parsing, matching, the store)",
        flush=True,
    )
    print(
        f"{'the pipeline in process':<22} n={len(items):>5} {len(items) / inner_cpu:,.0f} posts/s CPU, "
        f"{len(items) / inner_elapsed:,.0f} posts/s wall (the same posts, already read, through Pipeline.process "
        f"into a new SQLite store, {INGEST_CHUNK:,} a transaction as `monitor ingest` does)", flush=True,
    )
    print(f"monitor ingest (CLI) / in process: {inner_cpu / cpu:.2f} per CPU second, "
          f"{inner_elapsed / elapsed:.2f} per wall second (goal >= 0.6)", flush=True)
    if missing:
        print(f"{missing} posts missing from `monitor clusters --json`", flush=True)


INGEST_CHUNK = 2000


def in_process(posts: Path, workdir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the `monitor ingest` pipeline run in this process on `posts` (read
    before the clock starts): a new store, the same `*` topic, chunks of INGEST_CHUNK posts."""
    from monitor.config import parse
    from monitor.pipeline import Pipeline
    from monitor.records import read_posts
    from storage.store import open_store

    workdir.mkdir()
    config_path = workdir / "feeds.toml"
    config_path.write_text('[[topics]]\nname = "all"\nquery = "*"\n', encoding="utf-8")
    config = parse(config_path.read_text(encoding="utf-8"), config_path, environ={})
    read = list(read_posts(posts))
    started, cpu_before = time.perf_counter(), time.process_time()
    now = datetime.now(UTC)
    with open_store(config.storage_url) as store:
        store.lock_writer(now)
        pipeline = Pipeline(store, config.topics, now=now)
        for start in range(0, len(read), INGEST_CHUNK):
            pipeline.process(read[start : start + INGEST_CHUNK], now=now, replay=True)
    return time.perf_counter() - started, time.process_time() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _monitor(*args: str) -> str:
    executable = Path(sys.executable).with_name("monitor")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "monitor.cli"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"monitor {args[0]} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout


def common_posts(feeds: int = 200, items: int = 50) -> list[Post]:
    """bench/poll.py's shape: items of 40 words drawn Zipf-like from common English, one minute apart
    per feed, so every post shares vocabulary with every other (the worst case for candidates)."""
    from wordfreq import top_n_list

    vocabulary = [w for w in top_n_list("en", 5000) if w.isalpha()]
    weights = [1 / (r + 10) for r in range(len(vocabulary))]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for f in range(feeds):
        rng = random.Random(f)
        for i in range(items):
            text = " ".join(rng.choices(vocabulary, weights=weights, k=40)).capitalize() + "."
            out.append(Post(id=f"f{f}-i{i}", source=f"feed{f}", author="", url=f"https://example.org/{f}/{i}",
                            text=text, published=start + timedelta(minutes=i)))
    return sorted(out, key=lambda p: p.published)


def common(feeds: int, items: int) -> None:
    """µs per post for dedup alone, clustering alone and both, on the poll shape."""
    posts = common_posts(feeds, items)
    featurizer = Featurizer()
    started = time.process_time()
    shared = [featurizer(post) for post in posts]
    featurize = time.process_time() - started
    deduper = Deduper(featurizer=featurizer)
    started = time.process_time()
    duplicates = [deduper.check(post, features) for post, features in zip(posts, shared, strict=True)]
    dedup = time.process_time() - started
    builder = StoryBuilder("all", itertools.count(1), featurizer=featurizer)
    started = time.process_time()
    for n, (post, duplicate, features) in enumerate(zip(posts, duplicates, shared, strict=True), 1):
        builder.add(post, post.published, duplicate, features)
        if n % 50 == 0:
            builder.changed()
    builder.changed()
    cluster = time.process_time() - started
    n = len(posts)
    total = featurize + dedup + cluster
    print(
        f"{n:,} posts of 40 common words: features {featurize / n * 1e6:.1f} µs/post, dedup {dedup / n * 1e6:.1f}, "
        f"cluster {cluster / n * 1e6:.1f}, all three {total / n * 1e6:.1f} µs/post (CPU); "
        f"live stories {builder.live_count}; peak RSS {peak_mb():.0f} MB", flush=True,
    )
    pipeline_with_store(posts, feeds)


def pipeline_with_store(posts: list[Post], feeds: int) -> None:
    """The same posts through the real pipeline (match `*`, dedup, cluster) into a SQLite file, one
    transaction per feed's poll, as `monitor run` does."""
    from monitor.config import Topic
    from monitor.pipeline import Pipeline
    from storage.store import open_store

    by_feed: dict[str, list[Post]] = {}
    for post in posts:
        by_feed.setdefault(post.source, []).append(post)
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/bench.db") as store:
        pipeline = Pipeline(store, [Topic("all", query="*")], now=posts[0].published)
        started, wall = time.process_time(), time.perf_counter()
        for batch in by_feed.values():
            pipeline.process(batch, now=batch[-1].published, replay=True)
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
    n = len(posts)
    print(
        f"  the pipeline into SQLite, {feeds} polls: {cpu:.1f} s CPU ({cpu / n * 1e6:.0f} µs/post), "
        f"{wall:.1f} s wall; peak RSS {peak_mb():.0f} MB", flush=True,
    )


def peak_mb() -> float:
    """Peak resident memory of this whole process (interpreter, numpy and wordfreq included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fixed_hash_seed() -> None:
    """Re-runs this script with PYTHONHASHSEED=0 unless one is set: the dedup sketches hash with
    Python's per-process salted hash, which moves F1 by up to ±0.01 from one run to the next."""
    if "PYTHONHASHSEED" not in os.environ:
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=UCI)
    parser.add_argument("--synthetic", type=int, metavar="N", help="feed N synthetic posts instead")
    parser.add_argument("--common", action="store_true", help="time 200 feeds × 50 posts of 40 common words")
    parser.add_argument("--via-cli", action="store_true", help="replay the UCI file through `monitor ingest`")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--held-out", action="store_true", help="only the held-out figure")
    args = parser.parse_args(argv)
    if args.common:
        common(200, 50)
        return 0
    if args.synthetic:
        synthetic(args.synthetic)
        return 0
    if not args.data.is_file():
        print(f"no data at {args.data}", file=sys.stderr)
        return 1
    if args.via_cli:
        via_cli(load_uci(args.data))
        return 0
    if args.held_out:
        held_out(load_uci(args.data))
        return 0
    uci(args.data, baseline=not args.no_baseline)
    return 0


Runner = Callable[[Sequence[Labelled]], tuple[list[int], float]]

if __name__ == "__main__":
    fixed_hash_seed()
    raise SystemExit(main())
