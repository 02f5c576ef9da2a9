"""Several workers on one PostgreSQL: matched posts processed per second by 1, 2 and 3 workers, where
the limit is, and how far the story worker's inbox lags at a steady 500 matched posts/s.

A feed farm (another process, asyncio, one port per 20 feeds so politeness allows 2 polls per port)
serves 2,000 RSS feeds, each answer after 50-300 ms, each answer holding `--new` items it never
served before (every one matches the topic). Each run gets a fresh PostgreSQL schema and starts N
`monitor run` processes on it; after a warm-up it counts, over `--seconds`, the posts stored (folded
by the story worker: processed end to end), the polls answered, the CPU used by the workers, by
PostgreSQL and by the whole machine, and samples the inbox lag every 0.25 s.

Goal: 2 workers >= 1.7x one worker on this 2-core machine; at a steady 500 matched posts/s, the
inbox never more than one tick (1 s) behind.

    MONITOR_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/scale.py [--feeds 2000] [--seconds 30] [--workers 1 2 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
PER_PORT = 20
PER_DELIVERY = 10
WINDOW = 20
TICK = 1.0
HEADLINES = [
    "Volcano erupts near {place} as lava reaches the {thing}", "Volcano ash cloud over {place} grounds {thing}",
    "Volcano tremors shake {place}; scientists watch the {thing}", "Volcano alert raised for {place} {thing}",
    "Evacuation of {place} as the volcano threatens the {thing}", "Volcano gas levels rise at {place} {thing}",
]
PLACES = ["Grindavik", "Reykjanes", "Etna", "Kilauea", "Merapi", "Fuego", "Stromboli", "Sakurajima", "Taal"]
THINGS = ["harbour", "airport", "power plant", "road", "village", "lagoon", "school", "pipeline", "farms"]


# --- the feed farm (a process of its own) ------------------------------------------------------------


def farm(ports: list[int], new: int, latency: tuple[float, float], ready: multiprocessing.Event,
         counter: multiprocessing.Value) -> None:
    """Serve /fNNNN.xml on every port until killed: each answer brings `new` items never served before."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    served: dict[str, int] = {}
    start = datetime.now(UTC) - timedelta(hours=1)

    def body(name: str) -> bytes:
        served[name] = newest = served.get(name, 0) + new
        items = []
        for n in range(max(1, newest - WINDOW + 1), newest + 1):
            rng = random.Random(f"{name}{n}")
            title = rng.choice(HEADLINES).format(place=rng.choice(PLACES), thing=rng.choice(THINGS))
            when = format_datetime(start + timedelta(seconds=n))
            items.append(f"<item><guid>{name}-{n}</guid><title>{title}</title><description>{title} ({name} "
                         f"report {n})</description><link>http://example.org/{name}/{n}</link>"
                         f"<pubDate>{when}</pubDate></item>")
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
                f'<link>http://example.org/</link><description>d</description>{"".join(items)}'
                "</channel></rss>").encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                path = line.split()[1].decode()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                await asyncio.sleep(random.uniform(*latency))
                payload = body(path.strip("/").removesuffix(".xml"))
                with counter.get_lock():
                    counter.value += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
                await writer.drain()
        except (ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        for port in ports:
            await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


# --- CPU accounting from /proc -------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postgresql"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


# --- one run ---------------------------------------------------------------------------------------------


@contextmanager
def schema(base: str) -> Iterator[tuple[str, Engine]]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    url = make_url(base)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={name}"})
    engine = create_engine(scoped)
    try:
        yield scoped.render_as_string(hide_password=False), engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def config_text(url: str, ports: list[int], feeds: int, interval: str) -> str:
    lines = ['[storage]', f'url = "{url}"', "", "[[topics]]", 'name = "volcano"', 'keywords = ["volcano"]', ""]
    for i in range(feeds):
        port = ports[i // PER_PORT]
        lines += ["[[feeds]]", f'name = "f{i:04d}"', 'type = "rss"', f'url = "http://127.0.0.1:{port}/f{i:04d}.xml"',
                  f'interval = "{interval}"', ""]
    return "\n".join(lines)


@dataclass
class Result:
    workers: int
    posts_per_s: float
    polls_per_s: float
    worker_cpu: float  # cores
    postgres_cpu: float  # cores
    machine_busy: float  # share of all cores
    lag_max: float
    lag_p99: float
    waiting_max: int


def run(base: str, workers: int, ports: list[int], feeds: int, interval: str, warmup: float, seconds: float,
        counter: multiprocessing.Value, folder: Path) -> Result:
    with schema(base) as (url, engine):
        config = folder / f"feeds-{workers}-{interval}.toml"
        config.write_text(config_text(url, ports, feeds, interval))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")} | {"PYTHONPATH": str(ROOT)}
        logs = [(folder / f"worker{workers}-{i}.log").open("wb") for i in range(workers)]
        procs = [subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=folder) for log in logs]
        try:
            time.sleep(warmup)

            def stored() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(text("SELECT posts FROM meta")).scalar_one())

            pg = postgres_pids()
            posts0, polls0 = stored(), counter.value
            cpu0, pg0, (busy0, total0) = cpu_seconds([p.pid for p in procs]), cpu_seconds(pg), machine_busy()
            started = time.monotonic()
            lags: list[float] = []
            waiting: list[int] = []
            while time.monotonic() - started < seconds:
                with engine.connect() as conn:
                    n, oldest = conn.execute(text("SELECT count(*), min(at) FROM inbox")).one()
                lags.append((datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
                waiting.append(int(n))
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            posts1, polls1 = stored(), counter.value
            cpu1, pg1, (busy1, total1) = cpu_seconds([p.pid for p in procs]), cpu_seconds(pg), machine_busy()
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
            for log in logs:
                log.close()
    lags.sort()
    return Result(workers, (posts1 - posts0) / elapsed, (polls1 - polls0) / elapsed, (cpu1 - cpu0) / elapsed,
                  (pg1 - pg0) / elapsed, (busy1 - busy0) / max(1, total1 - total0), lags[-1],
                  lags[int(0.99 * (len(lags) - 1))], max(waiting))


def steady(base: str, rate: float, seconds: float, ports: list[int], feeds: int, folder: Path) -> None:
    """One story worker folding what a stand-in for the other workers delivers at `rate` matched posts/s
    (PER_DELIVERY posts per delivery, as polls deliver them), its own feeds not due: how far behind is the inbox?"""
    from storage.store import open_store
    from storage.types import FeedState, Post

    names = [f"f{i:04d}" for i in range(feeds)]
    with schema(base) as (url, engine), open_store(url) as store:
        later = datetime.now(UTC) + timedelta(days=1)
        store.sync_feeds(names, later)  # the worker's own polls stay out of the way
        config = folder / "feeds-steady.toml"
        config.write_text(config_text(url, ports, feeds, "1d"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")} | {"PYTHONPATH": str(ROOT)}
        with (folder / "worker-steady.log").open("wb") as log:
            worker = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                                      stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=folder)
            try:
                _wait_for_folder(engine)
                work, sent, lags, waiting = store.work(), 0, [], []
                start = time.monotonic()
                posts0 = _stored(engine)
                while (elapsed := time.monotonic() - start) < seconds:
                    due = int(elapsed * rate) - sent
                    for k in range(0, due, PER_DELIVERY):
                        now = datetime.now(UTC)
                        feed = names[(sent + k) // PER_DELIVERY % feeds]
                        batch = [Post(f"{feed}-{sent + k + m}", feed, "ann", f"http://example.org/{sent + k + m}",
                                      _headline(sent + k + m), now) for m in range(min(PER_DELIVERY, due - k))]
                        work.deliver("stand-in", FeedState(feed, next_check=later), batch, now)
                    sent += max(0, due)
                    with engine.connect() as conn:
                        n, oldest = conn.execute(text("SELECT count(*), min(at) FROM inbox")).one()
                    lags.append((datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
                    waiting.append(int(n))
                    time.sleep(0.1)
                offered = sent / (time.monotonic() - start)
                time.sleep(2)
                stored = (_stored(engine) - posts0) / (time.monotonic() - start)
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
    lags.sort()
    verdict = "met" if lags[-1] <= TICK else "NOT met"
    print(f"\nsteady: {offered:,.0f} matched posts/s delivered to the inbox ({PER_DELIVERY} a delivery) "
          f"for {seconds:g} s, "
          f"one story worker folding: stored {stored:,.0f}/s; inbox lag max {lags[-1]:.2f} s, "
          f"p99 {lags[int(0.99 * (len(lags) - 1))]:.2f} s, at most {max(waiting):,} posts waiting; "
          f"goal: never more than one tick ({TICK:g} s) behind: {verdict}")


def _wait_for_folder(engine: Engine) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM workers WHERE clustering")).scalar_one():
                return
        time.sleep(0.2)
    raise SystemExit("bench/scale.py: no worker took the story lock within 120 s")


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT posts FROM meta")).scalar_one())


def _headline(n: int) -> str:
    rng = random.Random(n)
    return rng.choice(HEADLINES).format(place=rng.choice(PLACES), thing=rng.choice(THINGS)) + f" (report {n})"


def limit(r: Result, cores: int) -> str:
    if r.machine_busy >= 0.9:
        return (f"CPU: the machine is {r.machine_busy:.0%} busy (workers {r.worker_cpu:.2f} cores, "
                f"PostgreSQL {r.postgres_cpu:.2f})")
    if r.lag_max > 2 * TICK:
        return f"the story lock: one worker folds, and its inbox lag grew to {r.lag_max:.1f} s"
    return (f"fetching: {r.workers} x 16 polls at once x 50-300 ms latency (machine {r.machine_busy:.0%} busy, "
            f"{cores} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 3], help="none: the steady run only")
    parser.add_argument("--new", type=int, default=3, help="new items per answer in the throughput runs")
    parser.add_argument("--steady", type=float, default=500, help="matched posts/s of the lag run (0: none)")
    parser.add_argument("--database", default=os.environ.get("MONITOR_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.database:
        sys.exit("bench/scale.py: set MONITOR_TEST_DATABASE_URL or pass --database (a PostgreSQL URL)")
    cores = os.cpu_count() or 1
    ports = free_ports(-(-args.feeds // PER_PORT))
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    print(f"{args.feeds} feeds on {len(ports)} local ports (50-300 ms per answer); {cores} cores; "
          f"load {os.getloadavg()[0]:.1f} at start; logs in {folder}")

    def farm_process(new: int) -> tuple[multiprocessing.Process, multiprocessing.Value]:
        ready, counter = multiprocessing.Event(), multiprocessing.Value("l", 0)
        process = multiprocessing.Process(target=farm, args=(ports, new, (0.05, 0.3), ready, counter), daemon=True)
        process.start()
        ready.wait(30)
        return process, counter

    print("\nthroughput: every feed due every 2 s (more than the workers can poll), "
          f"{args.new} new matching items per answer")
    print(f"{'workers':>7} {'posts/s':>9} {'polls/s':>8} {'vs 1':>6} {'worker CPU':>11} {'PG CPU':>7} "
          f"{'posts/CPU-s':>11} {'machine':>8} {'lag max':>8}  limit")
    results: list[Result] = []
    for n in args.workers:
        process, counter = farm_process(args.new)
        try:
            r = run(args.database, n, ports, args.feeds, "2s", args.warmup, args.seconds, counter, folder)
        finally:
            process.terminate()
            process.join()
        results.append(r)
        ratio = r.posts_per_s / results[0].posts_per_s if results[0].posts_per_s else 0.0
        per_cpu = r.posts_per_s / max(0.01, r.worker_cpu + r.postgres_cpu)
        print(f"{n:>7} {r.posts_per_s:>9,.0f} {r.polls_per_s:>8,.0f} {ratio:>5.2f}x {r.worker_cpu:>9.2f} c "
              f"{r.postgres_cpu:>5.2f} c {per_cpu:>11,.0f} {r.machine_busy:>7.0%} {r.lag_max:>7.1f}s  "
              f"{limit(r, cores)}", flush=True)
    by = {r.workers: r for r in results}
    if 1 in by and 2 in by and by[1].posts_per_s:
        ratio = by[2].posts_per_s / by[1].posts_per_s
        print(f"goal 2 workers >= 1.7x one: {ratio:.2f}x ({'met' if ratio >= 1.7 else 'NOT met'}); "
              "posts/CPU-s counts the workers' and PostgreSQL's CPU: where it holds from 1 to 2 workers, "
              "the work shares without overhead and the rate follows the CPU the machine can give")

    if args.steady:
        steady(args.database, args.steady, args.seconds, ports, args.feeds, folder)


if __name__ == "__main__":
    main()
