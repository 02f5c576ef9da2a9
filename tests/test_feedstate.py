"""The pure decisions after a poll: what a feed's state becomes, with no server and no database."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from monitor.config import Feed
from monitor.feedstate import Polled, after_failure, after_success
from monitor.pollerrors import FeedError, FetchError, InternalError, NotConfigured, PollError, StatusError
from monitor.sources.base import Validators
from storage.types import FeedState
from tests.support.feeds import T0

FEED = Feed("x", "x", 300.0, {"topic": "t", "token_env": "X_TOKEN"}, {"token": "X_TOKEN"})
FAILING = FeedState("x", etag='"e"', cursor={"since_id": "5"}, last_error="HTTP 500", error_count=3, posts_seen=7)


def test_a_success_clears_errors_keeps_validators_and_is_due_one_interval_on() -> None:
    polled = Polled(4, 200, Validators('"e2"', "Fri, 01 Mar 2024", "abc"), {"since_id": "9"})
    state = after_success(FAILING, polled, feed=FEED, now=T0, rng=random.Random(1))
    assert (state.last_error, state.error_count, state.last_status, state.last_poll) == (None, 0, 200, T0)
    assert (state.etag, state.last_modified, state.body_hash) == ('"e2"', "Fri, 01 Mar 2024", "abc")
    assert state.cursor == {"since_id": "9"} and state.posts_seen == 11
    assert timedelta(seconds=270) <= state.next_check - T0 <= timedelta(seconds=330)


def test_a_success_with_an_exhausted_rate_limit_waits_for_its_reset() -> None:
    reset = T0 + timedelta(hours=2)
    state = after_success(FeedState("x"), Polled(0, 200, Validators(), retry_at=reset), feed=FEED, now=T0)
    assert state.next_check == reset and state.retry_after == reset


def test_a_failure_counts_backs_off_and_keeps_what_the_last_success_left() -> None:
    state = after_failure(FAILING, FetchError("connection refused"), feed=FEED, now=T0, rng=random.Random(1))
    assert (state.last_error, state.error_count, state.last_status) == ("connection refused", 4, None)
    assert (state.etag, state.cursor, state.posts_seen) == ('"e"', {"since_id": "5"}, 7)
    assert state.next_check - T0 >= timedelta(seconds=300 * 2 ** 3 / 2), "backoff grows with the error count"


def test_a_status_error_brings_its_status_and_retry_after() -> None:
    later = T0 + timedelta(hours=5)
    state = after_failure(FeedState("x"), StatusError("HTTP 429 Too Many Requests", status=429, retry_at=later),
                          feed=FEED, now=T0)
    assert (state.last_status, state.retry_after) == (429, later) and state.next_check >= later


def test_a_permanent_status_backs_off_hard_from_the_first_error() -> None:
    gone = after_failure(FeedState("x"), StatusError("HTTP 410 Gone", status=410, permanent=True), feed=FEED, now=T0)
    flaky = after_failure(FeedState("x"), StatusError("HTTP 500", status=500), feed=FEED, now=T0)
    assert gone.next_check - T0 >= timedelta(hours=1) > flaky.next_check - T0


def test_a_refused_credential_names_its_variable_and_no_secret_is_stored() -> None:
    error = StatusError("HTTP 401 Unauthorized: bad token sekrit-toke", status=401, permanent=True)
    state = after_failure(FeedState("x"), error, feed=FEED, now=T0, secrets={"token": "sekrit-token-value"})
    assert state.last_error == "HTTP 401 Unauthorized: bad token [redacted] (check the credential in $X_TOKEN)"


@pytest.mark.parametrize("error", [
    FetchError("timed out after 30 s"), StatusError("HTTP 503", status=503), FeedError("not a feed"),
    InternalError.wrapping(KeyError("id")),
])
def test_every_kind_is_a_poll_error_with_the_same_fields(error: PollError) -> None:
    assert isinstance(error, PollError)
    assert (error.status is None or 100 <= error.status < 600) and isinstance(error.permanent, bool)
    state = after_failure(FeedState("x"), error, feed=FEED, now=T0)
    assert state.last_error == str(error) and state.next_check is not None and state.next_check > T0


def test_an_internal_error_says_what_was_raised() -> None:
    assert str(InternalError.wrapping(KeyError("id"))) == "internal error: KeyError: 'id'"


def test_a_feed_not_configured_is_recorded_but_not_backed_off() -> None:
    """issue 10.11: a missing token put the feed into hours of stored backoff that outlived the fix."""
    error = NotConfigured("X needs a bearer token: set the environment variable X_TOKEN")
    state = after_failure(FAILING, error, feed=FEED, now=T0)
    assert (state.last_error, state.error_count, state.last_poll) == (str(error), 4, T0)
    assert state.next_check is None and state.retry_after is None
    assert isinstance(error, PollError) and not error.permanent
