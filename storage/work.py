"""Shared work on one PostgreSQL database: the worker registry, feed leases and the inbox.

Every `monitor run` on the same PostgreSQL schema is a worker. A worker leases due feeds (a row lock
taken with FOR UPDATE SKIP LOCKED, then `lease_owner`/`lease_until` on the feed), polls them, and
delivers each poll in one transaction: the feed's new state, its lease released, and its matched
posts appended to the inbox. The worker holding the story lock (storage.lock.StoryLock) takes the
inbox in order and stores each batch with `Batch.inbox_done`, which deletes the rows it stored in
the same transaction. Which feeds to take is decided by the caller (monitor.leases, pure); this
module only reads the candidates and writes the choice, inside one transaction.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql

from storage import reads, writes
from storage import tables as t
from storage.store import Store, _wrapped
from storage.types import Delivered, FeedState, InboxItem, InboxLag, LeaseCandidate, Post, WorkerInfo

SCAN = 400
"""Due, unleased feeds read per lease call at most, by default: enough to skip past busy hosts."""

Choose = Callable[[Sequence[LeaseCandidate], Mapping[str, int]], Sequence[str]]
"""The candidates (soonest due first) and the leases held now per host → the feeds to lease."""


class SharedWork:
    """The shared-work tables of one store (PostgreSQL; on SQLite there is one daemon and no leases)."""

    def __init__(self, store: Store) -> None:
        self.shown = store.shown
        self._write = store.transaction
        self._read = store.connection
        self._lease_key: int | None = None

    # the registry

    @_wrapped
    def beat(self, worker: WorkerInfo) -> None:
        """Insert or refresh the worker's row; a worker that clusters is the only one said to."""

        def body(conn: Connection) -> None:
            if worker.clustering:
                w = t.workers.c
                conn.execute(update(t.workers).where(w.id != worker.id, w.clustering).values(clustering=False))
            row = {"id": worker.id, "host": worker.host, "pid": worker.pid, "started": worker.started,
                   "beat": worker.beat, "stopped": worker.stopped, "clustering": worker.clustering,
                   "polls": worker.polls}
            writes._upsert(conn, t.workers, "id", [row])

        self._write(body)

    @_wrapped
    def stopped(self, worker_id: str) -> None:
        """The worker exits: it says so, and its leases are free at once (its polls have ended)."""

        def body(conn: Connection) -> None:
            conn.execute(update(t.workers).where(t.workers.c.id == worker_id).values(stopped=True, clustering=False))
            f = t.feeds.c
            conn.execute(update(t.feeds).where(f.lease_owner == worker_id).values(lease_owner=None, lease_until=None))

        self._write(body)

    @_wrapped
    def workers(self, now: datetime) -> list[WorkerInfo]:
        """Every worker that ever ran here, the most recent beat first, with the feeds it leases now."""

        def body(conn: Connection) -> list[WorkerInfo]:
            f = t.feeds.c
            counts = select(f.lease_owner, func.count()).where(f.lease_until >= now).group_by(f.lease_owner)
            leased: dict[str, int] = {owner: int(n) for owner, n in conn.execute(counts)}
            rows = conn.execute(select(t.workers).order_by(t.workers.c.beat.desc(), t.workers.c.id))
            return [WorkerInfo(r.id, r.host, r.pid, r.started, r.beat, bool(r.stopped), bool(r.clustering),
                               leased.get(r.id, 0), int(r.polls)) for r in rows]

        return self._read(body)

    @_wrapped
    def forget_workers(self, before: datetime) -> None:
        """Drop the rows of workers silent since `before` (status would list every restart forever)."""
        self._write(lambda conn: conn.execute(t.workers.delete().where(t.workers.c.beat < before)))

    # leases

    @_wrapped
    def set_hosts(self, hosts: Mapping[str, str | None]) -> None:
        """Each feed's host:port, which politeness is counted by (written when the config is read)."""

        def body(conn: Connection) -> None:
            f = t.feeds.c
            for name, host in hosts.items():
                conn.execute(update(t.feeds).where(f.name == name, or_(f.host.is_(None), f.host != host))
                             .values(host=host))

        self._write(body)

    @_wrapped
    def lease(self, worker_id: str, names: Sequence[str], now: datetime, until: datetime,
              choose: Choose, *, scan: int = SCAN) -> list[FeedState]:
        """Lease to `worker_id`, until `until`, the feeds `choose` picks among those of `names` that are
        due at `now` and held by no live lease; returns their stored states (what their polls start from).
        One transaction, and one at a time per schema (a transaction-level advisory lock), so the leases
        counted per host are never stale. `scan`: how many candidates, soonest due first, to choose from."""
        if not names:
            return []

        def body(conn: Connection) -> list[FeedState]:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._key(conn)})
            f = t.feeds.c
            free = or_(f.lease_until.is_(None), f.lease_until < now)
            due = or_(f.next_check.is_(None), f.next_check <= now)
            # One array parameter, not an IN list: thousands of names would be compiled at every tick.
            mine = f.name == any_(bindparam("names", list(names), type_=postgresql.ARRAY(String)))
            query = (select(f.name, f.host, f.next_check).where(mine, free, due)
                     .order_by(f.next_check.asc().nulls_first(), f.name).limit(scan)
                     .with_for_update(skip_locked=True))
            candidates = [LeaseCandidate(r.name, r.host, r.next_check) for r in conn.execute(query)]
            if not candidates:
                return []
            busy = conn.execute(select(f.host, func.count()).where(f.lease_until >= now, f.host.is_not(None))
                                .group_by(f.host)).all()
            chosen = list(choose(candidates, {host: int(n) for host, n in busy}))
            if not chosen:
                return []
            taken = update(t.feeds).where(f.name.in_(chosen)).values(lease_owner=worker_id, lease_until=until)
            states = {row.name: reads.feed_state_of(row) for row in conn.execute(taken.returning(t.feeds))}
            return [states[name] for name in chosen]

        return self._write(body)

    def _key(self, conn: Connection) -> int:
        if self._lease_key is None:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            self._lease_key = zlib.crc32(f"monitor-lease:{schema}".encode())
        return self._lease_key

    @_wrapped
    def deliver(self, worker_id: str, state: FeedState, posts: Sequence[Post], now: datetime) -> Delivered:
        """One poll's result, in one transaction: its matched posts not stored yet into the inbox, and
        the feed's new state (their count added) with its lease released — unless the lease ran out
        and another worker holds it now (then only the posts go in: that worker's state wins)."""

        def body(conn: Connection) -> Delivered:
            known = writes.pks_of(conn, ((p.source, p.id) for p in posts)) if posts else {}
            new = [p for p in posts if (p.source, writes.without_nul(p.id)) not in known]
            f = t.feeds.c
            row = writes.feed_row(replace(state, posts_matched=state.posts_matched + len(new)))
            ours = or_(f.lease_owner.is_(None), f.lease_owner == worker_id)
            stored = conn.execute(update(t.feeds).where(f.name == state.name, ours)
                                  .values({**row, "lease_owner": None, "lease_until": None})).rowcount
            if new:
                conn.execute(t.inbox.insert(), [{"feed": state.name, "worker": worker_id, "at": now,
                                                 "post": post_json(p)} for p in new])
            # No revision bump: the stories change only when the story worker folds (it bumps it), and
            # the feed views re-read on their own clock; one meta row updated by every delivery would
            # make all workers' deliveries wait for each other.
            return Delivered(bool(stored), len(new))

        return self._write(body)

    # the inbox

    @_wrapped
    def inbox(self, limit: int) -> list[InboxItem]:
        """The oldest `limit` posts waiting, in the order they arrived."""
        i = t.inbox.c
        query = select(i.seq, i.feed, i.at, i.post).order_by(i.seq).limit(limit)
        rows = self._read(lambda conn: conn.execute(query).all())
        return [InboxItem(r.seq, r.feed, r.at, post_of(r.post)) for r in rows]

    @_wrapped
    def lag(self) -> InboxLag:
        i = t.inbox.c
        row = self._read(lambda conn: conn.execute(select(func.count(), func.min(i.at))).one())
        return InboxLag(int(row[0]), row[1])


def post_json(post: Post) -> str:
    """A Post as the inbox keeps it (times in ISO 8601 with their offset)."""
    row: dict[str, Any] = {
        "id": post.id, "source": post.source, "author": post.author, "url": post.url, "text": post.text,
        "published": post.published.isoformat(), "title": post.title, "kind": post.kind, "lang": post.lang,
        "claimed": post.claimed_published.isoformat() if post.claimed_published else None,
    }
    return json.dumps(row, ensure_ascii=False)  # a NUL in the text is escaped (\u0000): text columns take it


def post_of(raw: str) -> Post:
    row = json.loads(raw)
    claimed = datetime.fromisoformat(row["claimed"]) if row["claimed"] else None
    return Post(row["id"], row["source"], row["author"], row["url"], row["text"],
                datetime.fromisoformat(row["published"]), row["title"], row["kind"], row["lang"], claimed)
