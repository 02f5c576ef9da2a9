"""Which due feeds a worker leases, and for how long: pure decisions (storage/work.py does the SQL).

A lease is a promise that one worker alone polls a feed until `lease_until`. The worker bounds its
own poll to `poll_deadline` of the lease, so a lease never runs out while its holder still fetches:
that is what keeps two workers from polling one feed at once, and why a killed worker's feeds wait
at most one lease before another worker takes them. Politeness holds across workers because the
leases held per host are counted in the same transaction that takes new ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor.config import DEFAULT_LEASE, Feed
from monitor.sources import source_for
from monitor.sources.base import PollContext
from storage.types import LeaseCandidate

__all__ = ["DEFAULT_LEASE", "choose", "feed_host", "poll_deadline", "scan", "until", "wanted"]

PER_HOST = 2
"""Feeds of one host:port polled at once, over all workers (each poll sends one request at a time)."""
FOLDER_SHARE = 4
MARGIN = 0.25
"""The share of a lease kept back for storing the poll's result after the fetching stopped."""


def choose(candidates: Sequence[LeaseCandidate], busy: Mapping[str, int], *, want: int,
           per_host: int = PER_HOST) -> list[str]:
    """Up to `want` of `candidates` (soonest due first), never more than `per_host` leases on one host
    counting the `busy` ones held now; a feed whose host is not known goes by itself."""
    held = dict(busy)
    chosen: list[str] = []
    for feed in candidates:
        if len(chosen) >= want:
            break
        if feed.host is not None:
            if held.get(feed.host, 0) >= per_host:
                continue
            held[feed.host] = held.get(feed.host, 0) + 1
        chosen.append(feed.name)
    return chosen


def wanted(capacity: int, in_flight: int, *, folding_behind: bool = False, others: int = 0) -> int:
    """Leases to ask for now: the polls this worker can run at once, less those it runs.

    Taking no more than it can fetch leaves the rest of the due feeds to the other workers. The worker
    that folds the stories polls a quarter as much while its inbox is behind and `others` workers poll
    beside it: folding is the one job no one else can do, so its CPU goes there first; while the inbox
    keeps up it polls as much as any worker (else two workers would poll barely more than one)."""
    if folding_behind and others:
        capacity = max(1, capacity // FOLDER_SHARE)
    return max(0, capacity - in_flight)


def scan(want: int) -> int:
    """Candidates to read for `want` leases: enough to pass over the feeds of busy hosts, few enough
    that a tick's lease stays cheap (they are read and locked)."""
    return min(400, max(32, 8 * want))


def until(now: datetime, lease: float) -> datetime:
    return now + timedelta(seconds=lease)


def poll_deadline(lease: float) -> float:
    """Seconds a leased poll may fetch before it is cut short (and recorded as failed)."""
    return lease * (1 - MARGIN)


def feed_host(feed: Feed) -> str | None:
    """host:port of the first request the feed's source makes, as the fetcher counts hosts; None when
    the feed cannot say without its secrets or session."""
    try:
        url = source_for(feed.type).first_request(PollContext(feed.name, feed.options)).url
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except Exception:  # an adapter that needs what only a poll has (a login): counted by itself
        return None
    return f"{parts.hostname}:{port}" if parts.hostname else None
