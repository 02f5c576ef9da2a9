"""The social sources inside the daemon, over a real socket: paging, "only what is new", errors, secrets.

Each kind's API is played by a small fake on the loopback server (tests/daemon_world.py) that honours
the real parameters (since_id, min_id, max_id, cursor, before/after, numericFilters, next_token) over
a timeline the test grows between polls: the assertions are on what the daemon asked for and kept.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import pytest

from tests.support import daemon_world
from tests.support.daemon_world import (
    BSKY_PASSWORD,
    JSON,
    LOGIN_PATH,
    REFRESH_PATH,
    SEARCH_PATH,
    X_BASE_ID,
    X_TOKEN,
    BlueskyLogin,
    MakeWorld,
    Timeline,
    World,
    arg,
    bluesky_feed_api,
    epoch,
    hackernews_api,
    iso,
    jwt,
    mastodon_api,
    reddit_api,
    rss_api,
    x_api,
)
from tests.support.feeds import T0
from tests.support.server import FixtureServer, Reply, Seen

world = daemon_world.world  # the fixture, shared with test_daemon

# --- feeds.toml ------------------------------------------------------------------------------------

TOPIC = '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n'


def feed(name: str, kind: str, interval: str = "5m", **keys: str) -> str:
    lines = [f'name = "{name}"', f'type = "{kind}"', f'interval = "{interval}"']
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "[[feeds]]\n" + "\n".join(lines) + "\n\n"


PATHS = {
    "rss": "/rss",
    "mastodon": "/api/v1/timelines/tag/volcano",
    "bluesky": "/xrpc/app.bsky.feed.getAuthorFeed",
    "reddit": "/r/volcanoes/new.json",
    "hackernews": "/api/v1/search_by_date",
    "x": "/2/tweets/search/recent",
}


def every_kind(base: str) -> str:
    return TOPIC + "".join([
        feed("rss", "rss", url=base + PATHS["rss"]),
        feed("mastodon", "mastodon", hashtag="volcano", base_url=base),
        feed("bluesky", "bluesky", actor="ann.example", base_url=base),
        feed("reddit", "reddit", subreddit="volcanoes", base_url=base),
        feed("hackernews", "hackernews", topic="volcano", base_url=base),
        feed("x", "x", topic="volcano", base_url=base, token_env="X_BEARER_TOKEN"),
    ])


def ids_by_source(w: World) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for stored in w.store.posts():
        found.setdefault(stored.post.source, []).append(stored.post.id)
    return {source: sorted(ids) for source, ids in found.items()}


def expected_ids(kind: str, numbers: Iterable[int]) -> list[str]:
    make: dict[str, Callable[[int], str]] = {
        "rss": lambda n: f"r{n}",
        "mastodon": str,
        "bluesky": lambda n: f"at://did:plc:ann/app.bsky.feed.post/{n}",
        "reddit": lambda n: f"t3_{n}",
        "hackernews": str,
        "x": lambda n: str(X_BASE_ID + n),
    }
    return sorted(make[kind](n) for n in numbers)


# --- two polls, every kind -------------------------------------------------------------------------

# More than one page each on the first poll (Mastodon 40, Bluesky 50, Reddit/HN/X 100 a page).
FIRST_POLL = {"rss": 5, "mastodon": 45, "bluesky": 60, "reddit": 120, "hackernews": 130, "x": 130}


async def test_every_kind_pages_through_then_asks_only_for_what_is_new(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    lines = {kind: Timeline(size) for kind, size in FIRST_POLL.items()}
    fakes = {"rss": rss_api, "bluesky": bluesky_feed_api, "reddit": reddit_api, "hackernews": hackernews_api,
             "x": x_api}
    for kind, fake in fakes.items():
        server.routes[PATHS[kind]] = fake(lines[kind])
    server.routes[PATHS["mastodon"]] = mastodon_api(server.base, lines["mastodon"])
    w = world(toml=every_kind(server.base))

    await w.poll_due()
    errors = {kind: w.state(kind).last_error for kind in PATHS}
    assert errors == dict.fromkeys(PATHS), errors
    first = {kind: server.requests_to(path) for kind, path in PATHS.items()}
    assert {kind: len(seen) for kind, seen in first.items()} == {kind: 1 if kind == "rss" else 2 for kind in PATHS}
    assert arg(first["mastodon"][1], "max_id") == "6"  # Link rel="next": older than the 40th newest
    assert arg(first["bluesky"][1], "cursor") == "11"
    assert arg(first["reddit"][1], "after") == "t3_21"
    assert arg(first["hackernews"][1], "page") == "1"
    assert arg(first["x"][1], "next_token") == "100"
    assert ids_by_source(w) == {kind: expected_ids(kind, line.items) for kind, line in lines.items()}

    for line in lines.values():
        line.grow(3)
    w.advance(6 * 60)
    await w.poll_due()
    second = {kind: server.requests_to(path)[len(first[kind]):] for kind, path in PATHS.items()}
    assert {kind: len(seen) for kind, seen in second.items()} == dict.fromkeys(PATHS, 1), "one page of news each"
    ask = {kind: seen[0] for kind, seen in second.items()}
    assert ask["rss"].headers["if-none-match"] == '"v5"'
    assert arg(ask["mastodon"], "since_id") == "45"
    assert "cursor" not in ask["bluesky"].query  # the newest page reaches a post already seen: no paging back
    assert arg(ask["reddit"], "before") == "t3_120"
    assert arg(ask["hackernews"], "numericFilters") == f"created_at_i>{epoch(130)}"
    assert arg(ask["x"], "since_id") == str(X_BASE_ID + 130)
    stored = ids_by_source(w)
    assert stored == {kind: expected_ids(kind, line.items) for kind, line in lines.items()}, "each post once"
    assert {kind: w.state(kind).posts_seen for kind in PATHS} == {
        "rss": 5 + 8, **{kind: FIRST_POLL[kind] + 3 for kind in PATHS if kind != "rss"}
    }


async def test_the_topic_is_sent_to_the_search_apis(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    server.routes[PATHS["hackernews"]] = hackernews_api(Timeline(2))
    server.routes[PATHS["x"]] = x_api(Timeline(2))
    w = world(toml=TOPIC + feed("hackernews", "hackernews", topic="volcano", base_url=server.base)
              + feed("x", "x", topic="volcano", base_url=server.base, token_env="X_BEARER_TOKEN"))
    await w.poll_due()
    assert "volcano" in arg(server.requests_to(PATHS["hackernews"])[0], "query").lower()
    assert "volcano" in arg(server.requests_to(PATHS["x"])[0], "query").lower()


# --- errors: a refused credential waits; a rate limit waits until its reset ------------------------

ONE_OF_EACH: dict[str, Callable[[str], str]] = {
    "rss": lambda base: feed("rss", "rss", url=base + PATHS["rss"]),
    "mastodon": lambda base: feed("mastodon", "mastodon", hashtag="volcano", base_url=base),
    "bluesky": lambda base: feed("bluesky", "bluesky", actor="ann.example", base_url=base),
    "reddit": lambda base: feed("reddit", "reddit", subreddit="volcanoes", base_url=base),
    "hackernews": lambda base: feed("hackernews", "hackernews", topic="volcano", base_url=base),
    "x": lambda base: feed("x", "x", topic="volcano", base_url=base, token_env="X_BEARER_TOKEN"),
}


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_credential_is_a_clear_error_and_is_not_retried_soon(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    for path in PATHS.values():
        server.routes[path] = Reply(status, b'{"error": "Forbidden"}', JSON)
    w = world(toml=TOPIC + "".join(make(server.base) for make in ONE_OF_EACH.values()))
    await w.poll_due()
    for kind in PATHS:
        state = w.state(kind)
        assert state.last_status == status, kind
        assert f"HTTP {status}" in (state.last_error or ""), kind
        assert state.next_check is not None and state.next_check - w.now[0] >= timedelta(hours=1), kind
    assert "X_BEARER_TOKEN" in (w.state("x").last_error or ""), "the error says which credential was refused"

    for _ in range(12):  # an hour of ticks, five minutes apart
        w.advance(5 * 60)
        await w.poll_due()
    assert {kind: len(server.requests_to(path)) for kind, path in PATHS.items()} == dict.fromkeys(PATHS, 1)

    from monitor.commands import status as status_command

    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert status_command.run(_args(w, json=True)) == 0
    shown = {f["name"]: f for f in json.loads(capsys.readouterr().out)["feeds"]}
    assert {name: f["last_status"] for name, f in shown.items()} == dict.fromkeys(PATHS, status)
    assert all(f"HTTP {status}" in f["last_error"] for f in shown.values())
    assert X_TOKEN not in json.dumps(shown)


def _args(w: World, json: bool) -> argparse.Namespace:
    return argparse.Namespace(config=w.config_path, json=json)


async def test_x_without_a_token_says_which_variable_to_set_and_asks_nothing(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing token is a configuration error, not the server's fault (issue 10.11): it is not backed
    off in the database, not asked again by this daemon, and a restart with the variable set polls at once."""
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    server.routes[PATHS["x"]] = x_api(Timeline(3))
    toml = TOPIC + ONE_OF_EACH["x"](server.base)
    w = world(toml=toml)
    await w.poll_due()
    state = w.state("x")
    assert "X_BEARER_TOKEN" in (state.last_error or "")
    assert state.next_check is None, "no backoff stored for a configuration error"
    w.advance(6 * 3600)
    await w.poll_due()
    assert w.state("x").error_count == 1, "this daemon's environment will not change: it does not ask again"
    assert server.requests_to(PATHS["x"]) == []

    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    restarted = world(toml=toml, start=w.now[0])
    await restarted.poll_due()
    assert restarted.state("x").last_error is None and restarted.state("x").error_count == 0
    assert len(server.requests_to(PATHS["x"])) == 1, "re-checked as soon as the daemon starts"


RESET_SECONDS = 900


def _rate_limited(kind: str, now: datetime) -> dict[str, str]:
    """Each API's own way of saying "no calls left until ..." (RESET_SECONDS from `now`)."""
    reset_at = now + timedelta(seconds=RESET_SECONDS)
    return {
        "reddit": {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Used": "100", "X-Ratelimit-Reset": str(RESET_SECONDS)},
        "x": {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
              "x-rate-limit-reset": str(int(reset_at.timestamp()))},
        "bluesky": {"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(int(reset_at.timestamp())), "RateLimit-Policy": "3000;w=300"},
        "mastodon": {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                     "X-RateLimit-Reset": reset_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        "hackernews": {"RateLimit-Remaining": "0", "RateLimit-Reset": str(RESET_SECONDS)},
    }[kind]


@pytest.mark.parametrize("kind", ["reddit", "x", "bluesky", "mastodon", "hackernews"])
async def test_a_429_waits_until_the_rate_limit_resets(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    server.routes[PATHS[kind]] = Reply(429, b'{"error": "Too Many Requests"}', {**JSON, **_rate_limited(kind, T0)})
    w = world(toml=TOPIC + ONE_OF_EACH[kind](server.base).replace('interval = "5m"', 'interval = "1m"'))
    await w.poll_due()
    state = w.state(kind)
    reset = T0 + timedelta(seconds=RESET_SECONDS)
    assert state.last_status == 429 and "429" in (state.last_error or "")
    assert state.next_check is not None and state.next_check >= reset, (state.next_check, reset)
    while w.now[0] + timedelta(seconds=60) < reset:  # every minute (the feed's interval) until just before
        w.advance(60)
        await w.poll_due()
    assert len(server.requests_to(PATHS[kind])) == 1, "nothing asked before the reset"
    w.now[0] = state.next_check
    await w.poll_due()
    assert len(server.requests_to(PATHS[kind])) == 2, "asked again once the limit reset"


# --- secrets and the Bluesky session ---------------------------------------------------------------

@pytest.mark.parametrize("refusal", [
    (400, b'{"error": "ExpiredToken", "message": "Token has expired"}'),
    (401, b'{"error": "InvalidToken", "message": "Bad token"}'),
])
async def test_bluesky_refreshes_a_refused_token_within_the_same_poll(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch, refusal: tuple[int, bytes]
) -> None:
    monkeypatch.setenv("BSKY_PASSWORD", BSKY_PASSWORD)
    api = BlueskyLogin(refusal=refusal)
    server.routes[LOGIN_PATH], server.routes[SEARCH_PATH] = api.login, api.search
    server.routes[REFRESH_PATH] = api.refresh
    w = world(toml=TOPIC + feed("bsky", "bluesky", topic="volcano", base_url=server.base, handle="ann.example",
                                password_env="BSKY_PASSWORD"))
    await w.poll_due()
    assert api.logins == 1 and w.state("bsky").last_error is None
    assert len(w.store.posts()) == 3

    api.expired.add(jwt("access-1"))
    api.line.grow(2)
    w.advance(6 * 60)
    await w.poll_due()
    assert (api.refreshes, api.logins) == (1, 1), "refreshed, not logged in again"
    assert w.state("bsky").last_error is None and len(w.store.posts()) == 5
    searches = server.requests_to(SEARCH_PATH)
    assert searches[-1].headers["authorization"] == f"Bearer {jwt('access-r1')}"
    assert [arg(seen, "since") for seen in searches] == ["", iso(3), iso(3)], "only what is new, once refreshed"


async def test_bluesky_logs_in_again_when_the_refresh_is_refused_too(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_PASSWORD", BSKY_PASSWORD)
    api = BlueskyLogin()
    server.routes[LOGIN_PATH], server.routes[SEARCH_PATH] = api.login, api.search
    server.routes[REFRESH_PATH] = api.refresh
    w = world(toml=TOPIC + feed("bsky", "bluesky", topic="volcano", base_url=server.base, handle="ann.example",
                                password_env="BSKY_PASSWORD"))
    await w.poll_due()
    api.expired |= {jwt("access-1"), jwt("refresh-1")}
    api.line.grow(2)
    w.advance(6 * 60)
    await w.poll_due()
    assert (api.refreshes, api.logins) == (0, 2)
    assert w.state("bsky").last_error is None and len(w.store.posts()) == 5


async def test_secrets_never_reach_the_stored_state_or_the_log(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    monkeypatch.setenv("BSKY_PASSWORD", BSKY_PASSWORD)
    api = BlueskyLogin()
    server.routes[LOGIN_PATH], server.routes[SEARCH_PATH] = api.login, api.search
    # A hostile (or merely chatty) server that repeats the credential it was sent in its error.
    server.routes[PATHS["x"]] = lambda seen: Reply(
        200, json.dumps({"errors": [{"message": f"bad credential {seen.headers.get('authorization')}"}]}).encode(),
        JSON)
    w = world(toml=TOPIC + ONE_OF_EACH["x"](server.base) + feed(
        "bsky", "bluesky", topic="volcano", base_url=server.base, handle="ann.example", password_env="BSKY_PASSWORD"))
    await w.poll_due()
    api.expired.add(jwt("access-1"))
    w.advance(6 * 60)
    await w.poll_due()

    assert server.requests_to(PATHS["x"])[0].headers["authorization"] == f"Bearer {X_TOKEN}"
    assert "bad credential" in (w.state("x").last_error or "")
    states = repr([w.state("x"), w.state("bsky")])
    for secret in (X_TOKEN, BSKY_PASSWORD, jwt("access-1"), jwt("refresh-1")):
        assert secret not in states
        assert secret not in caplog.text


async def test_reddit_drops_an_anchor_that_was_deleted_and_catches_up(world: MakeWorld, server: FixtureServer) -> None:
    line = Timeline(3)
    server.routes[PATHS["reddit"]] = reddit_api(line)
    w = world(toml=TOPIC + ONE_OF_EACH["reddit"](server.base))
    await w.poll_due()
    assert w.state("reddit").cursor["before"] == "t3_3"
    line.items.remove(3)  # Reddit answers before=<a deleted post> with an empty listing, forever
    line.grow(2)
    for _ in range(8):
        w.advance(6 * 60)
        await w.poll_due()
    asked = [arg(seen, "before") for seen in server.requests_to(PATHS["reddit"])]
    assert asked[:2] == ["", "t3_3"] and "" in asked[2:], asked
    assert ids_by_source(w)["reddit"] == ["t3_1", "t3_2", "t3_3", "t3_4", "t3_5"]


async def test_a_mastodon_account_is_looked_up_once(world: MakeWorld, server: FixtureServer) -> None:
    line = Timeline(3)
    server.routes["/api/v1/accounts/lookup"] = Reply(200, b'{"id": "77", "acct": "ann@m.example"}', JSON)
    server.routes["/api/v1/accounts/77/statuses"] = mastodon_api(server.base, line)
    w = world(toml=TOPIC + feed("ann", "mastodon", account="@ann@m.example", base_url=server.base))
    await w.poll_due()
    line.grow(2)
    w.advance(6 * 60)
    await w.poll_due()
    assert [arg(seen, "acct") for seen in server.requests_to("/api/v1/accounts/lookup")] == ["ann@m.example"]
    assert [arg(seen, "since_id") for seen in server.requests_to("/api/v1/accounts/77/statuses")] == ["", "3"]
    assert ids_by_source(w) == {"ann": ["1", "2", "3", "4", "5"]}


async def test_a_success_that_spends_the_last_call_waits_for_the_reset(
    world: MakeWorld, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    search = x_api(Timeline(2))

    def last_call(seen: Seen) -> Reply:
        answer = search(seen)
        return Reply(answer.status, answer.body, {**answer.headers, **_rate_limited("x", T0)})

    server.routes[PATHS["x"]] = last_call
    w = world(toml=TOPIC + ONE_OF_EACH["x"](server.base))
    await w.poll_due()
    state = w.state("x")
    assert state.last_error is None and len(w.store.posts()) == 2
    assert state.next_check is not None and state.next_check >= T0 + timedelta(seconds=RESET_SECONDS)
