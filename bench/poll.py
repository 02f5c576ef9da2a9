"""Time a cold and a warm `monitor run --once` over 200 feeds × 50 items served on 127.0.0.1.

Warm means nothing changed and the server ignores conditional GET, so only the body hash saves work.
The feeds are spread over HOSTS loopback addresses (127.0.0.1, 127.0.0.2, ...), as real feeds live on
many hosts: monitor asks at most 2 at once of any one host.
Where newsboat is installed, `newsboat -x reload` runs on the same feeds in the same run. The project's
modules are compiled first, as an installed package has them (bench/installed.py).

    .venv/bin/python bench/poll.py [--feeds 200] [--items 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.installed import as_installed
from tests.support.feeds import rss
from tests.support.server import FixtureServer, Reply

TOPIC_WORDS = ["volcano", "lava", "Grindavik", "eruption", "magma"]
MATCHING = 0.2
"""The share of items about the topic: a monitor reads general feeds and keeps the few that match."""


def make_feed(n: int, items: int) -> bytes:
    """Items of ~40 words drawn Zipf-like from common English, a fifth of them about the volcano."""
    from wordfreq import top_n_list

    vocabulary = [w for w in top_n_list("en", 5000) if w.isalpha() and w not in TOPIC_WORDS]
    rng = random.Random(n)
    rows = []
    for i in range(items):
        words = rng.choices(vocabulary, weights=[1 / (r + 10) for r in range(len(vocabulary))], k=40)
        if rng.random() < MATCHING:
            words[rng.randrange(40)] = rng.choice(TOPIC_WORDS)
        rows.append((f"f{n}-i{i}", " ".join(words).capitalize() + "."))
    return rss(rows, title=f"feed {n}")


def feed_url(servers: list[FixtureServer], n: int) -> str:
    return servers[n % len(servers)].url(f"/f{n}.xml")


CPU: dict[str, list[float]] = {}
"""Each command's CPU seconds (user + system, its threads and children): on a shared machine the
wall clock also counts the others' work."""


def timed(cmd: list[str], cwd: Path, label: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def bench_monitor(servers: list[FixtureServer], feeds: int, workdir: Path) -> tuple[float, float]:
    config = workdir / "feeds.toml"
    text = '[[topics]]\nname = "volcano"\nkeywords = ["volcano", "lava", "Grindavik", "eruption", "magma"]\n\n'
    text += "".join(f'[[feeds]]\nname = "f{n}"\nurl = "{feed_url(servers, n)}"\ninterval = "1h"\n\n'
                    for n in range(feeds))
    config.write_text(text)
    monitor = [sys.executable, "-m", "monitor.cli", "run", "--once", "--config", str(config)]
    return timed(monitor, workdir, "monitor cold"), timed(monitor, workdir, "monitor warm")


def bench_newsboat(servers: list[FixtureServer], feeds: int, workdir: Path) -> tuple[float, float] | None:
    if not shutil.which("newsboat"):
        return None
    urls = workdir / "urls"
    urls.write_text("".join(feed_url(servers, n) + "\n" for n in range(feeds)))
    (workdir / "config").write_text("reload-threads 16\n")
    cmd = ["newsboat", "-x", "reload", "-u", str(urls), "-c", str(workdir / "cache.db"), "-C", str(workdir / "config")]
    return timed(cmd, workdir, "newsboat cold"), timed(cmd, workdir, "newsboat warm")


HOSTS = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    as_installed()
    with ExitStack() as stack:
        servers = [stack.enter_context(FixtureServer(f"127.0.0.{h + 1}")) for h in range(HOSTS)]
        for n in range(args.feeds):
            body = make_feed(n, args.items)
            for server in servers:
                server.routes[f"/f{n}.xml"] = Reply(200, body, {"Content-Type": "application/rss+xml"})
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                ours.append(bench_monitor(servers, args.feeds, Path(tmp)))
            with tempfile.TemporaryDirectory() as tmp:
                result = bench_newsboat(servers, args.feeds, Path(tmp))
                if result:
                    theirs.append(result)
    cold, warm = (statistics.median(x) for x in zip(*ours, strict=True))
    print(f"{args.feeds} feeds x {args.items} items (~{MATCHING:.0%} about the topic), median of {args.repeat}")
    print(f"monitor  run --once  cold {cold * 1000:7.0f} ms   warm {warm * 1000:7.0f} ms")
    if theirs:
        n_cold, n_warm = (statistics.median(x) for x in zip(*theirs, strict=True))
        print(f"newsboat -x reload   cold {n_cold * 1000:7.0f} ms   warm {n_warm * 1000:7.0f} ms")
        print(f"ratio monitor/newsboat: cold {cold / n_cold:.2f} (goal <= 0.5, stretch 0.33)   "
              f"warm {warm / n_warm:.2f} (goal <= 0.2, stretch 0.1)")
    else:
        print("newsboat not installed (apt-get install newsboat): no comparison")
    print("CPU seconds (median): " + "   ".join(f"{label} {statistics.median(cpu):.2f}" for label, cpu in CPU.items()))


if __name__ == "__main__":
    main()
