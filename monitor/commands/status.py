"""monitor status [--json]: the feeds with their health, counts, last and next poll; each alert rule's channel."""

from __future__ import annotations

import argparse

from monitor.alerts import channel_states
from monitor.clock import utc_now
from monitor.commands._common import reading
from monitor.output import feed_json, feed_line, iso, short_time, stream_json, stream_line
from monitor.sources import is_live
from monitor.textsafe import json_dumps, one_line
from monitor.workerlines import inbox_json, inbox_line, recent_workers, worker_json, worker_line

NAME = "status"
HELP = "show each feed's health, last error, last and next poll"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    with reading(args) as (config, store):
        states = {s.name: s for s in store.feed_states()}
        now = utc_now()
        stats = store.stats(now)
        daemon = store.daemon()
        reported = {s.name: s for s in store.streams()}
        database = store.shown
        channels = channel_states(config.alerts, store.alert_queue(), store.last_sent()) if config.alerts else []
        shared = store.shared()
        workers = recent_workers(store.work().workers(now), now) if shared else []
        lag = store.work().lag() if shared else None
    feeds = [(f, states.get(f.name)) for f in config.feeds]
    streams = [reported[f.name] for f in config.feeds if is_live(f.type) and f.name in reported]
    alive = daemon is not None and daemon.alive(now)
    if args.json:
        print(json_dumps({
            "feeds": [feed_json(f, s) for f, s in feeds],
            "posts": stats.posts_total,
            "posts_last_hour": stats.posts_last_hour,
            "streams": [stream_json(s, alive=alive) for s in streams],
            "daemon": None if daemon is None else {
                "pid": daemon.pid, "last_beat": iso(daemon.beat), "alive": daemon.alive(now),
            },
            "alerts": [c.json() for c in channels],
            "workers": [worker_json(w, now) for w in workers],
            "inbox": inbox_json(lag, now) if lag is not None else None,
            "config": str(config.path.resolve()),
            "database": database,
        }))
        return 0
    for feed, state in feeds:
        print(feed_line(feed, state))
    for stream in streams:
        print(stream_line(stream, alive=alive))
    for worker in workers:
        print(worker_line(worker, now))
    if lag is not None and (workers or lag.waiting):
        print(inbox_line(lag, now, workers))
    if workers:
        alive_workers = sum(w.alive(now) for w in workers)
        beat = f"{alive_workers} worker{'s' if alive_workers != 1 else ''} running"
    elif daemon is None:
        beat = "no daemon has run"
    elif daemon.alive(now):
        beat = f"daemon running (pid {daemon.pid})"
    else:
        beat = f"no daemon running (last seen {short_time(daemon.beat)})"
    for channel in channels:
        print(f"alert {channel.line()}")
    print(f"{stats.posts_total} posts stored, {stats.posts_last_hour} in the last hour; {beat}")
    print(f"config {one_line(str(config.path.resolve()))}; database {one_line(database)}")
    return 0
