"""When a feed is next due: jitter, backoff, caps, Retry-After and rate-limit floors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.schedule import (
    MAX_BACKOFF,
    MAX_WAIT,
    next_check,
    parse_retry_after,
    rate_limit_reset,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
intervals = st.floats(min_value=1, max_value=7 * 86400, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32)


def wait(**kwargs: object) -> float:
    """Seconds from NOW until the feed is due."""
    due = next_check(NOW, **kwargs)  # type: ignore[arg-type]
    return (due - NOW).total_seconds()


@given(interval=intervals, seed=seeds)
def test_a_healthy_feed_is_due_after_its_interval_within_ten_percent(interval: float, seed: int) -> None:
    assert 0.9 * interval <= wait(interval=interval, rng=random.Random(seed)) <= 1.1 * interval


def test_success_has_jitter_so_feeds_added_together_drift_apart() -> None:
    rng = random.Random(7)
    waits = {round(wait(interval=300, rng=rng), 3) for _ in range(50)}
    assert len(waits) > 40
    assert min(waits) < 290 and max(waits) > 310


@given(interval=st.floats(min_value=1, max_value=3600), errors=st.integers(1, 500), seed=seeds)
def test_backoff_never_drops_below_half_its_ceiling_nor_passes_a_day(interval: float, errors: int, seed: int) -> None:
    ceiling = min(interval * 2.0 ** min(errors - 1, 60), MAX_BACKOFF)
    assert ceiling / 2 <= wait(interval=interval, errors=errors, rng=random.Random(seed)) <= ceiling


@given(interval=st.floats(min_value=1, max_value=3600), errors=st.integers(1, 100), seed=seeds)
def test_backoff_grows_with_each_consecutive_error(interval: float, errors: int, seed: int) -> None:
    this = wait(interval=interval, errors=errors, rng=random.Random(seed))
    after = wait(interval=interval, errors=errors + 1, rng=random.Random(seed))
    assert after >= this


def test_backoff_doubles_then_caps_at_about_a_day_and_never_gives_up() -> None:
    rng = random.Random(1)
    ceilings = [max(wait(interval=60, errors=n, rng=rng) for _ in range(200)) for n in (1, 2, 3, 4)]
    assert [round(c / 60, 1) for c in ceilings] == pytest.approx([1, 2, 4, 8], abs=0.1)
    for errors in (20, 1000, 10**6):
        assert 12 * 3600 <= wait(interval=60, errors=errors, rng=rng) <= 24 * 3600


def test_backoff_has_jitter() -> None:
    rng = random.Random(3)
    waits = [wait(interval=600, errors=3, rng=rng) for _ in range(100)]
    assert len(set(waits)) == 100
    assert min(waits) < 0.6 * 2400 and max(waits) > 0.9 * 2400


def test_success_resets_the_backoff() -> None:
    rng = random.Random(5)
    assert wait(interval=60, errors=12, rng=rng) > 3600
    assert 54 <= wait(interval=60, errors=0, rng=rng) <= 66


@given(interval=st.floats(min_value=1, max_value=3600), errors=st.integers(0, 50), seed=seeds)
def test_permanent_errors_back_off_at_least_an_hour(interval: float, errors: int, seed: int) -> None:
    waited = wait(interval=interval, errors=errors, permanent=True, rng=random.Random(seed))
    assert 3600 <= waited <= MAX_BACKOFF


@given(
    interval=intervals,
    errors=st.integers(0, 30),
    floor=st.floats(min_value=0, max_value=10 * 86400),
    permanent=st.booleans(),
    seed=seeds,
)
def test_retry_at_is_a_floor(interval: float, errors: int, floor: float, permanent: bool, seed: int) -> None:
    retry_at = NOW + timedelta(seconds=floor)
    free = next_check(NOW, interval, errors=errors, permanent=permanent, rng=random.Random(seed))
    due = next_check(NOW, interval, errors=errors, permanent=permanent, retry_at=retry_at, rng=random.Random(seed))
    assert due == max(free, retry_at)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        next_check(NOW, 0)
    with pytest.raises(ValueError, match="errors"):
        next_check(NOW, 60, errors=-1)


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("120", NOW) == NOW + timedelta(seconds=120)
    assert parse_retry_after(" 0 ", NOW) == NOW


def test_retry_after_as_an_http_date() -> None:
    later = NOW + timedelta(hours=2)
    assert parse_retry_after(format_datetime(later, usegmt=True), NOW) == later
    assert parse_retry_after("Wed, 01 May 2024 13:30:00 GMT", NOW) == NOW + timedelta(minutes=90)


@pytest.mark.parametrize("value", ["", "soon", "-5", "1e3", "Wed, 99 Foo 2024 99:99:99 GMT", "\x1b[31m"])
def test_unreadable_retry_after_is_none(value: str) -> None:
    assert parse_retry_after(value, NOW) is None


def test_retry_after_is_bounded_to_now_and_a_week() -> None:
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", NOW) == NOW
    week = NOW + timedelta(seconds=MAX_WAIT)
    assert parse_retry_after("9" * 400, NOW) == week
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW) == week


def test_naive_now_gets_naive_answers() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 01 May 2024 13:00:00 GMT", naive) == naive + timedelta(hours=1)
    assert next_check(naive, 60, retry_at=NOW + timedelta(hours=1)) == naive + timedelta(hours=1)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "30"}, 30),  # IETF draft: seconds
        ({"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "412"}, 412),  # Reddit: float remaining
        ({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW.timestamp()) + 900)}, 900),  # X
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW.timestamp()) + 60)}, 60),  # GitHub
        ({"RateLimit": "limit=100, remaining=0, reset=50"}, 50),
        ({"RateLimit": '"default";r=0;t=75'}, 75),
        (
            {
                "ratelimit-remaining": "0",
                "ratelimit-reset": "5",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": "9",
            },
            9,
        ),
    ],
)
def test_an_exhausted_rate_limit_gives_its_reset(headers: dict[str, str], seconds: int) -> None:
    assert rate_limit_reset(headers, NOW) == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"RateLimit-Remaining": "3", "RateLimit-Reset": "30"},
        {"X-Ratelimit-Remaining": "598.0", "X-Ratelimit-Reset": "412"},
        {"x-rate-limit-remaining": "0"},
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "tomorrow"},
        {"ratelimit-remaining": "none", "ratelimit-reset": "30"},
        {"ratelimit-remaining": "0", "ratelimit-reset": "nan"},
        {"RateLimit": "limit=100, remaining=7, reset=50"},
    ],
)
def test_no_reset_while_calls_remain_or_headers_are_unreadable(headers: dict[str, str]) -> None:
    assert rate_limit_reset(headers, NOW) is None


def test_a_hostile_reset_is_capped_at_a_week() -> None:
    far = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1e300"}
    assert rate_limit_reset(far, NOW) == NOW + timedelta(seconds=MAX_WAIT)
