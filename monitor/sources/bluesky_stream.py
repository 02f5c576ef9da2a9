"""Bluesky live: every public post as it is made, from Jetstream (JSON over a WebSocket, no account).

The stream is asked for post records only (`wantedCollections=app.bsky.feed.post`); a frame is one
event: a `commit` (a post created or deleted), an `identity` (a handle changed) or an `account`.
Each frame carries `time_us`, the server's clock in microseconds: the cursor. After a restart or a
dropped connection the stream resumes a few seconds before the stored cursor, and the replayed
overlap is folded by the store (a post is stored once per feed and id).

Frames hold no handle, only the author's DID: the runner looks the handle up (`profiles_request`,
`authors`) for the posts that matched a topic, never for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

from monitor.pollerrors import NotConfigured
from monitor.sources import jsonapi as j
from monitor.sources.base import AuthorLookup, Frame, Live, Page, PollContext, Request, Response, SourceType
from monitor.sources.bluesky import embed_links, post_url, rich_text
from storage.types import Post

KIND = "bluesky-stream"
POST_KIND = "bluesky"  # a post from the stream is a Bluesky post, as the polled kind's are
DEFAULT_BASE = "wss://jetstream2.us-east.bsky.network"
PROFILES_BASE = "https://public.api.bsky.app"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
PROFILES_AT_ONCE = 25
"""getProfiles takes at most 25 actors."""
COLLECTION = "app.bsky.feed.post"
REWIND_US = 5_000_000
"""Resume this far before the stored cursor: events in flight when the connection dropped come again."""
MAX_FRAME = 64 * 1024
"""A post's record is a few kilobytes; the server is asked to skip anything larger (and what comes
anyway is skipped here and counted)."""

_MALFORMED = Frame("malformed")


def connect(ctx: PollContext) -> Request:
    """`{base_url}/subscribe?wantedCollections=app.bsky.feed.post`, from the cursor minus REWIND_US."""
    params = {"wantedCollections": COLLECTION, "maxMessageSizeBytes": str(MAX_FRAME)}
    stored = ctx.cursor.get("time_us", "")
    if stored.isdigit():
        params["cursor"] = str(max(int(stored) - REWIND_US, 0))
    base = ctx.options.get("base_url", "").rstrip("/") or DEFAULT_BASE
    return Request(f"{_websocket(base)}/subscribe?{urlencode(params)}")


def read(ctx: PollContext, data: str | bytes, event: str = "") -> Frame:
    """One Jetstream event → a Frame; anything that is not its documented shape is `malformed`."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return _MALFORMED
    time_us = document.get("time_us") if isinstance(document, dict) else None
    did = document.get("did") if isinstance(document, dict) else None
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us < 0 or not isinstance(did, str):
        return _MALFORMED
    position, at = str(time_us), j.from_epoch(time_us / 1e6)
    kind = document.get("kind")
    if kind == "identity":
        return Frame("identity", position, at, actor=did)
    commit = document.get("commit")
    if kind != "commit" or not isinstance(commit, dict):
        return Frame("other", position, at)
    if commit.get("collection") != COLLECTION:
        return Frame("other", position, at)  # a like or a follow: the server sends them if asked for all
    operation = commit.get("operation")
    if operation == "delete":
        return Frame("delete", position, at)
    if operation != "create":
        return Frame("other", position, at)  # an edit of a post record: what was stored stays
    post = to_post(ctx.feed_name, did, commit)
    return Frame("post", position, at, post) if post is not None else Frame("malformed", position, at)


def to_post(source: str, did: str, commit: Mapping[str, object]) -> Post | None:
    """A commit creating a post as a Post (its author the DID until the handle is known); None when
    the record is not a readable post."""
    record, rkey = commit.get("record"), commit.get("rkey")
    if not isinstance(record, dict) or not isinstance(rkey, str) or not rkey or not did.startswith("did:"):
        return None
    published = j.utc(j.text(record, "createdAt"))
    if published is None or not isinstance(record.get("text"), str):
        return None
    uri = f"at://{did}/{COLLECTION}/{rkey}"
    text = rich_text(record)
    embed = j.obj(record, "embed")
    links = [link for link in embed_links(embed) if link not in text]
    if quoted := _quoted_uri(embed):
        links.append(post_url(quoted, {}))
    langs = [lang for lang in j.arr(record, "langs") if isinstance(lang, str)]
    return Post(
        id=uri,
        source=source,
        author=did,
        url=post_url(uri, {}),
        text=j.tidy("\n\n".join([text, *dict.fromkeys(links)]) if links else text),
        published=published,
        kind=POST_KIND,
        lang=j.tidy(langs[0], one_line=True) if langs else "",
    )


def profiles_request(options: Mapping[str, str], dids: list[str]) -> Request:
    """One getProfiles call (of `profiles_url`, default the public AppView) for up to
    PROFILES_AT_ONCE DIDs; the actors repeat in the query."""
    base = options.get("profiles_url", "").rstrip("/") or PROFILES_BASE
    query = urlencode([("actors", did) for did in dids[:PROFILES_AT_ONCE]])
    return Request(f"{base}{PROFILES}?{query}", conditional=False)


def authors(response: Response) -> dict[str, str]:
    """DID → "Display Name (@handle)" for each profile in a getProfiles answer (as the polled
    kind shows authors); an answer that is not one gives nothing."""
    try:
        document = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    found = {}
    for profile in j.dicts(j.arr(document, "profiles")):
        did, handle = j.text(profile, "did"), j.text(profile, "handle")
        if did and handle and handle != "handle.invalid":
            found[did] = j.person(j.text(profile, "displayName"), handle)
    return found


def first_request(ctx: PollContext) -> Request:
    """Jetstream replays from the cursor itself: there is nothing to poll."""
    raise NotConfigured("a bluesky-stream feed is read live by `monitor run`, never polled")


def parse(ctx: PollContext, response: Response) -> Page:
    return Page()


def _quoted_uri(embed: j.JSON) -> str:
    """The post a quote embeds (a record or recordWithMedia embed's strong reference)."""
    record = j.obj(embed, "record")
    if "record" in record:  # recordWithMedia nests the reference one level deeper
        record = j.obj(record, "record")
    uri = j.text(record, "uri")
    return uri if uri.startswith("at://") and f"/{COLLECTION}/" in uri else ""


def _websocket(base: str) -> str:
    """http(s) bases are taken as the WebSocket they upgrade to."""
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://")
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://")
    return base


TYPE = SourceType(
    KIND,
    selects=(),
    urls=("profiles_url",),
    sockets=("base_url",),
    live=Live("websocket", connect, read, cursor_key="time_us", idle=30.0, max_frame=MAX_FRAME,
              authors=AuthorLookup(profiles_request, authors, PROFILES_AT_ONCE)),
)
