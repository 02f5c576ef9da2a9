"""How posts, stories and feeds look on the command line: JSON objects and one-line text rows.

Every string from the internet goes through `textsafe` on its way out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config import Feed
from monitor.textsafe import one_line
from storage.types import FeedState, StoredPost, Story


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def post_json(sp: StoredPost) -> dict[str, Any]:
    p = sp.post
    return {
        "id": p.id,
        "source": p.source,
        "author": p.author,
        "url": p.url,
        "title": p.title,
        "text": p.text,
        "published": iso(p.published),
        "kind": p.kind,
        "topics": list(sp.topics),
        "matched": list(sp.matched),
        "score": round(sp.score, 3),
        "cluster": sp.story,
        "duplicate_of": list(sp.duplicate_of) if sp.duplicate_of else None,
    }


def story_json(story: Story, posts: list[StoredPost]) -> dict[str, Any]:
    return story_fields(story) | {"posts": [post_json(p) for p in posts]}


def story_fields(story: Story) -> dict[str, Any]:
    """A story without its posts (an alert carries its posts beside it)."""
    return {
        "id": story.id,
        "topic": story.topic,
        "label": story.label,
        "size": story.size,
        "first_seen": iso(story.first_seen),
        "last_seen": iso(story.last_seen),
        "live": story.live,
        "sources": list(story.sources),
        "authors": story.authors,
        "velocity": round(story.velocity, 2),
        "spike": story.spike,
    }


def feed_health(state: FeedState | None) -> str:
    if state is None or state.last_poll is None:
        return "pending"
    return "failing" if state.last_error else "ok"


def feed_json(feed: Feed, state: FeedState | None) -> dict[str, Any]:
    return {
        "name": feed.name,
        "type": feed.type,
        "url": feed.options.get("url") or feed.options.get("base_url"),
        "interval": feed.interval,
        "health": feed_health(state),
        "last_status": state.last_status if state else None,
        "last_error": state.last_error if state else None,
        "errors": state.error_count if state else 0,
        "last_poll": iso(state.last_poll) if state else None,
        "next_check": iso(state.next_check) if state else None,
        "posts_seen": state.posts_seen if state else 0,
        "posts_matched": state.posts_matched if state else 0,
    }


def post_line(sp: StoredPost, width: int = 100) -> str:
    p = sp.post
    when = p.published.strftime("%Y-%m-%d %H:%M")
    story = f"#{sp.story}" if sp.story is not None else "-"
    source = one_line(p.source)[:16]
    return f"{when}  {story:>6}  {source:16}  {one_line(p.author or '-', 18):18}  {one_line(p.title or p.text, width)}"


def story_line(story: Story) -> str:
    mark = "●" if story.live else "○"
    spike = f"  ⚡ {one_line(story.spike)}" if story.spike else ""
    label = one_line(story.label, 70)
    topic = one_line(story.topic)  # topic names come from articles (`monitor init`)
    return f"{mark} #{story.id:<6} {story.size:>5} posts  {story.velocity:6.1f}/h  {topic}: {label}{spike}"


def short_time(when: datetime | None) -> str:
    """A time for people: to the second, in UTC."""
    return when.strftime("%Y-%m-%d %H:%M:%SZ") if when else "-"


def feed_line(feed: Feed, state: FeedState | None) -> str:
    row = feed_json(feed, state)
    error = f"  {one_line(row['last_error'], 60)}" if row["last_error"] else ""
    last = short_time(state.last_poll) if state and state.last_poll else "never"
    nxt = short_time(state.next_check if state else None)
    name = one_line(feed.name)[:24]  # feeds.toml may hold any string, escapes too
    return f"{row['health']:8} {name:24} {feed.type:10} last {last}  next {nxt}{error}"
