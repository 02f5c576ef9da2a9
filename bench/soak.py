"""Soak: one `monitor ingest` of many posts, its RSS printed every 100k posts, and the bytes per post.

    .venv/bin/python bench/soak.py [--posts 1000000] [--every 100000] [--keep]

Generates a JSONL file in a temp directory (posts spread over 30 days, every one matching the
topic, one in ten a near-duplicate of an earlier one, so dedup and clustering do their real work),
runs `python -m monitor.cli ingest` on it as one process, and while it runs reads the process's
VmRSS and CPU time from /proc and the stored post count from the database (a read-only reader, as
`monitor status` is). Goals: RSS flat within 10 % after warm-up (the first `--every` posts); the
last `--every` posts at >= 70 % of the first's rate. Each interval's rate is given per second of
wall clock and per second of the ingest's CPU time (a shared machine's load blurs the first, not
the second); the first interval starts at the first stored post (the command first reads the whole
file once, to refuse a malformed one before storing anything).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.installed import ROOT, as_installed

T0 = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = ("lava", "eruption", "magma", "quake", "evacuation", "road", "town", "harbour", "ash", "plume", "crater",
         "fissure", "police", "power", "school", "airport", "flight", "residents", "geologists", "alert", "warning",
         "night", "morning", "update", "report", "video")
PLACES = ("Grindavik", "Reykjanes", "Keflavik", "Svartsengi", "Blue Lagoon", "Vogar", "Hafnarfjordur")


def generate(path: Path, total: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    span = timedelta(days=30).total_seconds()
    recent: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for i in range(total):
            if recent and rng.random() < 0.1:
                text = rng.choice(recent) + " (via repost)"
            else:
                words = " ".join(rng.choices(WORDS, k=rng.randint(8, 30)))
                text = f"Volcano near {rng.choice(PLACES)}: {words} #{i % 500}"
                recent = [*recent, text][-200:]
            when = T0 + timedelta(seconds=span * i / total)
            row = {"id": str(i), "source": f"soak{i % 20}", "author": f"user{rng.randint(0, 5000)}",
                   "url": f"https://example.org/p/{i}", "text": text, "published": when.isoformat()}
            out.write(json.dumps(row) + "\n")


def rss_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of the process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored(db: Path, *, exact: bool = False) -> int:
    """Stored posts: the count the store keeps (meta.posts), or count(*) at the end."""
    query = "SELECT count(*) FROM posts" if exact else "SELECT posts FROM meta"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(query).fetchone()
            return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temp directory and print it")
    args = parser.parse_args()
    as_installed()  # as an installed package has them (bench/installed.py)

    work = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    data, config, db = work / "posts.jsonl", work / "feeds.toml", work / "monitor.db"
    config.write_text('[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n')
    started = time.perf_counter()
    generate(data, args.posts)
    print(f"generated {args.posts:,} posts ({data.stat().st_size / 2**20:.0f} MB JSONL) "
          f"in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    ingest = subprocess.Popen([sys.executable, "-m", "monitor.cli", "ingest", str(data), "--config", str(config)],
                              cwd=work, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                              stderr=subprocess.PIPE, text=True)
    marks: list[tuple[int, int]] = []
    rates: list[tuple[float, float]] = []  # per interval: posts/s of wall clock, of the ingest's CPU
    next_mark, peak = args.every, 0
    last: tuple[int, float, float] | None = None  # posts, wall, CPU at the previous mark
    print(f"{'posts':>10} {'RSS MB':>8} {'elapsed s':>10} {'posts/s':>8} {'interval/s':>11} {'per CPU s':>10}")
    while ingest.poll() is None:
        rss, cpu = rss_of(ingest.pid), cpu_of(ingest.pid)
        count = stored(db)
        now = time.perf_counter()
        if rss:
            peak = max(peak, rss)
        if last is None and count > 0 and cpu is not None:
            last = (count, now, cpu)
        if rss and cpu is not None and last is not None and count >= next_mark:
            wall_rate = (count - last[0]) / max(now - last[1], 1e-9)
            cpu_rate = (count - last[0]) / max(cpu - last[2], 1e-9)
            elapsed = now - started
            print(f"{count:>10,} {rss / 2**20:>8.1f} {elapsed:>10.1f} {count / elapsed:>8.0f} {wall_rate:>11.0f} "
                  f"{cpu_rate:>10.0f}", flush=True)
            marks.append((count, rss))
            rates.append((wall_rate, cpu_rate))
            last = (count, now, cpu)
            next_mark = (count // args.every + 1) * args.every
        time.sleep(0.2)
    err = ingest.stderr.read() if ingest.stderr else ""
    if ingest.returncode != 0:
        sys.exit(f"ingest failed ({ingest.returncode}): {err[-2000:]}")
    elapsed = time.perf_counter() - started
    total = stored(db, exact=True)
    size = sum(p.stat().st_size for p in work.glob("monitor.db*"))
    print(f"ingested {total:,} stored posts in {elapsed:.0f} s ({total / elapsed:.0f} posts/s), peak RSS "
          f"{peak / 2**20:.0f} MB")
    print(f"database {size / 2**20:.0f} MB = {size / max(total, 1):.0f} bytes per post "
          f"(JSONL input {data.stat().st_size / max(total, 1):.0f} bytes per post)")
    warm = [rss for count, rss in marks if count > args.every]
    if len(warm) >= 2:
        spread = (max(warm) - min(warm)) / min(warm) * 100
        verdict = "flat (goal: within 10 %)" if spread <= 10 else "NOT flat (goal: within 10 %)"
        low, high = min(warm) / 2**20, max(warm) / 2**20
        print(f"RSS after warm-up: {low:.0f}-{high:.0f} MB, spread {spread:.1f} % — {verdict}")
    if len(rates) >= 2:
        (first_wall, first_cpu), (last_wall, last_cpu) = rates[0], rates[-1]
        print(f"last {args.every:,} at {last_cpu / first_cpu:.0%} of the first's rate per CPU second "
              f"({last_wall / first_wall:.0%} per wall second; goal >= 70 %)")
    print(err.strip().splitlines()[-1] if err.strip() else "")
    if args.keep:
        print(f"kept {work}")
    else:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
