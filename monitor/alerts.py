"""Alerts, decided: which story changes become alerts, when an alert goes, what it says. Pure.

- `Alerter.decide`: the stories a poll changed and the posts it matched → alert triggers, once per
  (rule, story, event) however often the story changes (the store's unique key keeps it so across
  restarts; `restore` reloads what the live stories already fired).
- `plan`: the sender's decision for one rule's queue: what to send now, what to hold past the
  hourly budget, when the held ones go as one digest, how long a failing channel waits.
- `alert_json`, `digest_json`, `render`: what an alert carries (the JSON an `exec` command reads)
  and the title and text a notification shows, every string from the internet made printable.

Spikes are the story room's decision (`Story.spike`, computed as of the story builder's clock); this
module only reads it. Delivery (Apprise, exec) is monitor/channels.py; the outbox is in storage.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config import AlertRule
from monitor.output import iso, post_json, short_time, story_fields
from monitor.schedule import parse_retry_after
from monitor.textsafe import one_line
from storage.types import Alert, NewPost, QueuedAlert, StoredPost, Story

NEW_STORY, SPIKE, MATCH, DIGEST, TEST = "new_story", "spike", "match", "digest", "test"
STORY_EVENTS = (NEW_STORY, SPIKE)
PENDING, HELD, SENT, DIGESTED = "pending", "held", "sent", "digested"
"""An alert's states: waiting to go (or failing), held past the hourly budget, delivered, folded into a digest."""
POSTS_PER_ALERT = 5
DIGEST_AFTER = timedelta(minutes=10)
"""Held alerts go as one digest this long after the first of them was held: at most six digests an hour."""
RETRY_FIRST = timedelta(seconds=30)
RETRY_MOST = timedelta(hours=1)
"""A failing channel is retried after 30 s, then twice as long each time, never more than an hour apart."""
RETRY_AFTER_MOST = timedelta(hours=24)
"""A channel's Retry-After is honoured up to a day: more (a typo, a date in 2099) would park its alerts for good."""
RETRY_AFTER_LEAST = RETRY_FIRST / 2
"""The shortest wait even when a channel asks for less ("Retry-After: 0"): our own backoff never waits less either,
so a receiver that keeps saying "now" is not hit on every pass of the sender."""
BUDGET_WINDOW = timedelta(hours=1)
TEXT_WIDTH = 200


@dataclass(frozen=True, slots=True)
class Trigger:
    """A rule that fired: the event, its story as the story builder reported it, and the post for a match."""

    rule: AlertRule
    event: str
    story: Story | None
    topic: str
    post: NewPost | None = None

    @property
    def subject(self) -> str:
        """What the alert is about, unique per (rule, event): the story, or the matched post."""
        if self.post is not None:
            return f"post:{self.post.post.source}\x1f{self.post.post.id}"
        assert self.story is not None
        return f"story:{self.story.id}"


@dataclass
class Alerter:
    """The rules, and the (rule, event, story) that already fired for stories still live."""

    rules: Sequence[AlertRule]
    fired: set[tuple[str, str, int]] = field(default_factory=set)

    def restore(self, fired: Iterable[tuple[str, str, int]]) -> None:
        self.fired = set(fired)

    def decide(
        self, stories: Sequence[Story], posts: Sequence[NewPost], merged: Mapping[int, int] = {}
    ) -> list[Trigger]:
        """The alerts that the story changes and matched posts of one poll call for, oldest rule first."""
        if not self.rules:
            return []
        triggers: list[Trigger] = []
        for story in stories:
            if not story.live or story.merged_into is not None:
                self._forget(story.id)  # a closed story never grows again: nothing more to fire
                continue
            triggers += self._story_triggers(story)
        by_id = {s.id: s for s in stories}
        for item in posts:
            for match in item.matches:
                story_id = item.stories.get(match.topic)
                joined = by_id.get(merged.get(story_id, story_id)) if story_id is not None else None
                triggers += [Trigger(rule, MATCH, joined, match.topic, item)
                             for rule in self._rules_for(match.topic, MATCH)]
        return triggers

    def _story_triggers(self, story: Story) -> list[Trigger]:
        due = []
        for event, reached in ((NEW_STORY, None), (SPIKE, story.spike is not None)):
            for rule in self._rules_for(story.topic, event):
                key = (rule.name, event, story.id)
                if key in self.fired or not (reached if reached is not None else story.size >= rule.min_size):
                    continue
                self.fired.add(key)
                due.append(Trigger(rule, event, story, story.topic))
        return due

    def _rules_for(self, topic: str, event: str) -> list[AlertRule]:
        return [r for r in self.rules if event in r.on and r.topic in (None, topic)]

    def _forget(self, story_id: int) -> None:
        self.fired = {key for key in self.fired if key[2] != story_id} if self.fired else self.fired


# -- what an alert carries ---------------------------------------------------------------------------


def alert_json(trigger: Trigger, posts: Sequence[StoredPost], now: datetime) -> dict[str, Any]:
    """The alert as an `exec` command reads it: event, topic, the story as it stood, its newest posts."""
    story = trigger.story
    return {
        "event": trigger.event,
        "rule": trigger.rule.name,
        "topic": trigger.topic,
        "at": iso(now),
        "story": story_fields(story) if story is not None else None,
        "posts": [post_json(p) for p in newest(posts)],
    }


def newest(posts: Iterable[StoredPost], limit: int = POSTS_PER_ALERT) -> list[StoredPost]:
    unique = {(p.post.source, p.post.id): p for p in posts}
    return sorted(unique.values(), key=lambda p: p.post.published, reverse=True)[:limit]


def stored_view(item: NewPost, topic: str, story: int | None) -> StoredPost:
    """A post of this poll, not yet stored, as the store would give it back for `topic`."""
    match = next((m for m in item.matches if m.topic == topic), None)
    return StoredPost(
        post=item.post,
        topics=tuple(m.topic for m in item.matches),
        matched=match.terms if match else (),
        score=match.score if match else 0.0,
        story=story,
        duplicate_of=item.duplicate_of,
    )


def digest_json(rule: str, topic: str | None, alerts: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """One alert standing for `alerts` held past the rule's hourly budget: how many, of which stories
    (its topic is the rule's, else the one topic all of them share)."""
    stories: dict[int, Mapping[str, Any]] = {}
    counts: Counter[int] = Counter()
    for alert in alerts:
        story = alert.get("story")
        if isinstance(story, Mapping) and isinstance(story.get("id"), int):
            stories[story["id"]] = story  # the latest snapshot of each story wins
            counts[story["id"]] += 1
    posts = [p for alert in alerts for p in alert.get("posts", [])]
    posts.sort(key=lambda p: str(p.get("published") or ""), reverse=True)
    topics = {a.get("topic") for a in alerts}
    return {
        "event": DIGEST,
        "rule": rule,
        "topic": topic or (topics.pop() if len(topics) == 1 else None),
        "at": iso(now),
        "count": len(alerts),
        "events": dict(Counter(str(a.get("event")) for a in alerts)),
        "since": min((str(a.get("at")) for a in alerts), default=None),
        "story": None,
        "stories": [stories[sid] for sid, _ in counts.most_common(POSTS_PER_ALERT)],
        "posts": posts[:POSTS_PER_ALERT],
    }


def render(alert: Mapping[str, Any]) -> tuple[str, str]:
    """The title and plain text of a notification; every string from the internet made printable."""
    event, topic = alert.get("event"), one_line(str(alert.get("topic") or "every topic"), 60)
    story: Mapping[str, Any] = alert.get("story") or {}
    if event == DIGEST:
        title = f"monitor: {alert.get('count', 0)} more alerts in {topic}"
        lines = [f"Past the hourly limit of rule {one_line(str(alert.get('rule')), 40)}. The busiest stories:"]
        lines += [f"- {one_line(str(s.get('label') or ''), 100)} ({_story_facts(s)})" for s in alert.get("stories", [])]
    else:
        title = _TITLES.get(str(event), "monitor: {topic}").format(topic=topic)
        lines = [one_line(str(story.get("label") or ""), 120), _story_facts(story)] if story else []
        if story.get("spike"):
            lines.append(f"⚡ {one_line(str(story['spike']), 120)}")
    if alert.get("posts"):
        lines += ["", *(_post_line(p) for p in alert["posts"])]
    return title, "\n".join(lines)


_TITLES = {
    NEW_STORY: "monitor: new story in {topic}",
    SPIKE: "monitor: a story in {topic} is spiking",
    MATCH: "monitor: new post in {topic}",
    TEST: "monitor: a test alert for {topic}",
}


def headline(alert: Mapping[str, Any]) -> str:
    """What an alert is about, in one line: the matched post, the story, or how many a digest holds."""
    if alert.get("event") == DIGEST:
        return f"{alert.get('count', 0)} alerts past the hourly limit"
    posts = alert.get("posts") or [{}]
    if alert.get("event") == MATCH:
        return one_line(str(posts[0].get("title") or posts[0].get("text") or ""), 120)
    return one_line(str((alert.get("story") or {}).get("label") or ""), 120)


def delivery(alert: Alert) -> str:
    """Where an alert stands, in a few words: 'sent 12:03:05Z', 'waiting (2 failed)', 'in digest #9'."""
    if alert.state == SENT:
        return f"sent {short_time(alert.sent)[11:]}"
    if alert.state == HELD:
        return "held for a digest"
    if alert.state == DIGESTED:
        return f"in digest #{alert.digest}"
    return f"waiting ({alert.attempts} failed)" if alert.attempts else "waiting"


def _story_facts(story: Mapping[str, Any]) -> str:
    """'12 posts · from bbc, reuters · 9/h'."""
    sources = [one_line(str(s), 30) for s in story.get("sources", [])]
    shown = ", ".join(sources[:4]) + (f" and {len(sources) - 4} more" if len(sources) > 4 else "")
    size, rate = story.get("size", 0), story.get("velocity")
    parts = [f"{size} post{'' if size == 1 else 's'}", f"from {shown}" if shown else "",
             f"{rate:g}/h" if isinstance(rate, int | float) and rate else ""]
    return " · ".join(p for p in parts if p)


def _post_line(post: Mapping[str, Any]) -> str:
    """'- author: first words of the post https://link'."""
    who = one_line(str(post.get("author") or post.get("source") or ""), 40)
    text = one_line(str(post.get("title") or post.get("text") or ""), TEXT_WIDTH)
    url = one_line(str(post.get("url") or ""), 300)
    return f"- {who}: {text} {url}".rstrip()


# -- when alerts go ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """What the sender does with one rule's queue now."""

    hold: tuple[int, ...] = ()  # past the hourly budget: wait for a digest
    digest: tuple[int, ...] = ()  # held alerts whose digest is due: fold them into one alert
    send: tuple[int, ...] = ()  # due now, oldest first; the sender stops at the first that fails
    ready: bool = True  # False while the channel waits out a failure's retry time


def plan(rule: AlertRule, queue: Sequence[QueuedAlert], sent_last_hour: int, now: datetime) -> Plan:
    """The rule's next moves, given its pending and held alerts and how many it sent in the last hour.

    Alerts beyond `max_per_hour` are held, and go as one digest `DIGEST_AFTER` after the first of
    them was held. A channel that failed waits out its retry time before anything else goes to it.
    """
    pending = sorted((q for q in queue if q.state == PENDING), key=lambda q: q.id)
    singles = [q for q in pending if q.event != DIGEST]
    budget = max(0, rule.max_per_hour - sent_last_hour)
    hold = tuple(q.id for q in singles[budget:])
    held = [q for q in queue if q.state == HELD]
    digest_due = min((q.next_attempt for q in held if q.next_attempt is not None), default=None)
    digest = tuple(sorted([q.id for q in held] + list(hold))) if digest_due and digest_due <= now else ()
    ready = not any(q.attempts and q.next_attempt and q.next_attempt > now for q in pending)
    send = tuple(
        q.id for q in pending if q.id not in hold and (q.next_attempt is None or q.next_attempt <= now)
    ) if ready else ()
    return Plan(hold, digest, send, ready)


def retry_at(attempts: int, now: datetime, rng: random.Random | None = None,
             asked: timedelta | None = None) -> datetime:
    """When to try a failing channel again after `attempts` failures.

    A channel that said when (`asked`, its Retry-After) gets exactly that, but never under
    RETRY_AFTER_LEAST: never sooner than it asked, never later than max(asked, our backoff). After a
    long outage our backoff may have grown to an hour while the receiver says "in 2 minutes"; it knows
    best. Otherwise: doubling, capped, jittered over its upper half so channels that failed together do
    not retry together.
    """
    if asked is not None:
        return now + max(asked, RETRY_AFTER_LEAST)
    ceiling: timedelta = min(RETRY_FIRST * 2 ** min(max(attempts - 1, 0), 20), RETRY_MOST)
    return now + ceiling * (rng or random.Random()).uniform(0.5, 1.0)


def asked_wait(retry_after: str | None, now: datetime) -> timedelta | None:
    """How long a channel's Retry-After header asks us to wait, as of `now` (the sender's clock): delay-seconds
    ("120") or an HTTP-date, read as the feeds read it (schedule.parse_retry_after), a date already past
    asking for no wait, capped at RETRY_AFTER_MOST. None for no header or an unreadable one ("soon"):
    then our own backoff decides."""
    when = parse_retry_after(retry_after, now) if retry_after else None
    return None if when is None else min(when - now, RETRY_AFTER_MOST)


# -- how a rule's channel is doing ----------------------------------------------------------------------


def shown_channel(rule: AlertRule) -> str:
    """The rule's channel for people, with no secret in it: the URL's scheme, the variable, the command."""
    if rule.exec:
        return f"exec {one_line(rule.exec[0], 60)}"
    if rule.notify_env:
        return f"${rule.notify_env}"
    return scheme_only(rule.notify or "")


def scheme_only(url: str) -> str:
    """'ntfy://…': everything after the scheme may be a token (a topic, a webhook's secret path)."""
    return f"{one_line(url.split('://', 1)[0], 20)}://…"


@dataclass(frozen=True, slots=True)
class ChannelState:
    """One rule's delivery as the outbox tells it: failing or not, and what waits."""

    rule: AlertRule
    waiting: int = 0  # pending (due, or waiting out a retry)
    held: int = 0  # past the hourly budget, for the next digest
    tries: int = 0  # failed tries of the alert at the head of the queue; 0 when the channel works
    error: str | None = None  # what the channel answered last time it failed
    next_try: datetime | None = None
    last_sent: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.tries > 0

    def json(self) -> dict[str, Any]:
        return {
            "name": self.rule.name,
            "channel": shown_channel(self.rule),
            "topic": self.rule.topic,
            "on": list(self.rule.on),
            "state": "failing" if self.failing else "ok",
            "waiting": self.waiting,
            "held": self.held,
            "tries": self.tries,
            "error": self.error,
            "next_try": iso(self.next_try),
            "last_sent": iso(self.last_sent),
        }

    def line(self) -> str:
        """'phone  ntfy://…  new_story, spike in volcano  ok, last sent 2024-03-01 12:03Z; 2 waiting'."""
        what = f"{', '.join(self.rule.on)} in {one_line(self.rule.topic or 'every topic', 40)}"
        if self.failing:
            tries = f"{self.tries} tr{'y' if self.tries == 1 else 'ies'}"
            state = f"FAILING: {one_line(self.error or '', 160)} ({tries}, next at {short_time(self.next_try)})"
        else:
            state = f"ok, last sent {short_time(self.last_sent)}" if self.last_sent else "ok, nothing sent yet"
        queued = [f"{self.waiting} waiting"] * bool(self.waiting) + [f"{self.held} held for a digest"] * bool(self.held)
        tail = f"; {', '.join(queued)}" if queued else ""
        return f"{one_line(self.rule.name, 24)}  {shown_channel(self.rule)}  {what}  {state}{tail}"


def channel_states(
    rules: Sequence[AlertRule], queue: Sequence[QueuedAlert], last_sent: Mapping[str, datetime]
) -> list[ChannelState]:
    """Each configured rule's state, from its queued alerts (oldest first) and its last delivery."""
    states = []
    for rule in rules:
        mine = [q for q in queue if q.rule == rule.name]
        pending = [q for q in mine if q.state == PENDING]
        head = next((q for q in pending if q.attempts), None)
        states.append(ChannelState(
            rule, waiting=len(pending), held=sum(q.state == HELD for q in mine),
            tries=head.attempts if head else 0, error=head.answer if head else None,
            next_try=head.next_attempt if head else None, last_sent=last_sent.get(rule.name),
        ))
    return states


def sample(rule: AlertRule, topics: Sequence[str], now: datetime) -> dict[str, Any]:
    """A made-up alert in the shape of a real one, for `monitor alerts test`."""
    topic = rule.topic or (topics[0] if topics else "your topic")
    post = {"id": "test", "source": "monitor", "author": "monitor", "url": "", "title": "",
            "text": f"If you read this, alerts of rule {rule.name} reach you.", "published": iso(now)}
    story = {"id": 0, "topic": topic, "label": f"A test alert for rule {rule.name}", "size": 1,
             "first_seen": iso(now), "last_seen": iso(now), "live": True, "sources": ["monitor"],
             "authors": 1, "velocity": 0.0, "spike": None}
    return {"event": TEST, "rule": rule.name, "topic": topic, "at": iso(now), "story": story, "posts": [post]}
