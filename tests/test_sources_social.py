"""Social sources on small hand-written fixtures in the real shapes (tests/fixtures/api): run anywhere."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.pollerrors import FeedError, NotConfigured
from monitor.sources import bluesky, hackernews, mastodon, reddit, x
from monitor.sources.base import PollContext, Response

FIXTURES = Path(__file__).parent / "fixtures" / "api"


def reply(url: str, name: str, headers: dict[str, str] | None = None) -> Response:
    return Response(url, 200, headers or {}, (FIXTURES / name).read_bytes())


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(UTC)


def test_social_sources_import_no_io_libraries() -> None:
    code = (
        "import sys; import monitor.sources.mastodon, monitor.sources.bluesky, monitor.sources.reddit,"
        " monitor.sources.hackernews, monitor.sources.x;"
        " print(sorted(m for m in ('httpx', 'sqlalchemy', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- Mastodon


def test_mastodon_asks_only_for_statuses_after_the_newest_seen() -> None:
    first = mastodon.first_request(PollContext("m", {"hashtag": "#Dam Break", "base_url": "https://s.example/"}))
    assert first.url == "https://s.example/api/v1/timelines/tag/Dam%20Break"
    assert "since_id" not in first.params
    again = mastodon.first_request(PollContext("m", {"hashtag": "dam"}, cursor={"since_id": "300"}))
    assert again.url == "https://mastodon.social/api/v1/timelines/tag/dam"
    assert again.params["since_id"] == "300"


def test_mastodon_folds_boosts_and_reads_html_as_text() -> None:
    page = mastodon.parse(
        PollContext("feed", {"hashtag": "dam"}),
        reply("https://s.example/api/v1/timelines/tag/dam", "mastodon_tag.json"),
    )
    boosted, plain = page.posts
    assert boosted.id == "250" and boosted.author == "Ann (@ann@other.example)"
    assert boosted.url == "https://other.example/@ann/250" and boosted.lang == "fr"
    assert boosted.text == "Le barrage & la crue https://news.example/a"
    assert boosted.published == datetime(2024, 5, 1, 9, 0, tzinfo=UTC) and boosted.source == "feed"
    assert plain.text == "flood\n\nWater\nrising" and plain.author == "@cy"
    assert plain.published == datetime(2024, 5, 1, 7, 59, tzinfo=UTC) and plain.lang == ""
    assert page.cursor == {"since_id": "300"}
    assert page.next is None  # 3 statuses, fewer than the default page of 20


def test_mastodon_full_page_follows_link_next_and_keeps_the_bound() -> None:
    link = (
        '<https://s.example/api/v1/timelines/tag/dam?max_id=299>; rel="next", '
        '<https://s.example/x?min_id=300>; rel="prev"'
    )
    url = "https://s.example/api/v1/timelines/tag/dam?limit=3&since_id=100"
    page = mastodon.parse(
        PollContext("m", {"hashtag": "dam"}, cursor={"since_id": "100"}),
        reply(url, "mastodon_tag.json", {"link": link}),
    )
    assert page.next is not None
    assert page.next.url == "https://s.example/api/v1/timelines/tag/dam"
    assert dict(page.next.params) == {"max_id": "299", "since_id": "100"}
    # The next page answers a request bounded by since_id=100: the cursor must not go back.
    older = mastodon.parse(PollContext("m", {"hashtag": "dam"}, cursor=page.cursor), reply(url, "mastodon_tag.json"))
    assert older.cursor["since_id"] == "300"


def test_mastodon_account_is_looked_up_once_then_cached_in_the_cursor() -> None:
    ctx = PollContext("m", {"account": "@ann@other.example"})
    lookup = mastodon.first_request(ctx)
    assert lookup.url == "https://other.example/api/v1/accounts/lookup" and lookup.params == {"acct": "ann"}
    page = mastodon.parse(ctx, Response(lookup.url + "?acct=ann", 200, {}, b'{"id": "9", "acct": "ann"}'))
    assert page.cursor == {"account": "ann@other.example", "account_id": "9"}
    assert page.next is not None and page.next.url == "https://other.example/api/v1/accounts/9/statuses"
    later = mastodon.first_request(PollContext("m", ctx.options, cursor={**page.cursor, "since_id": "5"}))
    assert later.url == "https://other.example/api/v1/accounts/9/statuses" and later.params["since_id"] == "5"


def test_mastodon_search_needs_a_token_and_sends_it() -> None:
    with pytest.raises(NotConfigured, match="set the environment variable MASTO_TOKEN"):
        mastodon.first_request(PollContext("m", {"topic": "t", "token_env": "MASTO_TOKEN"}, query="dam"))
    ctx = PollContext("m", {"topic": "t"}, secrets={"token": "tok"}, query="dam OR flood", cursor={"since_id": "7"})
    request = mastodon.first_request(ctx)
    assert request.url.endswith("/api/v2/search") and request.headers["Authorization"] == "Bearer tok"
    assert request.params["q"] == "dam OR flood" and request.params["type"] == "statuses"
    assert request.params["min_id"] == "7"


def test_mastodon_error_body_is_one_clear_line_without_the_token() -> None:
    body = b'{"error": "The access token is invalid: tok-123"}'
    ctx = PollContext("m", {"topic": "t"}, secrets={"token": "tok-123"})
    with pytest.raises(FeedError) as caught:
        mastodon.parse(ctx, Response("https://s.example/api/v2/search", 200, {}, body))
    assert str(caught.value) == "Mastodon search: The access token is invalid: [redacted]"
    with pytest.raises(FeedError, match="not JSON"):
        mastodon.parse(ctx, Response("https://s.example/api/v2/search", 200, {}, b"<html>down</html>"))


# ---------------------------------------------------------------- Bluesky


def test_bluesky_feed_maps_reposts_and_quotes_and_expands_links() -> None:
    ctx = PollContext("b", {"actor": "@ann.bsky.social"})
    request = bluesky.first_request(ctx)
    assert request.url == "https://public.api.bsky.app/xrpc/app.bsky.feed.getAuthorFeed"
    assert request.params["actor"] == "ann.bsky.social" and "cursor" not in request.params
    page = bluesky.parse(ctx, reply(request.url + "?actor=ann.bsky.social", "bluesky_feed.json"))
    posts = {p.url: p for p in page.posts}
    first = posts["https://bsky.app/profile/ann.bsky.social/post/aaa"]
    assert first.text == "Dam news: https://example.com/long/path and more"
    assert first.author == "Ann (@ann.bsky.social)" and first.lang == "en"
    assert first.published == datetime(2024, 5, 1, 9, 59, 59, tzinfo=UTC)
    reposted = posts["https://bsky.app/profile/did:plc:old/post/bbb"]  # handle.invalid → the DID
    assert reposted.text == "an old post, reposted" and reposted.author == "@handle.invalid"
    quote = posts["https://bsky.app/profile/ann.bsky.social/post/ccc"]
    assert quote.text == "quoting this\n\nhttps://bsky.app/profile/zed.example.com/post/zzz"
    assert posts["https://bsky.app/profile/zed.example.com/post/zzz"].author == "Zed (@zed.example.com)"
    assert page.cursor["newest"] == "2024-05-01T10:00:00.000Z"
    assert page.next is not None and page.next.params["cursor"] == "2024-05-01T08:00:00.000Z"


def test_bluesky_feed_stops_paging_at_the_newest_post_already_seen() -> None:
    seen = {"newest": "2024-05-01T09:15:00.000Z"}
    ctx = PollContext("b", {"actor": "ann.bsky.social"}, cursor=seen)
    page = bluesky.parse(ctx, reply("https://p.example/xrpc/app.bsky.feed.getAuthorFeed?actor=a", "bluesky_feed.json"))
    # The repost entered the feed at 09:30 (after what was seen) though the post itself is old.
    assert sorted(p.url.rsplit("/", 1)[1] for p in page.posts) == ["aaa", "bbb"]
    assert page.next is None
    assert page.cursor == {"newest": "2024-05-01T10:00:00.000Z", "bound": "2024-05-01T09:15:00.000Z"}
    # A second page of the same poll compares with the bound, not with the cursor page one moved.
    url = "https://p.example/xrpc/app.bsky.feed.getAuthorFeed?actor=a&cursor=c"
    second = bluesky.parse(PollContext("b", ctx.options, cursor=page.cursor), reply(url, "bluesky_feed.json"))
    assert len(second.posts) == 2


def _jwt(exp: int) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"e30.{claims}.sig"


def test_bluesky_search_logs_in_then_searches_then_refreshes() -> None:
    options = {"topic": "t", "handle": "me.bsky.social", "password_env": "BSKY_PASSWORD"}
    ctx = PollContext("b", options, secrets={"password": "app-pass"}, query="dam")
    login = bluesky.first_request(ctx)
    assert login.method == "POST" and login.url == "https://bsky.social/xrpc/com.atproto.server.createSession"
    assert login.json == {"identifier": "me.bsky.social", "password": "app-pass"} and not login.conditional
    access, refresh = _jwt(1_714_560_000), _jwt(1_722_000_000)
    body = json.dumps({"accessJwt": access, "refreshJwt": refresh, "did": "did:plc:me"}).encode()
    page = bluesky.parse(ctx, Response(login.url, 200, {}, body))
    assert page.session["accessJwt"] == access and "accessJwt" not in page.cursor
    assert page.next is not None and page.next.headers["Authorization"] == f"Bearer {access}"
    assert page.next.params["q"] == "dam" and page.next.params["sort"] == "latest"

    live = PollContext(
        "b", options, secrets=ctx.secrets, query="dam", session=page.session, cursor={"newest": "2024-05-01T00:00:00Z"}
    )
    search = bluesky.first_request(replace(live, now=datetime(2024, 5, 1, 10, 0, tzinfo=UTC)))
    assert search.url.endswith("app.bsky.feed.searchPosts") and search.params["since"] == "2024-05-01T00:00:00Z"
    refreshing = bluesky.first_request(replace(live, now=datetime(2024, 5, 2, tzinfo=UTC)))
    assert refreshing.url.endswith("com.atproto.server.refreshSession")
    assert refreshing.headers["Authorization"] == f"Bearer {refresh}"


def test_bluesky_expired_token_answer_leads_to_a_refresh_and_errors_hide_secrets() -> None:
    session = {"accessJwt": "acc-1", "refreshJwt": "ref-1"}
    ctx = PollContext("b", {"topic": "t", "handle": "me"}, session=session, secrets={"password": "pw-1"})
    expired = Response(
        "https://bsky.social/xrpc/app.bsky.feed.searchPosts?q=x",
        400,
        {},
        b'{"error":"ExpiredToken","message":"Token has expired"}',
    )
    page = bluesky.parse(ctx, expired)
    assert page.next is not None and page.next.url.endswith("refreshSession") and page.session["accessJwt"] == ""
    refused = Response(
        "https://bsky.social/xrpc/com.atproto.server.createSession",
        401,
        {},
        b'{"error":"AuthenticationRequired","message":"Invalid identifier or password pw-1"}',
    )
    with pytest.raises(FeedError) as caught:
        bluesky.parse(ctx, refused)
    assert str(caught.value) == "Bluesky login: AuthenticationRequired: Invalid identifier or password [redacted]"


def test_bluesky_search_without_a_login_says_what_to_set() -> None:
    with pytest.raises(NotConfigured, match="BSKY_PASSWORD"):
        bluesky.first_request(PollContext("b", {"topic": "t", "handle": "me", "password_env": "BSKY_PASSWORD"}))


# ---------------------------------------------------------------- Reddit


def test_reddit_first_poll_reads_newest_and_reads_back_through_after() -> None:
    ctx = PollContext("r", {"subreddit": "r/news"})
    request = reddit.first_request(ctx)
    assert request.url == "https://www.reddit.com/r/news/new.json" and "before" not in request.params
    assert "monitor" in request.headers["User-Agent"]
    page = reddit.parse(ctx, reply("https://www.reddit.com/r/news/new.json?limit=2&raw_json=1", "reddit_new.json"))
    link, self_post = page.posts
    assert link.id == "t3_c" and link.author == "u/ann" and link.title == "Dam breaks"
    assert link.text == "Dam breaks\n\nhttps://news.example/dam"
    assert link.url == "https://www.reddit.com/r/news/comments/c/dam_breaks/"
    assert link.published == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert self_post.text == "Self post\n\nBody & more" and self_post.url.endswith("/b/self_post/")
    assert page.cursor["before"] == "t3_c"
    assert page.next is not None and page.next.params["after"] == "t3_b"
    # Reading back keeps the anchor where the newest page put it.
    back = reddit.parse(
        PollContext("r", ctx.options, cursor=page.cursor),
        reply("https://www.reddit.com/r/news/new.json?limit=2&after=t3_b", "reddit_new.json"),
    )
    assert back.cursor["before"] == "t3_c"


def test_reddit_later_polls_ask_for_what_came_before_the_anchor() -> None:
    ctx = PollContext("r", {"topic": "t"}, query="dam", cursor={"before": "t3_a", "created": "1714550000.0"})
    request = reddit.first_request(ctx)
    assert request.url == "https://www.reddit.com/search.json"
    assert request.params["before"] == "t3_a" and request.params["sort"] == "new" and request.params["q"] == "dam"
    page = reddit.parse(ctx, reply("https://www.reddit.com/search.json?q=dam&limit=2&before=t3_a", "reddit_new.json"))
    assert page.cursor["before"] == "t3_c"
    assert page.next is not None and page.next.params["before"] == "t3_c"  # the page was full: more may be newer


def test_reddit_quiet_anchor_is_dropped_after_a_few_empty_polls() -> None:
    empty = b'{"kind": "Listing", "data": {"children": [], "after": null, "before": null}}'
    cursor = {"before": "t3_gone", "created": "1714555000.0"}
    for _ in range(reddit.EMPTY_POLLS_BEFORE_RESET):
        request = reddit.first_request(PollContext("r", {"subreddit": "news"}, cursor=cursor))
        assert request.params["before"] == "t3_gone"
        cursor = dict(
            reddit.parse(
                PollContext("r", {"subreddit": "news"}, cursor=cursor),
                Response(request.url + "?before=t3_gone", 200, {}, empty),
            ).cursor
        )
    reset = reddit.first_request(PollContext("r", {"subreddit": "news"}, cursor=cursor))
    assert "before" not in reset.params
    page = reddit.parse(
        PollContext("r", {"subreddit": "news"}, cursor=cursor), reply(reset.url + "?limit=100", "reddit_new.json")
    )
    assert [p.id for p in page.posts] == ["t3_c"]  # t3_b is older than what was seen
    assert page.cursor["before"] == "t3_c" and page.cursor["quiet"] == "0" and page.next is None


# ---------------------------------------------------------------- Hacker News


def test_hackernews_asks_since_the_last_poll_and_pages() -> None:
    request = hackernews.first_request(
        PollContext("h", {"topic": "t"}, query='"dam break"', cursor={"created_at_i": "1714550000"})
    )
    assert request.url == "https://hn.algolia.com/api/v1/search_by_date"
    assert request.params["numericFilters"] == "created_at_i>1714550000" and request.params["tags"] == "(story,comment)"
    assert request.params["query"] == '"dam break"'
    ctx = PollContext("h", {"topic": "t"}, query="dam", cursor={"created_at_i": "1714550000"})
    page = hackernews.parse(
        ctx,
        reply(
            "https://hn.algolia.com/api/v1/search_by_date?query=dam&numericFilters=created_at_i%3E1714550000",
            "hn_search.json",
        ),
    )
    story, comment = page.posts
    assert (
        story.url == "https://news.ycombinator.com/item?id=42"
        and story.text == "Dam breaks\n\nhttps://news.example/dam"
    )
    assert (
        comment.text == "Re: Dam breaks\n\nIt's bad\nreally"
        and comment.title == "Dam breaks"
        and comment.author == "dang"
    )
    assert page.cursor == {"created_at_i": "1714557600"}
    assert page.next is not None and page.next.params["page"] == "1"
    assert page.next.params["numericFilters"] == "created_at_i>1714550000"


def test_hackernews_drops_hits_not_after_the_bound() -> None:
    ctx = PollContext("h", {"topic": "t"}, cursor={"created_at_i": "1714554000"})
    url = "https://hn.algolia.com/api/v1/search_by_date?numericFilters=created_at_i%3E1714554000"
    assert [p.id for p in hackernews.parse(ctx, reply(url, "hn_search.json")).posts] == ["42"]


# ---------------------------------------------------------------- X


def test_x_needs_a_token_and_names_the_variable() -> None:
    with pytest.raises(NotConfigured) as caught:
        x.first_request(PollContext("x", {"topic": "t", "token_env": "X_BEARER_TOKEN"}, query="dam"))
    assert str(caught.value) == "X needs a bearer token: set the environment variable X_BEARER_TOKEN"


def test_x_search_folds_retweets_expands_links_and_pages() -> None:
    ctx = PollContext(
        "x", {"topic": "t"}, secrets={"token": "bearer-1"}, query="dam -is:retweet", cursor={"since_id": "999"}
    )
    request = x.first_request(ctx)
    assert (
        request.url == "https://api.x.com/2/tweets/search/recent"
        and request.headers["Authorization"] == "Bearer bearer-1"
    )
    assert request.params["since_id"] == "999" and "author_id" in request.params["expansions"]
    page = x.parse(ctx, reply("https://api.x.com/2/tweets/search/recent?query=dam&since_id=999", "x_search.json"))
    original, linked = page.posts
    assert original.id == "900" and original.author == "Ann (@ann)" and original.text == "The dam & the flood, in full"
    assert original.url == "https://x.com/ann/status/900" and original.published == datetime(
        2024, 5, 1, 8, 0, tzinfo=UTC
    )
    assert linked.text == "Look https://news.example/dam" and linked.author == "@cy" and linked.lang == ""
    assert page.cursor == {"since_id": "1002"} and "bearer-1" not in json.dumps(page.cursor)
    assert page.next is not None and page.next.params["next_token"] == "tok2" and page.next.params["since_id"] == "999"


def test_x_error_body_names_the_reason() -> None:
    body = b'{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}'
    with pytest.raises(FeedError, match=r"^X search: Unauthorized$"):
        x.parse(PollContext("x", {"topic": "t"}), Response("https://api.x.com/2/tweets/search/recent", 200, {}, body))
