"""One poll's posts through match → dedup → cluster → store, and the state surviving a restart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Topic
from monitor.pipeline import Pipeline
from storage.errors import StorageError
from storage.store import open_store
from storage.types import Batch, Post, StoredPost, Story
from tests.support.feeds import T0

TOPICS = [Topic("bridge", keywords=("bridge",)), Topic("ferry", keywords=("ferry",))]


def post(i: str, text: str, minutes: int, source: str = "wire", url: str = "") -> Post:
    return Post(i, source, f"author-{i}", url or f"http://example.org/{i}", text, T0 + timedelta(minutes=minutes))


FIRST = [
    post("a1", "Port Alder bridge closed after cracks found in main span", 0),
    post("a2", "Cracks in the main span close the Port Alder bridge, engineers say", 3, source="social"),
    post("b1", "Extra ferry crossings every twenty minutes while the bridge is shut", 5),
    post("x1", "Bakery wins a prize for its sourdough", 6),
]


def test_only_matching_posts_are_stored_with_their_topics_and_stories(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        new = Pipeline(store, TOPICS, now=T0).process(FIRST, now=T0 + timedelta(minutes=10))
        assert new.stored == 3 and new.fresh == 4, "the bakery post was new but matched nothing"
        stored = {sp.post.id: sp for sp in store.posts()}
        assert set(stored) == {"a1", "a2", "b1"}
        assert stored["b1"].topics == ("bridge", "ferry") or set(stored["b1"].topics) == {"bridge", "ferry"}
        assert stored["a1"].story == stored["a2"].story, "two reports of the closure form one story"


def test_a_repoll_stores_nothing_twice(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, TOPICS, now=T0)
        pipeline.process(FIRST, now=T0 + timedelta(minutes=10))
        assert pipeline.process(FIRST, now=T0 + timedelta(minutes=20)).stored == 0
        assert len(store.posts()) == 3


def test_after_a_restart_new_posts_join_the_stories_and_fold_under_the_originals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(url) as store:
        Pipeline(store, TOPICS, now=T0).process(FIRST, now=T0 + timedelta(minutes=10))
        story = store.posts(topic="bridge")[-1].story
    later = [
        post("a3", "Port Alder bridge cracks: engineers say the main span stays closed", 30, source="forum"),
        post("a1-copy", "Port Alder bridge closed after cracks found in main span", 31, source="mirror",
             url="http://example.org/a1?utm_source=rss"),
    ]
    with open_store(url) as store:
        Pipeline(store, TOPICS, now=T0 + timedelta(minutes=40)).process(later, now=T0 + timedelta(minutes=40))
        by_id = {sp.post.id: sp for sp in store.posts(topic="bridge")}
    assert by_id["a3"].story == story
    assert by_id["a1-copy"].duplicate_of == ("wire", "a1")
    assert by_id["a1-copy"].story == story


def test_a_post_dated_far_ahead_is_clamped_to_its_fetch_and_its_claim_kept(tmp_path: Path) -> None:
    """An item dated 2099 must not sit at the top of `posts` forever; a date within a day stays."""
    year_2099 = replace(post("future", "Port Alder bridge reopens, the feed says", 0), published=T0.replace(year=2099))
    tomorrowish = post("soon", "Port Alder bridge inspection scheduled", 23 * 60)
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, TOPICS, now=T0)
        pipeline.process([year_2099, tomorrowish], now=T0)
        pipeline.process([post("later", "Port Alder bridge: divers inspect the piers", 24 * 60)],
                         now=T0 + timedelta(days=1))
        listed = [(sp.post.id, sp.post.published, sp.post.claimed_published) for sp in store.posts()]
    assert listed == [
        ("later", T0 + timedelta(days=1), None),
        ("soon", T0 + timedelta(hours=23), None),
        ("future", T0, T0.replace(year=2099)),
    ]


class MemoryStore:
    """The PipelineStore contract over lists: what the pipeline asks of a store, no database."""

    def __init__(self) -> None:
        self.batches: list[tuple[Batch, datetime]] = []
        self.fail_next = False
        self.restores = 0

    def live_window(self, since: datetime) -> list[StoredPost]:
        self.restores += 1
        return []

    def max_story_id(self) -> int:
        return 0

    def stories(self, *, topic: str | None = None, live_only: bool = False, limit: int | None = None) -> list[Story]:
        return []

    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        stored = {(p.post.source, p.post.id) for batch, _ in self.batches for p in batch.posts}
        return stored & set(keys)

    def write(self, batch: Batch, now: datetime) -> int:
        if self.fail_next:
            self.fail_next = False
            raise StorageError("disk full")
        self.batches.append((batch, now))
        return len(batch.posts)

    def posts(self, *, story: int | None = None, limit: int | None = None) -> list[StoredPost]:
        return []

    def fired_alerts(self) -> list[tuple[str, str, int]]:
        return []


def test_one_poll_is_one_batch_stamped_with_the_callers_time() -> None:
    store = MemoryStore()
    pipeline = Pipeline(store, TOPICS, now=T0)
    assert pipeline.process(FIRST, now=T0 + timedelta(minutes=10)).stored == 3
    [(batch, when)] = store.batches
    assert when == T0 + timedelta(minutes=10)
    assert sorted(p.post.id for p in batch.posts) == ["a1", "a2", "b1"]
    assert {p.stories["bridge"] for p in batch.posts if p.post.id in ("a1", "a2")} == {1}
    assert pipeline.process(FIRST, now=T0 + timedelta(minutes=20)).stored == 0, "what the store knows is not new"


def test_a_failed_write_rebuilds_the_state_from_the_store() -> None:
    store = MemoryStore()
    pipeline = Pipeline(store, TOPICS, now=T0)
    store.fail_next = True
    with pytest.raises(StorageError, match="disk full"):
        pipeline.process(FIRST, now=T0)
    assert store.restores == 2 and store.batches == []
