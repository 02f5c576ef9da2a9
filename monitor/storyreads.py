"""Stories as they stand at a time, read from the store: what `clusters` and the dashboard list.

The store keeps each story's arrivals, not its rate, because a rate and a spike change with time
alone. These reads fetch every story that may still be active (seen within the spike horizon) and as
many others as asked, bring them to `now` (storystate.as_of) and rank them, most active first.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.storystate import CLOSE_AFTER, SpikeRule, as_of, most_active
from storage.types import Story

if TYPE_CHECKING:
    from storage.store import Store

RULE = SpikeRule()


def stories_at(
    store: Store, now: datetime, *, topic: str | None = None, live_only: bool = False, limit: int | None = None,
) -> list[Story]:
    """Most active as of `now` first (posts in the last hour, then the latest post); with `live_only`,
    only those not quiet for the closing time."""
    found = store.stories(
        topic=topic, live_only=live_only, live_since=now - CLOSE_AFTER, limit=limit, active_since=now - RULE.horizon,
    )
    ranked = most_active(as_of(story, now, RULE, CLOSE_AFTER) for story in found)
    return ranked if limit is None else ranked[:limit]


def story_at(store: Store, story_id: int, now: datetime) -> Story | None:
    """The story by id (even a merged-away one) as it stands at `now`."""
    found = store.story(story_id)
    return None if found is None else as_of(found, now, RULE, CLOSE_AFTER)
