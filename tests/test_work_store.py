"""Shared work on a real PostgreSQL schema of its own: leases, the inbox and the story lock, as
several workers (here: several stores on one schema, in threads) see them."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.leases import choose
from storage.errors import StorageError
from storage.store import Store, open_store
from storage.types import Batch, FeedState, Match, NewPost, Post, WorkerInfo
from tests.support.feeds import T0

FEEDS = [f"f{i:03d}" for i in range(120)]
HOSTS = {name: f"h{i % 12}:80" for i, name in enumerate(FEEDS)}


@pytest.fixture
def stores(postgres_url: str) -> Iterator[list[Store]]:
    """Three stores open on one schema, the feeds synced and their hosts known."""
    opened = [open_store(postgres_url) for _ in range(3)]
    opened[0].sync_feeds(FEEDS, T0)
    opened[0].work().set_hosts(HOSTS)
    yield opened
    for store in opened:
        store.close()


def lease(store: Store, worker: str, *, at: timedelta = timedelta(0), want: int = 16, lease: float = 60,
          names: list[str] = FEEDS) -> list[str]:
    now = T0 + at
    pick = functools.partial(choose, want=want)
    states = store.work().lease(worker, names, now, now + timedelta(seconds=lease), pick)
    return [state.name for state in states]


def test_workers_leasing_at_once_never_share_a_feed_nor_pass_two_per_host(stores: list[Store]) -> None:
    got: dict[str, list[str]] = {}
    start = threading.Barrier(len(stores))

    def work(i: int) -> None:
        start.wait()
        got[f"w{i}"] = [name for _ in range(5) for name in lease(stores[i], f"w{i}")]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    leased = [name for names in got.values() for name in names]
    assert len(leased) == len(set(leased)), "a feed leased twice"
    per_host = Counter(HOSTS[name] for name in leased)
    assert len(per_host) == 12 and max(per_host.values()) == 2, per_host
    assert sum(worker.leased for worker in stores[0].work().workers(T0)) == 0, "no worker row yet: none counted"


def test_a_lease_is_taken_over_only_once_it_has_run_out(stores: list[Store]) -> None:
    first = lease(stores[0], "w0", want=5, lease=30)
    assert lease(stores[1], "w1", at=timedelta(seconds=29), want=200) and not set(first) & set(
        lease(stores[1], "w1", at=timedelta(seconds=29), want=200))
    later = lease(stores[2], "w2", at=timedelta(seconds=31), want=200)
    assert set(first) <= set(later)


def test_a_delivered_poll_frees_its_lease_and_puts_its_posts_in_the_inbox_in_order(stores: list[Store]) -> None:
    work = stores[0].work()
    [name] = lease(stores[0], "w0", want=1)
    posts = [post(name, n) for n in range(3)]
    state = FeedState(name, etag='"v2"', next_check=T0 + timedelta(minutes=5), last_poll=T0, posts_seen=3)
    assert work.deliver("w0", state, posts, T0).state
    assert stores[1].feed_state(name).posts_matched == 3
    assert stores[1].feed_state(name).etag == '"v2"'
    assert lease(stores[1], "w1", names=[name]) == [], "not due again before its next check"
    now = T0 + timedelta(minutes=5)
    [again] = stores[1].work().lease("w1", [name], now, now + timedelta(minutes=1), functools.partial(choose, want=1))
    assert again == stores[1].feed_state(name), "its lease is gone, and the next poll starts from the stored state"
    assert [(i.feed, i.post) for i in work.inbox(10)] == [(name, p) for p in posts]
    assert work.lag().waiting == 3 and work.lag().oldest == T0


def test_a_poll_delivered_after_its_lease_was_taken_over_keeps_the_new_holders_state(stores: list[Store]) -> None:
    [name] = lease(stores[0], "w0", want=1, lease=10)
    assert name in lease(stores[1], "w1", at=timedelta(seconds=11), want=200)
    late = FeedState(name, etag='"late"', next_check=T0 + timedelta(minutes=5))
    assert not stores[0].work().deliver("w0", late, [post(name, 1)], T0 + timedelta(seconds=12)).state
    assert stores[0].feed_state(name).etag is None
    assert len(stores[0].work().inbox(10)) == 1, "its posts still count (the story worker drops repeats)"


def test_inbox_rows_are_stored_once_even_by_a_worker_that_lost_the_story_lock_unseen(stores: list[Store]) -> None:
    work = stores[0].work()
    work.deliver("w0", FeedState("f000"), [post("f000", 1), post("f000", 2)], T0)
    items = work.inbox(10)
    batch = Batch(posts=[NewPost(i.post, (Match("v", ("v",)),)) for i in items], inbox_done=[i.seq for i in items])
    assert stores[1].write(batch, T0) == 2
    with pytest.raises(StorageError, match="folded by another worker"):
        stores[2].write(batch, T0)
    assert work.inbox(10) == [] and len(stores[2].posts()) == 2
    again = work.deliver("w0", FeedState("f000"), [post("f000", 1), post("f000", 3)], T0)
    assert again.posts == 1 and [i.post.id for i in work.inbox(10)] == ["f000-3"], "a stored post is not sent again"


def test_the_story_lock_has_one_holder_and_excludes_a_lone_writer(stores: list[Store]) -> None:
    first, second = stores[0].story_lock("monitor run"), stores[1].story_lock("monitor run")
    assert first.take() and first.take(), "taken, and still held at the next try"
    assert not second.take()
    with pytest.raises(StorageError, match="`monitor run`"):
        stores[2].lock_writer(T0, holder="monitor ingest")
    first.release()
    assert second.take() and second.held
    second.release()


def test_the_registry_lists_workers_with_their_leases_and_one_clusterer(stores: list[Store]) -> None:
    work = stores[0].work()
    for i, clustering in enumerate((True, False, True)):
        work.beat(WorkerInfo(f"w{i}", "box", 100 + i, T0, T0 + timedelta(seconds=i), clustering=clustering))
    lease(stores[0], "w1", want=3)
    work.beat(WorkerInfo("w0", "box", 100, T0, T0, polls=7))
    rows = {w.id: w for w in work.workers(T0)}
    assert [rows[w].clustering for w in ("w0", "w1", "w2")] == [False, False, True]
    assert rows["w1"].leased == 3 and rows["w0"].leased == 0 and rows["w0"].polls == 7
    work.stopped("w1")
    rows = {w.id: w for w in work.workers(T0)}
    assert rows["w1"].stopped and rows["w1"].leased == 0 and not rows["w1"].alive(T0)
    work.forget_workers(T0 + timedelta(seconds=2))
    assert [w.id for w in work.workers(T0)] == ["w2"], "only the one that beat since is kept"


def post(feed: str, n: int) -> Post:
    return Post(f"{feed}-{n}", feed, "ann", f"https://example.org/{feed}/{n}", f"volcano note {n}",
                T0 + timedelta(minutes=n))
