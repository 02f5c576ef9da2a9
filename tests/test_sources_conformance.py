"""Every recorded real API response in ../shared/data/api, served over 127.0.0.1 and parsed.

Expected values are read from the recorded files themselves; the test skips where ../shared is absent.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from monitor.sources import bluesky, hackernews, mastodon, reddit, x
from monitor.sources.base import PollContext, Response
from monitor.sources.jsonapi import parse_link_header
from tests.support.server import FixtureServer, Reply

TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def manifest(shared: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((shared / "data/api/MANIFEST.json").read_text())
    return entries


def serve_and_fetch(server: FixtureServer, shared: Path, entry: dict[str, Any], extra: str = "") -> Response:
    """Serve the recorded body at its original path and fetch it back with plain httpx."""
    original = urlsplit(entry["url"])
    headers = {"Content-Type": entry["content_type"]}
    if entry["link"]:
        headers["Link"] = entry["link"]
    server.routes[original.path] = Reply(entry["status"], (shared / "data" / entry["file"]).read_bytes(), headers)
    query = "&".join(q for q in (original.query, extra) if q)
    got = httpx.get(server.url(original.path + ("?" + query if query else "")))
    return Response(str(got.url), got.status_code, {k.lower(): v for k, v in got.headers.items()}, got.content)


def iso(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def entries_of(shared: Path, folder: str) -> list[dict[str, Any]]:
    found = [e for e in manifest(shared) if e["file"].startswith(f"api/{folder}/")]
    assert found, f"no recorded {folder} responses in MANIFEST.json"
    return found


def test_every_recorded_file_is_listed_in_the_manifest(shared: Path) -> None:
    listed = {e["file"] for e in manifest(shared)}
    on_disk = {str(p.relative_to(shared / "data")) for p in (shared / "data/api").rglob("*.json")}
    assert on_disk - {"api/MANIFEST.json"} <= listed


# ---------------------------------------------------------------- Mastodon


def check_status(post: Any, status: dict[str, Any]) -> None:
    original = status["reblog"] or status
    assert post.id == original["id"]
    assert post.url == original["url"]
    assert post.published == iso(original["created_at"])
    assert post.published.tzinfo is UTC
    assert post.author.endswith(f"@{original['account']['acct']})") or post.author == f"@{original['account']['acct']}"
    assert post.lang == (original["language"] or "")
    assert post.kind == "mastodon"
    assert not TAG.search(post.text) and "&#39;" not in post.text and "&amp;" not in post.text
    for href in re.findall(r'href="(https?://[^"]+)"', original["content"]):
        if "mention" not in original["content"].split(href)[1][:40]:  # links, not @mention profile links
            assert href in post.text


def test_mastodon_timelines_and_search(server: FixtureServer, shared: Path) -> None:
    for entry in entries_of(shared, "mastodon"):
        document = json.loads((shared / "data" / entry["file"]).read_text())
        response = serve_and_fetch(server, shared, entry)
        if isinstance(document, dict) and "id" in document:  # a single status
            post = mastodon.to_post("m", document)
            assert post is not None
            check_status(post, document)
            continue
        search = isinstance(document, dict)
        options = {"topic": "t"} if search else {"hashtag": "hoot"}
        page = mastodon.parse(PollContext("m", options, secrets={"token": "tok"}), response)
        statuses = document["statuses"] if search else document
        assert [p.id for p in page.posts] == [(s["reblog"] or s)["id"] for s in statuses]
        for post, status in zip(page.posts, statuses, strict=True):
            check_status(post, status)
            assert post.source == "m"
        assert page.cursor["since_id"] == max((s["id"] for s in statuses), key=int)


def test_mastodon_follows_the_recorded_link_header_when_a_page_is_full(server: FixtureServer, shared: Path) -> None:
    for entry in (e for e in entries_of(shared, "mastodon") if e["link"]):
        count = len(json.loads((shared / "data" / entry["file"]).read_text()))
        response = serve_and_fetch(server, shared, entry, extra=f"limit={count}")
        page = mastodon.parse(PollContext("m", {"hashtag": "hoot"}), response)
        older = parse_link_header(entry["link"])["next"]
        assert page.next is not None
        assert page.next.url == older.split("?")[0]
        assert page.next.params["max_id"] == older.split("max_id=")[1]


# ---------------------------------------------------------------- Bluesky


def check_bluesky(post: Any, view: dict[str, Any]) -> None:
    record: dict[str, Any] = view["record"] if "text" in view.get("record", {}) else view.get("value", {})
    handle, name = view["author"]["handle"], " ".join(view["author"].get("displayName", "").split())
    assert post.id == view["uri"]
    assert post.url == f"https://bsky.app/profile/{handle}/post/{view['uri'].rsplit('/', 1)[1]}"
    assert post.author == (f"{name} (@{handle})" if name else f"@{handle}")
    assert post.published == iso(record["createdAt"])
    assert post.lang == (record.get("langs") or [""])[0]
    for facet in record.get("facets", []):
        for feature in facet["features"]:
            if feature["$type"].endswith("#link"):
                assert feature["uri"] in post.text
            if feature["$type"].endswith("#tag"):
                assert "#" + feature["tag"] in post.text


def test_bluesky_author_feed_and_search(server: FixtureServer, shared: Path) -> None:
    by_file = {e["file"].rsplit("/", 1)[1]: e for e in entries_of(shared, "bluesky")}
    feed_doc = json.loads((shared / "data/api/bluesky/getAuthorFeed.json").read_text())
    page = bluesky.parse(
        PollContext("b", {"actor": "a"}), serve_and_fetch(server, shared, by_file["getAuthorFeed.json"])
    )
    posts = {p.id: p for p in page.posts}
    for item in feed_doc["feed"]:  # reposts are their original: the post view is the original's
        check_bluesky(posts[item["post"]["uri"]], item["post"])
    assert page.next is not None and page.next.params["cursor"] == feed_doc["cursor"]
    reposts = [i for i in feed_doc["feed"] if "reason" in i]
    assert reposts and all(
        posts[i["post"]["uri"]].author.endswith(f"(@{i['post']['author']['handle']})") for i in reposts
    )

    search_doc = json.loads((shared / "data/api/bluesky/searchPosts.json").read_text())
    ctx = PollContext("b", {"topic": "t"}, session={"accessJwt": "jwt"}, query="redistricting")
    page = bluesky.parse(ctx, serve_and_fetch(server, shared, by_file["searchPosts.json"]))
    posts = {p.id: p for p in page.posts}
    for view in search_doc["posts"]:
        check_bluesky(posts[view["uri"]], view)
    assert page.next is not None and page.next.params["cursor"] == search_doc["cursor"]
    assert page.next.headers["Authorization"] == "Bearer jwt" and "jwt" not in json.dumps(page.cursor)


def test_bluesky_quotes_bring_their_original_along(server: FixtureServer, shared: Path) -> None:
    feed_doc = json.loads((shared / "data/api/bluesky/getAuthorFeed.json").read_text())
    entry = next(e for e in entries_of(shared, "bluesky") if e["file"].endswith("getAuthorFeed.json"))
    posts = {
        p.id: p for p in bluesky.parse(PollContext("b", {"actor": "a"}), serve_and_fetch(server, shared, entry)).posts
    }
    quotes = [
        i["post"] for i in feed_doc["feed"] if i["post"].get("embed", {}).get("$type") == "app.bsky.embed.record#view"
    ]
    assert quotes
    for quote in quotes:
        original = quote["embed"]["record"]
        check_bluesky(posts[original["uri"]], original)
        assert posts[original["uri"]].url in posts[quote["uri"]].text


def test_bluesky_single_post_views(server: FixtureServer, shared: Path) -> None:
    for entry in entries_of(shared, "bluesky"):
        document = json.loads((shared / "data" / entry["file"]).read_text())
        response = serve_and_fetch(server, shared, entry)
        views = document.get("posts") or ([document["thread"]["post"]] if "thread" in document else [])
        if "getPost" not in entry["file"]:
            continue
        assert views and json.loads(response.body) == document
        for view in views:
            post = bluesky.to_post("b", view)
            assert post is not None
            check_bluesky(post, view)


# ---------------------------------------------------------------- Reddit


def test_reddit_listing_and_search(server: FixtureServer, shared: Path) -> None:
    for entry in entries_of(shared, "reddit"):
        document = json.loads((shared / "data" / entry["file"]).read_text())
        ctx = PollContext("r", {"subreddit": "askreddit"} if "new" in entry["url"] else {"topic": "t"})
        page = reddit.parse(ctx, serve_and_fetch(server, shared, entry))
        items = [c["data"] for c in document["data"]["children"]]
        assert [p.id for p in page.posts] == [i["name"] for i in items]
        for post, item in zip(page.posts, items, strict=True):
            assert post.url == "https://www.reddit.com" + item["permalink"].split("?")[0]
            assert post.author == f"u/{item['author']}"
            assert post.title == " ".join(item["title"].split())
            assert post.text.startswith(post.title)
            assert post.published == datetime.fromtimestamp(item["created_utc"], UTC)
            assert not TAG.search(post.text) or "<" in item["selftext"]  # markdown may quote code with '<'
        assert page.cursor["before"] == items[0]["name"]
        after = document["data"]["after"]
        full = len(items) >= int(dict(p.split("=") for p in urlsplit(entry["url"]).query.split("&"))["limit"])
        if after and full:
            assert page.next is not None and page.next.params["after"] == after
        else:
            assert page.next is None


# ---------------------------------------------------------------- X


def test_x_recent_search(server: FixtureServer, shared: Path) -> None:
    for entry in entries_of(shared, "x"):
        document = json.loads((shared / "data" / entry["file"]).read_text())
        ctx = PollContext("x", {"topic": "t", "token_env": "X_TOKEN"}, secrets={"token": "s3cret"}, query="#q")
        page = x.parse(ctx, serve_and_fetch(server, shared, entry))
        posts = {p.id: p for p in page.posts}
        users = {u["id"]: u for u in document["includes"]["users"]}
        included = {t["id"]: t for t in document["includes"].get("tweets", [])}
        for tweet in document["data"]:
            refs = {r["type"]: r["id"] for r in tweet.get("referenced_tweets", [])}
            shown = included.get(refs.get("retweeted", ""), tweet)
            post = posts[shown["id"]]
            user = users.get(shown["author_id"])
            if user:
                assert post.author.endswith(f"(@{user['username']})") or post.author == f"@{user['username']}"
                assert post.url == f"https://x.com/{user['username']}/status/{shown['id']}"
            assert post.published == iso(shown["created_at"])
            assert "&amp;" not in post.text and "&gt;" not in post.text
            for link in shown.get("entities", {}).get("urls", []):
                assert link["expanded_url"] in post.text
            assert not post.text.startswith("RT @")
        assert page.cursor == {"since_id": document["meta"]["newest_id"]}
        assert page.next is not None and page.next.params["next_token"] == document["meta"]["next_token"]
        assert page.next.params["query"] == urlsplit(entry["url"]).query.split("query=")[1].split("&")[0].replace(
            "%23", "#"
        )


# ---------------------------------------------------------------- Hacker News


def test_hackernews_search_pages(server: FixtureServer, shared: Path) -> None:
    for entry in entries_of(shared, "hn"):
        document = json.loads((shared / "data" / entry["file"]).read_text())
        page = hackernews.parse(PollContext("h", {"topic": "t"}, query="apple"), serve_and_fetch(server, shared, entry))
        assert [p.id for p in page.posts] == [h["objectID"] for h in document["hits"]]
        for post, hit in zip(page.posts, document["hits"], strict=True):
            assert post.url == f"https://news.ycombinator.com/item?id={hit['objectID']}"
            assert post.author == hit["author"]
            assert post.published == datetime.fromtimestamp(hit["created_at_i"], UTC) == iso(hit["created_at"])
            assert post.title == " ".join((hit["title"] or hit["story_title"] or "").split())
            assert not TAG.search(post.text) and "&#x27;" not in post.text
        assert page.cursor["created_at_i"] == str(max(h["created_at_i"] for h in document["hits"]))
        if document["page"] + 1 < document["nbPages"]:
            assert page.next is not None and page.next.params["page"] == str(document["page"] + 1)
        else:
            assert page.next is None
