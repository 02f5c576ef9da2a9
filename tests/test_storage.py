"""The Store's reads and writes, on a real SQLite file (and PostgreSQL where configured)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.errors import StorageError
from storage.store import Store
from storage.types import Batch, FeedState, Match, NewPost, Post, Story

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def post(pid: str, minutes: int = 0, *, source: str = "rss-a", text: str = "ceasefire talks", **kw: str) -> Post:
    return Post(
        id=pid,
        source=source,
        author=kw.get("author", "Reporter"),
        url=f"https://example.org/{pid}",
        text=text,
        published=T0 + timedelta(minutes=minutes),
        title=kw.get("title", ""),
    )


def new(p: Post, topic: str = "gaza", story: int | None = None, **kw: tuple[str, str]) -> NewPost:
    clusters = {topic: story} if story is not None else {}
    return NewPost(p, (Match(topic, ("ceasefire",), 0.8),), clusters, kw.get("duplicate_of"))


def story(sid: int, topic: str = "gaza", *, live: bool = True, minutes: int = 0) -> Story:
    seen = T0 + timedelta(minutes=minutes)
    return Story(sid, topic, f"story {sid}", 1, seen, seen, live, ("rss-a",), 1)


def ids(store: Store, **filters: object) -> list[str]:
    return [sp.post.id for sp in store.posts(**filters)]  # type: ignore[arg-type]


def test_write_returns_new_posts_and_a_repoll_never_duplicates(store: Store) -> None:
    assert store.write(Batch(posts=[new(post("1")), new(post("2"))]), T0) == 2
    assert store.write(Batch(posts=[new(post("2")), new(post("3"))]), T0) == 1
    assert store.write(Batch(posts=[new(post("4")), new(post("4"))]), T0) == 1  # a feed repeating an item
    assert sorted(ids(store)) == ["1", "2", "3", "4"]


def test_known_reports_stored_keys_only(store: Store) -> None:
    store.write(Batch(posts=[new(post("1")), new(post("2", source="rss-b"))]), T0)
    asked = [("rss-a", "1"), ("rss-a", "2"), ("rss-b", "2"), ("rss-c", "9")]
    assert store.known(asked) == {("rss-a", "1"), ("rss-b", "2")}
    assert store.known([]) == set()


def test_a_failing_batch_leaves_nothing_behind(store: Store) -> None:
    store.sync_feeds(["rss-a"], T0)
    before = store.revision()
    broken = Post("bad", "rss-a", "x", "u", "t", None)  # type: ignore[arg-type]  # a bug upstream
    batch = Batch(
        posts=[new(post("1"), story=7), new(broken)],
        feed=FeedState("rss-a", etag='"v2"', error_count=0),
        stories=[story(7)],
    )
    with pytest.raises(StorageError) as caught:
        store.write(batch, T0)
    assert "\n" not in str(caught.value)
    assert store.posts() == []
    assert store.stories() == []
    assert store.feed_state("rss-a").etag is None
    assert store.revision() == before


def test_every_stored_post_is_found_by_search_and_nothing_else_is(store: Store) -> None:
    """SQLite indexes each batch's new posts in the batch's transaction (migration 0011): re-sent
    posts are not indexed twice, a failed batch leaves no entry, and the index agrees with the posts."""
    store.write(Batch(posts=[new(post("1", text="alpha harbour")), new(post("2", text="bravo harbour"))]), T0)
    store.write(Batch(posts=[new(post("2", text="bravo harbour")), new(post("3", text="charlie harbour"))]), T0)
    broken = Post("bad", "rss-a", "x", "u", "delta harbour", None)  # type: ignore[arg-type]
    with pytest.raises(StorageError):
        store.write(Batch(posts=[new(post("4", text="delta harbour")), new(broken)]), T0)
    store.write(Batch(posts=[new(post("5", text="echo harbour", title="Foxtrot"))]), T0)
    assert sorted(ids(store, text="HARBOUR")) == ["1", "2", "3", "5"]
    assert ids(store, text="bravo") == ["2"]
    assert ids(store, text="delta") == []
    assert ids(store, text="foxtrot") == ["5"]
    if store._engine.dialect.name == "sqlite":
        with store._engine.begin() as conn:  # FTS5 compares its index with the posts it indexes
            conn.exec_driver_sql("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")


def test_posts_come_newest_first_with_limit(store: Store) -> None:
    # Same published time for "b" and "c": the later arrival comes first.
    store.write(Batch(posts=[new(post("a", 0)), new(post("b", 5)), new(post("c", 5)), new(post("d", -3))]), T0)
    assert ids(store) == ["c", "b", "a", "d"]
    assert ids(store, limit=2) == ["c", "b"]


def test_posts_filters(store: Store) -> None:
    store.write(
        Batch(
            posts=[
                new(post("1", 0, text="Ceasefire talks resume in Cairo")),
                new(post("2", 10, source="mastodon", text="Rafah crossing", title="CAIRO update")),
                new(post("3", 20, text="100% sure_thing"), topic="israel"),
            ]
        ),
        T0,
    )
    assert ids(store, topic="israel") == ["3"]
    assert ids(store, source="mastodon") == ["2"]
    assert ids(store, text="cairo") == ["2", "1"]
    assert ids(store, text="100%") == ["3"]  # LIKE wildcards in the needle are literal
    assert ids(store, text="0%_") == []
    assert ids(store, since=T0 + timedelta(minutes=10)) == ["3", "2"]
    only = store.posts(topic="israel")[0]
    assert (only.topics, only.matched, only.score) == (("israel",), ("ceasefire",), 0.8)


def test_cluster_includes_folded_duplicates(store: Store) -> None:
    store.write(Batch(posts=[new(post("orig"), story=1)], stories=[story(1)]), T0)
    # The copy arrives later from another feed: folded under the original, no story of its own.
    copy = new(post("copy", 3, source="rss-b"), duplicate_of=("rss-a", "orig"))
    store.write(Batch(posts=[copy, new(post("other", 4), story=2)], stories=[story(2)]), T0)
    clustered = store.posts(story=1)
    assert [sp.post.id for sp in clustered] == ["copy", "orig"]
    assert clustered[0].duplicate_of == ("rss-a", "orig")
    assert all(sp.story == 1 for sp in clustered)


def test_merge_moves_posts_and_hides_the_merged_story(store: Store) -> None:
    store.write(Batch(posts=[new(post("1"), story=1), new(post("2", 1), story=2)], stories=[story(1), story(2)]), T0)
    grown = Story(1, "gaza", "story 1", 2, T0, T0 + timedelta(minutes=1), sources=("rss-a",))
    store.write(Batch(stories=[grown], merged={2: 1}), T0)
    assert ids(store, story=1) == ["2", "1"]
    assert ids(store, story=2) == []
    assert [s.id for s in store.stories()] == [1]
    gone = store.story(2)
    assert gone is not None and gone.merged_into == 1 and not gone.live
    assert store.posts()[0].story == 1


def test_a_chain_of_merges_in_one_batch_ends_in_the_last_survivor(store: Store) -> None:
    four = range(1, 5)
    store.write(Batch(posts=[new(post(str(n), n), story=n) for n in four], stories=[story(n) for n in four]), T0)
    store.write(Batch(merged={4: 1}), T0)  # earlier: 4 joined 1
    store.write(Batch(merged={1: 2, 2: 3}), T0)  # then 1 joined 2, and 2 joined 3, in one poll
    assert ids(store, story=3) == ["4", "3", "2", "1"]
    assert [s.id for s in store.stories()] == [3]
    assert [(g.merged_into, g.live) for g in map(store.story, (1, 2, 4)) if g] == [(3, False)] * 3


def test_stories_newest_first_with_topic_live_and_active_filters(store: Store) -> None:
    stories = [story(1), story(2), story(3, minutes=9), story(4, "israel", live=False)]
    store.write(Batch(stories=stories), T0)
    assert [s.id for s in store.stories()] == [3, 4, 2, 1]
    assert [s.id for s in store.stories(topic="gaza", limit=2)] == [3, 2]
    assert [s.id for s in store.stories(live_only=True)] == [3, 2, 1]
    assert [s.id for s in store.stories(live_only=True, live_since=T0 + timedelta(minutes=5))] == [3]
    # Every story seen since `active_since` (their rate may still count), then `limit` more.
    assert [s.id for s in store.stories(limit=1, active_since=T0)] == [3, 4, 2, 1]
    assert [s.id for s in store.stories(limit=1, active_since=T0 + timedelta(minutes=5))] == [3, 4]
    assert store.story(4) == stories[3]
    assert store.story(99) is None
    assert store.topics() == ["gaza", "israel"]
    assert store.max_story_id() == 4


def test_story_upsert_replaces_the_row_and_keeps_arrivals_not_a_rate(store: Store) -> None:
    store.write(Batch(stories=[story(1)]), T0)
    closed = Story(1, "gaza", "renamed", 3, T0, T0 + timedelta(hours=1), False, ("a", "b"), 2,
                   velocity=7.0, spike="7 posts in 10 min", arrivals=((28_000_000, 4), (28_000_003, 3)))
    store.write(Batch(stories=[closed]), T0)
    # A rate and a spike hold only when computed: the store keeps what they are computed from.
    assert store.story(1) == replace(closed, velocity=0.0, spike=None)


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = Post("tz", "rss-a", "a", "u", "t", datetime(2025, 3, 1, 14, 0, tzinfo=plus_two))
    store.write(Batch(posts=[new(local)]), datetime(2025, 3, 1, 13, 0, tzinfo=plus_two))
    got = store.posts()[0]
    assert got.post.published == T0 and got.post.published.tzinfo == UTC
    assert got.seen == T0 - timedelta(hours=1) and got.seen is not None and got.seen.tzinfo == UTC


def test_hostile_text_round_trips(store: Store) -> None:
    nasty = "emoji 🧨, RTL \u202e, quote ' \" ; DROP TABLE posts; --, NUL \x00 here, " + "x" * 100_000
    store.write(Batch(posts=[new(post("nul\x00id", text=nasty, author="Ю\x00"))]), T0)
    got = store.posts()[0]
    assert got.post.text == nasty.replace("\x00", "")
    assert got.post.author == "Ю"
    assert store.known([("rss-a", "nul\x00id")]) == {("rss-a", "nulid")}


def test_feed_state_round_trip_and_sync_keeps_it(store: Store) -> None:
    store.sync_feeds(["b", "a"], T0)
    assert [f.name for f in store.feed_states()] == ["a", "b"]
    assert store.feed_state("a").next_check == T0
    state = FeedState(
        "a", '"etag"', "Sat, 01 Mar 2025 12:00:00 GMT", "abc123", {"max_id": "42"}, T0 + timedelta(minutes=5),
        T0, 200, None, 0, None, 50, 3,
    )
    store.write(Batch(feed=state), T0)
    store.sync_feeds(["a", "b", "c"], T0 + timedelta(hours=1))
    assert store.feed_state("a") == state
    assert store.feed_state("c").next_check == T0 + timedelta(hours=1)
    assert store.feed_state("never") == FeedState("never")


def test_due_feeds_soonest_first(store: Store) -> None:
    store.sync_feeds(["early", "late", "future"], T0)
    store.write(Batch(feed=FeedState("early", next_check=T0 - timedelta(minutes=5))), T0)
    store.write(Batch(feed=FeedState("future", next_check=T0 + timedelta(minutes=5))), T0)
    assert store.due_feeds(T0, ["late", "early", "future", "new"]) == ["early", "late", "new"]
    assert store.due_feeds(T0, ["late"]) == ["late"]  # only the names asked about


def test_revision_changes_on_every_write(store: Store) -> None:
    seen = [store.revision()]
    store.sync_feeds(["a"], T0)
    seen.append(store.revision())
    store.write(Batch(posts=[new(post("1"))]), T0)
    seen.append(store.revision())
    store.write(Batch(posts=[new(post("1"))]), T0)  # nothing new, still a write (feed state may change)
    seen.append(store.revision())
    assert len(set(seen)) == 4


def test_stats(store: Store) -> None:
    now = datetime.now(UTC)
    store.sync_feeds(["ok", "bad", "never"], T0)
    store.write(Batch(posts=[new(post("old"))]), now - timedelta(hours=2))
    store.write(Batch(posts=[new(post("fresh"))]), now - timedelta(minutes=5))
    store.write(Batch(feed=FeedState("ok", last_poll=T0, last_status=200)), now)
    store.write(Batch(feed=FeedState("bad", last_poll=T0, last_error="timeout", error_count=2)), now)
    stats = store.stats(now)
    assert (stats.posts_total, stats.posts_last_hour, stats.feeds_ok, stats.feeds_failing) == (2, 1, 1, 1)
    assert stats.last_write is not None and abs(stats.last_write - now) < timedelta(minutes=1)


def test_live_window_rebuilds_state_oldest_first(store: Store) -> None:
    store.write(Batch(posts=[new(post("too-old"), story=1)], stories=[story(1)]), T0 - timedelta(days=2))
    store.write(Batch(posts=[new(post("first", 30), story=1)]), T0)
    store.write(Batch(posts=[new(post("closed"), story=2)], stories=[story(2, live=False)]), T0)
    store.write(Batch(posts=[new(post("second", 0), story=1)]), T0 + timedelta(minutes=1))
    window = store.live_window(T0 - timedelta(hours=1))
    assert [(sp.post.id, sp.story, sp.topics) for sp in window] == [
        ("first", 1, ("gaza",)),
        ("second", 1, ("gaza",)),
    ]


def test_heartbeat_records_this_process(store: Store) -> None:
    import os

    assert store.daemon() is None
    store.heartbeat(T0)
    store.heartbeat(T0 + timedelta(seconds=30))
    info = store.daemon()
    assert info is not None
    assert (info.pid, info.started, info.beat) == (os.getpid(), T0, T0 + timedelta(seconds=30))
