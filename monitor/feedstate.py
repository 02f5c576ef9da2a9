"""What a feed's stored state becomes after a poll: pure decisions, no I/O (reader's Decider).

The daemon does the fetching and paging; it hands what came back (a `Polled`, or the `PollError`
that ended the poll) to `after_success` or `after_failure` and stores the state they return.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor import schedule
from monitor.config import Feed
from monitor.pollerrors import NotConfigured, PollError
from monitor.sources.base import Validators
from storage.types import FeedState

REDACT_FROM = 4
"""Characters of a secret that, at the start of a cut-off quote, already count as the secret."""
CREDENTIAL_REFUSED = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class Polled:
    """What a poll that worked brought back, over all its pages."""

    posts: int
    """How many posts its pages held (new or not)."""
    status: int | None
    """The first page's HTTP status (304: nothing changed)."""
    validators: Validators
    cursor: Mapping[str, str] = field(default_factory=dict)
    retry_at: datetime | None = None
    """When an exhausted rate limit resets, as the responses said."""


def after_success(
    state: FeedState, polled: Polled, *, feed: Feed, now: datetime, rng: random.Random | None = None
) -> FeedState:
    """Errors cleared, validators and cursor kept, next check one interval on (or the rate-limit reset)."""
    return replace(
        state,
        etag=polled.validators.etag,
        last_modified=polled.validators.last_modified,
        body_hash=polled.validators.body_hash,
        cursor=dict(polled.cursor),
        last_poll=now,
        last_status=polled.status,
        last_error=None,
        error_count=0,
        retry_after=polled.retry_at,
        next_check=schedule.next_check(now, feed.interval, retry_at=polled.retry_at, rng=rng),
        posts_seen=state.posts_seen + polled.posts,
    )


def after_failure(
    state: FeedState,
    error: PollError,
    *,
    feed: Feed,
    now: datetime,
    secrets: Mapping[str, str] = {},
    rng: random.Random | None = None,
) -> FeedState:
    """The error recorded (one line, no secret in it) and the next check backed off.

    A feed that cannot be polled as configured is not the server's fault and is not backed off: its
    next check is left empty, due as soon as a daemon starts that might have what it lacked.
    """
    message = redact(explained(feed, error), secrets)
    errors = state.error_count + 1
    if isinstance(error, NotConfigured):
        return replace(state, last_poll=now, last_status=None, last_error=message, error_count=errors,
                       retry_after=None, next_check=None)
    return replace(
        state,
        last_poll=now,
        last_status=error.status,
        last_error=message,
        error_count=errors,
        retry_after=error.retry_at,
        next_check=schedule.next_check(
            now, feed.interval, errors=errors, retry_at=error.retry_at, permanent=error.permanent, rng=rng
        ),
    )


def after_stream_batch(state: FeedState, *, cursor: Mapping[str, str], seen: int, now: datetime) -> FeedState:
    """A stream's state once a batch of what it read is stored: the cursor moved on, errors cleared
    (it reads again), `seen` more posts read. A stream has no next check: the tick never polls it."""
    return replace(state, cursor=dict(cursor), last_poll=now, last_status=None, last_error=None, error_count=0,
                   retry_after=None, next_check=None, posts_seen=state.posts_seen + seen)


def after_stream_failure(
    state: FeedState, error: PollError, *, feed: Feed, now: datetime, secrets: Mapping[str, str] = {}
) -> FeedState:
    """A stream that could not connect, or lost its connection: the error recorded (one line, no
    secret), its cursor kept. When it tries again is `schedule.reconnect_delay`'s decision."""
    return replace(state, last_poll=now, last_status=error.status, last_error=redact(explained(feed, error), secrets),
                   error_count=state.error_count + 1, retry_after=error.retry_at, next_check=None)


def explained(feed: Feed, error: PollError) -> str:
    """The error's one line; a refused credential also names the environment variable that holds it."""
    if error.status in CREDENTIAL_REFUSED and feed.secrets:
        return f"{error} (check the credential in ${next(iter(feed.secrets.values()))})"
    return str(error)


def redact(message: str, secrets: Mapping[str, str]) -> str:
    """The message without any secret, whole or cut short (an error quoting the first bytes of a
    body that echoes the header ends mid-token, which a plain replace would miss)."""
    for value in secrets.values():
        if len(value) < REDACT_FROM:
            message = message.replace(value, "[redacted]") if value else message
            continue
        start = message.find(value[:REDACT_FROM])
        while start != -1:
            end = start + REDACT_FROM
            while end < len(message) and end - start < len(value) and message[end] == value[end - start]:
                end += 1
            message = message[:start] + "[redacted]" + message[end:]
            start = message.find(value[:REDACT_FROM], start + len("[redacted]"))
    return message
