"""Live streams: how many frames a second one daemon keeps up with, and how soon a post is stored and shown.

A local Jetstream (another process, on the other core) sends real tweets (the 22 events of
../shared/data/relevance) as Bluesky post frames; the daemon (this process, pinned to one core)
reads them with 5 topics of 50 terms each, made from five events' hashtags, phrases and articles.

1. Throughput: the server sends as fast as it can; frames/s from the first frame to the last one's
   cursor in the store, and CPU per frame (the reader, the matcher, the writer thread, everything).
2. Match first vs the obvious alternative, on the same posts without the socket: CPU per post when
   each post is matched before any other work, and when every post goes through the pipeline.
3. Latency at a steady rate (default 1,000 frames/s): from the frame's time to its post committed
   in the store, and to a dashboard's next board that holds it (a reader process polling the store
   every 0.5 s and loading the board as `monitor dash` does).

Goals: >= 5,000 frames/s on one core; <= 1 s from frame to store at 1,000 frames/s.

    .venv/bin/python bench/stream.py [--frames 60000] [--rate 1000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wordfreq

from monitor.config import Topic, parse
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from monitor.match import compile_topics
from monitor.pipeline import Pipeline
from monitor.sources import bluesky_stream
from monitor.sources.base import PollContext
from storage.store import open_store
from storage.types import Post

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "relevance"
EVENTS = ("2012_Colorado_wildfires", "2012_Costa_Rica_earthquake", "2013_LA_airport_shootings", "2013_Russia_meteor",
          "2013_Savar_building_collapse")
TERMS = 50
COLLECTION = "app.bsky.feed.post"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{4,}")


# --- the data -------------------------------------------------------------------------------------


def tweets() -> list[str]:
    texts: list[str] = []
    for path in sorted((SHARED / "streams").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    return texts


def topics() -> list[Topic]:
    """Each event's own hashtags and phrases, then its article's rarer words (names first), to 50 terms."""
    made = []
    for event in EVENTS:
        terms = list(dict.fromkeys(json.loads((SHARED / "keywords" / f"{event}.json").read_text())["keywords"]))
        words = Counter(_WORD.findall((SHARED / "articles" / f"{event}.txt").read_text()))
        rare = sorted(words, key=lambda w: (not w[0].isupper(), wordfreq.zipf_frequency(w, "en"), -words[w]))
        terms += [w for w in rare if w.lower() not in {t.lower() for t in terms}]
        made.append(Topic(name=event, keywords=tuple(terms[:TERMS])))
    return made


def stream_of(texts: list[str], made: list[Topic], matched: float) -> tuple[list[str], float]:
    """The tweets in their order, with as many that match a topic as `matched` says (the real post
    stream is tens of posts a second, of which a topic takes a few a minute); and the share the
    whole set would have had."""
    matcher = compile_topics(made)
    when = datetime(2025, 1, 1, tzinfo=UTC)
    hits = [bool(matcher.match(Post(str(i), "b", "", "", t, when))) for i, t in enumerate(texts)]
    on, off = [t for t, h in zip(texts, hits, strict=True) if h], [t for t, h in zip(texts, hits, strict=True) if not h]
    every = max(1, round(1 / matched)) if matched else 0
    mixed = [on[(i // every) % len(on)] if every and i % every == 0 else off[i % len(off)] for i in range(len(texts))]
    return mixed, len(on) / len(texts)


def record(text: str, when: datetime) -> dict[str, Any]:
    return {"$type": COLLECTION, "text": text, "createdAt": when.isoformat().replace("+00:00", "Z"), "langs": ["en"]}


def frame(n: int, text: str, time_us: int) -> str:
    commit = {"rev": f"r{n}", "operation": "create", "collection": COLLECTION, "rkey": f"k{n}",
              "record": record(text, datetime.fromtimestamp(time_us / 1e6, UTC)), "cid": "bafy"}
    return json.dumps({"did": f"did:plc:bench{n % 5000}", "time_us": time_us, "kind": "commit", "commit": commit})


# --- the server process ---------------------------------------------------------------------------


def serve(texts: list[str], count: int, rate: float, ports: Any) -> None:
    """A Jetstream sending `count` frames (as fast as it can, or `rate` a second, each stamped with its
    send time), and a getProfiles answering for any DID."""
    os.sched_setaffinity(0, {1 % os.cpu_count()})  # type: ignore[operator]
    from websockets.asyncio.server import serve as ws_serve

    prebuilt = [frame(n, texts[n % len(texts)], 1_700_000_000_000_000 + n) for n in range(count)] if not rate else []

    class Profiles(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            dids = re.findall(r"actors=([^&]+)", self.path)
            body = json.dumps({"profiles": [{"did": d.replace("%3A", ":"), "handle": f"u{i}.bsky.social"}
                                            for i, d in enumerate(dids)]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Profiles)
    Thread(target=http.serve_forever, daemon=True).start()

    async def stream(ws: Any) -> None:
        if not rate:
            for data in prebuilt:
                await ws.send(data)
        else:
            start = time.time()
            for n in range(count):
                due = start + n / rate
                if due > time.time():
                    await asyncio.sleep(due - time.time())
                await ws.send(frame(n, texts[n % len(texts)], int(time.time() * 1e6)))
        await ws.wait_closed()

    async def main() -> None:
        async with ws_serve(stream, "127.0.0.1", 0, compression=None, max_size=None) as server:
            ports.put((next(iter(server.sockets)).getsockname()[1], http.server_address[1]))
            await asyncio.Future()

    asyncio.run(main())


# --- the dashboard's reader process ---------------------------------------------------------------


def dashboard(url: str, topic_names: list[str], loads: Any, stop: Any) -> None:
    """Poll the revision every 0.5 s as the dashboard does; on a change, load the board; report
    (revision, when the load finished)."""
    os.sched_setaffinity(0, {1 % os.cpu_count()})  # type: ignore[operator]
    from monitor.tui.board import BoardLoader
    from monitor.tui.prefs import Prefs

    while not stop.is_set():
        try:
            store = open_store(url, readonly=True)
            break
        except Exception:
            time.sleep(0.1)
    loader, seen = BoardLoader(store, topic_names), -1
    while not stop.is_set():
        revision = loader.revision()
        if revision != seen:
            loader.board(topic_names[0], Prefs(), datetime.now(UTC), revision)
            loads.put((revision, time.time()))
            seen = revision
        time.sleep(0.5)


# --- the daemon -----------------------------------------------------------------------------------


def feeds_toml(made: list[Topic], ws_port: int, http_port: int, db: Path) -> str:
    parts = [f'[storage]\nurl = "sqlite:///{db}"\n']
    for topic in made:
        parts.append(f"[[topics]]\nname = {json.dumps(topic.name)}\nkeywords = {json.dumps(list(topic.keywords))}\n")
    parts.append(f'[[feeds]]\nname = "bsky"\ntype = "bluesky-stream"\nbase_url = "ws://127.0.0.1:{ws_port}"\n'
                 f'profiles_url = "http://127.0.0.1:{http_port}"\n')
    return "\n".join(parts)


async def run_daemon(config_text: str, db: Path, count: int, on_commit: Callable[[list[Any], float], None]) -> Run:
    """Read until `count` frames are read and stored."""
    path = db.with_suffix(".toml")
    path.write_text(config_text)
    config = parse(config_text, path, environ={})
    with open_store(config.storage_url) as store:
        store.lock_writer(datetime.now(UTC))
        async with Fetcher() as fetcher:
            daemon = Daemon(config, store, fetcher, clock=lambda: datetime.now(UTC))
            write = daemon.streams.lent.write

            async def timed(fn: Callable[..., Any], *args: object, **kwargs: object) -> Any:
                result = await write(fn, *args, **kwargs)
                if getattr(fn, "__name__", "") == "_store":
                    on_commit(list(args[0]), time.time())  # type: ignore[call-overload]
                return result

            daemon.streams.lent = replace(daemon.streams.lent, write=timed)
            stop = asyncio.Event()
            running = asyncio.create_task(daemon.run_until(stop))
            while not daemon.streams.streams or not daemon.streams.streams["bsky"].meter.frames:
                await asyncio.sleep(0.001)
            stream = daemon.streams.streams["bsky"]
            started, cpu = time.perf_counter(), _cpu()
            while stream.meter.frames < count:
                await asyncio.sleep(0.005)
            read, read_cpu = time.perf_counter() - started, _cpu() - cpu
            stream._wake.set()  # store the last cursor now rather than at the next cursor_every
            while stream._stored_position != stream.backlog.position:
                await asyncio.sleep(0.005)
            stored = time.perf_counter() - started
            stop.set()
            await running
            return Run(read, stored, read_cpu, stream.meter.matched)


@dataclass(frozen=True)
class Run:
    read: float
    """Seconds from the first frame to the last one read."""
    stored: float
    """... to the last one's cursor in the store."""
    cpu: float
    """CPU seconds of this process (every thread) while reading."""
    matched: int


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def daemon_run(texts: list[str], made: list[Topic], count: int, rate: float, work: Path,
               on_commit: Callable[[list[Any], float], None]) -> Run:
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(texts, count, rate, ports), daemon=True)
    server.start()
    ws_port, http_port = ports.get(timeout=60)
    db = work / f"stream-{rate:g}.db"
    try:
        return asyncio.run(run_daemon(feeds_toml(made, ws_port, http_port, db), db, count, on_commit))
    finally:
        server.terminate()


# --- 2. match first vs every post through the pipeline -------------------------------------------


def per_post_cpu(texts: list[str], made: list[Topic], work: Path, count: int) -> tuple[float, float]:
    ctx = PollContext("bsky", {})
    frames = [frame(n, texts[n % len(texts)], 1_700_000_000_000_000 + n) for n in range(count)]

    def run(first: bool, name: str) -> float:
        with open_store(f"sqlite:///{work / name}") as store:
            pipeline = Pipeline(store, made, now=datetime.now(UTC))
            started = _cpu()
            batch = []
            for data in frames:
                post = bluesky_stream.read(ctx, data, "").post
                if post is not None and (not first or pipeline.topics.match(post)):
                    batch.append(post)
                if len(batch) >= 500:
                    pipeline.process(batch, now=datetime.now(UTC))
                    batch = []
            pipeline.process(batch, now=datetime.now(UTC))
            return (_cpu() - started) / count * 1e6

    return run(True, "first.db"), run(False, "all.db")


# --- the report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60_000, help="frames for the throughput run")
    parser.add_argument("--rate", type=float, default=1000.0, help="frames per second for the latency run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the latency run")
    parser.add_argument("--posts", type=int, default=20_000, help="posts for the match-first comparison")
    parser.add_argument("--matched", type=float, default=0.02, help="share of frames that match a topic")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"bench/stream.py needs the relevance set in {SHARED}")
    os.sched_setaffinity(0, {0})
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # ticks wait behind a busy writer: expected here
    made = topics()
    texts, natural = stream_of(tweets(), made, args.matched)
    print(f"{len(texts):,} real tweets as Bluesky post frames, {args.matched:.1%} of them matching a topic "
          f"(of the whole set: {natural:.0%}); {len(made)} topics of {', '.join(str(len(t.keywords)) for t in made)} "
          "terms; the daemon on core 0, the server and the dashboard on core 1")

    with tempfile.TemporaryDirectory(prefix="monitor-bench-stream-") as tmp:
        work = Path(tmp)
        run = daemon_run(texts, made, args.frames, 0.0, work, lambda posts, at: None)
        print(f"\n1. as fast as the server sends: {args.frames:,} frames read in {run.read:.2f} s = "
              f"{args.frames / run.read:,.0f} frames/s (goal >= 5,000), the last one stored "
              f"{(run.stored - run.read) * 1000:.0f} ms later; CPU {run.cpu / args.frames * 1e6:.0f} µs a frame "
              f"= {args.frames / run.cpu:,.0f} frames/s of one core's time; {run.matched:,} matched and stored")

        first, everything = per_post_cpu(texts, made, work, args.posts)
        print(f"\n2. CPU per post, {args.posts:,} posts, no socket: matched first {first:.0f} µs; "
              f"every post through the pipeline (the obvious alternative) {everything:.0f} µs "
              f"({everything / first:.1f}x)")

        count = int(args.rate * args.seconds)
        commits: list[tuple[list[Any], float]] = []
        loads: Any = multiprocessing.Queue()
        stop = multiprocessing.Event()
        db = work / f"stream-{args.rate:g}.db"
        names = [t.name for t in made]
        reader = multiprocessing.Process(target=dashboard, args=(f"sqlite:///{db}", names, loads, stop), daemon=True)
        reader.start()
        try:
            run = daemon_run(texts, made, count, args.rate, work, lambda posts, at: commits.append((posts, at)))
        finally:
            stop.set()
            reader.join(5)
        board_loads = []
        while not loads.empty():
            board_loads.append(loads.get())
        report_latency(args.rate, count, run, commits, board_loads, f"sqlite:///{db}")


def report_latency(rate: float, count: int, run: Run, commits: list[tuple[list[Any], float]],
                   board_loads: list[tuple[int, float]], url: str) -> None:
    to_store = [(at - p.published.timestamp()) * 1000 for posts, at in commits for p in posts]
    with open_store(url, readonly=True) as store:
        stored = {sp.post.id: sp.seen for sp in store.posts()}
    shown = []
    for posts, at in commits:
        later = [done for _, done in board_loads if done >= at]
        if later:
            shown += [(min(later) - p.published.timestamp()) * 1000 for p in posts]
    print(f"\n3. at {rate:,.0f} frames/s for {count / rate:.0f} s: {count:,} frames, {run.matched:,} matched, "
          f"{len(stored):,} stored; CPU {run.cpu / run.read:.0%} of one core")
    for name, values in (("frame → store", to_store), ("frame → dashboard", shown)):
        if values:
            values.sort()
            p50, p95 = statistics.median(values), values[int(len(values) * 0.95) - 1]
            print(f"   {name:18} median {p50:6.0f} ms   p95 {p95:6.0f} ms   max {values[-1]:6.0f} ms")
    print("   (goal: <= 1,000 ms frame → store; the dashboard adds its 0.5 s poll and a board load)")


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
