"""The posts of one poll → match → dedup → stories → one store transaction."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from monitor.adaptive import AdaptiveMatcher
from monitor.alerts import Alerter, Trigger, alert_json, stored_view
from monitor.config import AlertRule, Topic
from monitor.dedup import Deduper
from monitor.processed import Processed
from monitor.storybuilder import StoryBuilder
from monitor.textfeatures import Features, Featurizer
from storage.errors import StorageError
from storage.types import Batch, FeedState, LearnedTerm, NewAlert, NewPost, Post, StoredPost, Story

RESTORE_WINDOW = timedelta(days=3)
POSTS_READ = 5  # a story alert carries its newest posts
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones disagree; a date further ahead is wrong
NONE_COMPUTED: Mapping[tuple[str, str], Features] = MappingProxyType({})


def dated_by_fetch(post: Post, fetched: datetime) -> Post:
    """`post` with a date more than a day after its fetch replaced by the fetch time (the claim
    kept): a post dated 2099 would otherwise top every newest-first list forever."""
    if post.published - fetched <= FUTURE_SLACK:
        return post
    return replace(post, published=fetched, claimed_published=post.published)


class PipelineStore(Protocol):
    """What the pipeline needs of a store (storage.store.Store is the real one); all it reads is
    the recent window it rebuilds its state from, and all it writes is one Batch per call."""

    def live_window(self, since: datetime) -> list[StoredPost]: ...

    def max_story_id(self) -> int: ...

    def stories(
        self, *, topic: str | None = None, live_only: bool = False, limit: int | None = None
    ) -> list[Story]: ...

    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...

    def write(self, batch: Batch, now: datetime) -> int: ...

    def posts(self, *, story: int | None = None, limit: int | None = None) -> list[StoredPost]: ...

    def fired_alerts(self) -> list[tuple[str, str, int]]: ...


class Pipeline:
    """Keeps the incremental state (duplicate index, live stories) in step with the store.

    The daemon is the only writer, so the in-memory state and the database agree after every
    write; when a write fails, the state is rebuilt from what the database holds.
    """

    def __init__(
        self, store: PipelineStore, topics: Sequence[Topic], *, now: datetime, alerts: Sequence[AlertRule] = ()
    ) -> None:
        """`alerts`: the rules whose alerts go into the outbox with the story changes that fire them."""
        self.store = store
        self._config_topics = tuple(topics)
        self._topics = [t.name for t in topics]
        self.featurizer = Featurizer()  # one tokenisation per post, shared by dedup and every topic
        self.alerter = Alerter(alerts)
        self.restore(now)

    def restore(self, now: datetime) -> None:
        """Rebuild the duplicate index, live stories and learned terms from the store's recent window."""
        since = now - RESTORE_WINDOW
        window = self.store.live_window(since)
        self.topics = AdaptiveMatcher(self._config_topics)
        for sp in sorted(window, key=lambda sp: sp.post.published):
            if sp.duplicate_of is None:  # each confident post teaches again, in order, as it did
                self.topics.teach(sp.post, self.topics.match(sp.post), sp.post.published)
        self._ids = itertools.count(self.store.max_story_id() + 1)
        self.deduper = Deduper(featurizer=self.featurizer)
        self.deduper.restore({(sp.post.source, sp.post.id): sp.post for sp in window}.values())
        live = self.store.stories(live_only=True)
        copies = {(sp.post.source, sp.post.id) for sp in window if sp.duplicate_of}
        self.builders: dict[str, StoryBuilder] = {}
        for topic in self._topics:
            stories = [s for s in live if s.topic == topic]
            members = [(sp.post, sp.story) for sp in window if topic in sp.topics and sp.story is not None]
            self._builder(topic).restore(stories, members, duplicates=copies)
        if self.alerter.rules:
            self.alerter.restore(self.store.fired_alerts())

    def process(
        self, posts: Iterable[Post], *, now: datetime, feed: FeedState | None = None, replay: bool = False,
        inbox_done: Sequence[int] = (), feeds: Sequence[FeedState] = (),
    ) -> Processed:
        """Store what is new among `posts` (and the feed's state); say how many were new and stored.

        `replay` uses each post's own time as the clock (archives, benchmarks); live polls use the
        arrival time, capped by the post's own time so a feed's backlog is not mistaken for a spike.
        `inbox_done`: the inbox rows `posts` came from, deleted in the same transaction (storage/work.py).
        `feeds`: the new states of other feeds whose polls brought no post, stored in the same transaction.
        """
        (done,) = self._process([(posts, feed)], now=now, replay=replay, inbox_done=inbox_done, feeds=feeds)
        return done

    def process_polls(
        self, polls: Sequence[tuple[Iterable[Post], FeedState]], *, now: datetime, feeds: Sequence[FeedState] = (),
        features: Mapping[tuple[str, str], Features] | None = None,
    ) -> list[Processed]:
        """Several polls' posts and states in one transaction, each poll told its own counts: the
        polls that arrived while the writer was busy cost one transaction, not one each. Their posts
        are taken in order of publication across the polls, as one poll's are. `features`: those
        computed already (monitor/parsing.py), by the (title, text) they were computed from."""
        return self._process(polls, now=now, feeds=feeds, features=features or NONE_COMPUTED)

    def _process(
        self, polls: Sequence[tuple[Iterable[Post], FeedState | None]], *, now: datetime, replay: bool = False,
        inbox_done: Sequence[int] = (), feeds: Sequence[FeedState] = (),
        features: Mapping[tuple[str, str], Features] = NONE_COMPUTED,
    ) -> list[Processed]:
        fresh = [(dated_by_fetch(post, now), index) for post, index in self._fresh(polls)]
        new: list[NewPost] = []
        matched = [0] * len(polls)
        merged: dict[int, int] = {}
        for post, index in sorted(fresh, key=lambda pair: pair[0].published):
            matches = self.topics.match(post)
            if not matches:
                continue
            at = post.published if replay else min(post.published, now)
            featured = features.get((post.title, post.text)) or self.featurizer(post)
            duplicate_of = self.deduper.check(post, featured)
            if duplicate_of is None:
                self.topics.teach(post, matches, at)
            story_of: dict[str, int] = {}  # topic -> story id
            for match in matches:
                assignment = self._builder(match.topic).add(post, at, duplicate_of, featured)
                story_of[match.topic] = assignment.story_id
                merged.update(dict.fromkeys(assignment.merged, assignment.story_id))
            new.append(NewPost(post, matches, story_of, duplicate_of))
            matched[index] += 1
        clock = max((p.post.published for p in new), default=now) if replay else now
        for builder in self.builders.values():
            builder.close_quiet(clock)
        stories = [s for c in self.builders.values() for s in c.changed()]
        polled = [replace(feed, posts_matched=feed.posts_matched + matched[i])
                  for i, (_, feed) in enumerate(polls) if feed is not None]
        self.topics.refresh(clock)
        triggers = self.alerter.decide(stories, new, merged)
        alerts = [self._alert(trigger, new, clock) for trigger in triggers]
        batch = Batch(posts=new, feeds=[*polled, *feeds], stories=stories, merged=merged, learned=self._learned(),
                      alerts=alerts, inbox_done=inbox_done)
        try:
            stored = self.store.write(batch, now)
        except StorageError:
            self.restore(now)
            raise
        self.topics.changed = False
        counts = Counter(index for _, index in fresh)
        return [Processed(fresh=counts[i], stored=n) for i, n in enumerate(_shared(matched, stored))]

    def _learned(self) -> dict[str, list[LearnedTerm]] | None:
        """Every learning topic's terms, when they changed since the last write."""
        if not self.topics.changed:
            return None
        learned: dict[str, list[LearnedTerm]] = {name: [] for name in self.topics.learners}
        for term in self.topics.learned():
            learned[term.topic].append(term)
        return learned

    def _alert(self, trigger: Trigger, new: Sequence[NewPost], now: datetime) -> NewAlert:
        """The trigger as an outbox row carrying its story and newest posts (stored and of this poll)."""
        story = trigger.story
        story_id = story.id if story is not None else None
        if trigger.post is not None:
            posts = [stored_view(trigger.post, trigger.topic, story_id)]
        else:
            assert story is not None
            joined = [item for item in new if item.stories.get(story.topic) == story.id]
            posts = [stored_view(item, story.topic, story.id) for item in joined]
            posts += self.store.posts(story=story.id, limit=POSTS_READ)
        payload = json.dumps(alert_json(trigger, posts, now), ensure_ascii=False)
        return NewAlert(trigger.rule.name, trigger.event, trigger.subject, trigger.topic, story_id, payload)

    def _fresh(self, polls: Sequence[tuple[Iterable[Post], object]]) -> list[tuple[Post, int]]:
        """The posts not stored yet, each once, with the index of the poll that brought it."""
        unique = {(p.source, p.id): (p, index) for index, (posts, _) in enumerate(polls) for p in posts}
        known = self.store.known(unique)
        return [pair for key, pair in unique.items() if key not in known]

    def _builder(self, topic: str) -> StoryBuilder:
        if topic not in self.builders:
            self.builders[topic] = StoryBuilder(topic, self._ids, featurizer=self.featurizer)
        return self.builders[topic]


def _shared(matched: Sequence[int], stored: int) -> list[int]:
    """Each poll's share of the `stored` posts: its matches, in order, while they last (fewer are
    stored than matched only when another writer stored some of the same posts first)."""
    shares = []
    for count in matched:
        shares.append(min(count, stored))
        stored -= shares[-1]
    return shares
