"""How the workers sharing a PostgreSQL database look in `monitor status` and on the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from monitor.output import iso, short_time
from monitor.textsafe import one_line
from storage.types import InboxLag, WorkerInfo

SHOWN_FOR = timedelta(hours=1)
"""A worker that stopped or went silent is still listed for this long (then it is history)."""


def recent_workers(workers: Iterable[WorkerInfo], now: datetime) -> list[WorkerInfo]:
    """The workers alive now and those seen within SHOWN_FOR, the story worker first."""
    shown = [w for w in workers if w.alive(now) or now - w.beat <= SHOWN_FOR]
    return sorted(shown, key=lambda w: (not w.clusters(now), not w.alive(now), w.host, w.pid))


def worker_json(worker: WorkerInfo, now: datetime) -> dict[str, Any]:
    return {"id": worker.id, "host": worker.host, "pid": worker.pid, "started": iso(worker.started),
            "last_beat": iso(worker.beat), "alive": worker.alive(now), "clusters": worker.clusters(now),
            "feeds_leased": worker.leased, "polls": worker.polls}


def worker_line(worker: WorkerInfo, now: datetime) -> str:
    if worker.alive(now):
        state = "alive, folds the stories" if worker.clusters(now) else "alive"
    else:
        state = "stopped" if worker.stopped else "down"
    return (f"worker {one_line(worker.host)[:40]} pid {worker.pid}: {state}, last beat {short_time(worker.beat)}, "
            f"{worker.leased} feeds leased, {worker.polls:,} polls")


def inbox_json(lag: InboxLag, now: datetime) -> dict[str, Any]:
    return {"waiting": lag.waiting, "oldest": iso(lag.oldest), "lag_s": round(lag.seconds(now), 1)}


def inbox_line(lag: InboxLag, now: datetime, workers: Iterable[WorkerInfo]) -> str:
    folder = next((w for w in workers if w.clusters(now)), None)
    who = f"folded by pid {folder.pid} on {one_line(folder.host)[:40]}" if folder else "no worker folds it now"
    if not lag.waiting:
        return f"inbox: empty, {who}"
    return f"inbox: {lag.waiting:,} posts waiting, the oldest {lag.seconds(now):,.1f} s; {who}"


def workers_fact(workers: Iterable[WorkerInfo], lag: InboxLag | None, now: datetime) -> tuple[str, str]:
    """The dashboard's status line: (in full, in short words)."""
    alive = sum(w.alive(now) for w in workers)
    behind = lag.seconds(now) if lag is not None else 0.0
    if not alive:
        return "○ no worker alive", "○ down"
    noun = "worker" if alive == 1 else "workers"
    return f"● {alive} {noun} alive, inbox lag {behind:,.0f}s", f"● {alive}w lag {behind:,.0f}s"
