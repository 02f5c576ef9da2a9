"""Mastodon live: a server's streaming API (server-sent events) for a hashtag or its public timeline.

`hashtag = "…"` streams the tag (`/api/v1/streaming/hashtag?tag=…`); `timeline = "public"` or
`"local"` streams the server's public timeline where it allows that (many ask for a token:
`token_env`). Each `update` event is a status, read as the polled kind reads one. The cursor is
the newest status id seen; after a gap (a restart, a dropped connection) what was missed is fetched
once through the REST API with `since_id`, as the polled kind fetches (`first_request`, `parse`).
"""

from __future__ import annotations

import json

from monitor.pollerrors import NotConfigured
from monitor.sources import jsonapi as j
from monitor.sources import mastodon
from monitor.sources.base import Frame, Live, Page, PollContext, Request, Response, SourceType

KIND = "mastodon-stream"
STREAMS = {"public": "/api/v1/streaming/public", "local": "/api/v1/streaming/public/local"}
MAX_EVENT = 256 * 1024
"""A status with a long poll and many mentions is tens of kilobytes; larger is skipped and counted."""

_MALFORMED = Frame("malformed")


def connect(ctx: PollContext) -> Request:
    base = (ctx.options.get("streaming_url") or ctx.options.get("base_url") or mastodon.DEFAULT_BASE).rstrip("/")
    headers = {"Accept": "text/event-stream", **_auth(ctx)}
    if "hashtag" in ctx.options:
        return Request(f"{base}/api/v1/streaming/hashtag", {"tag": _tag(ctx)}, headers, conditional=False)
    return Request(base + STREAMS[_timeline(ctx)], {}, headers, conditional=False)


def read(ctx: PollContext, data: str | bytes, event: str = "") -> Frame:
    """One event: `update` is a status (a boost is the status it boosts); `delete`, `status.update`
    (an edit) and the rest are only counted."""
    if event == "delete":
        return Frame("delete")
    if event != "update":
        return Frame("other")
    try:
        status = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return _MALFORMED
    if not isinstance(status, dict):
        return _MALFORMED
    position = j.text(status, "id")
    post = mastodon.to_post(ctx.feed_name, j.obj(status, "reblog") or status)
    if post is None or not position:
        return _MALFORMED
    return Frame("post", position, post.published, post)


def first_request(ctx: PollContext) -> Request:
    """The REST timeline of the same posts, newer than the cursor's `since_id`: what a gap missed."""
    if "hashtag" in ctx.options:
        return mastodon.first_request(ctx)
    params = {"limit": str(mastodon.LIMIT)}
    if _timeline(ctx) == "local":
        params["local"] = "true"
    if since := ctx.cursor.get("since_id", ""):
        params["since_id"] = since
    base = (ctx.options.get("base_url") or mastodon.DEFAULT_BASE).rstrip("/")
    return Request(base + "/api/v1/timelines/public", params, _auth(ctx))


def parse(ctx: PollContext, response: Response) -> Page:
    return mastodon.parse(ctx, response)


def _tag(ctx: PollContext) -> str:
    return ctx.options["hashtag"].strip().lstrip("#")


def _timeline(ctx: PollContext) -> str:
    timeline = ctx.options.get("timeline", "").strip().lower()
    if timeline not in STREAMS:
        raise NotConfigured(f'timeline = "{j.tidy(timeline, one_line=True)[:40]}": one of "public", "local"')
    return timeline


def _auth(ctx: PollContext) -> dict[str, str]:
    token = ctx.secrets.get("token", "")
    return {"Authorization": f"Bearer {token}"} if token else {}


TYPE = SourceType(
    KIND,
    selects=("hashtag", "timeline"),
    urls=("base_url", "streaming_url"),
    secrets={"token": "token_env"},
    live=Live("sse", connect, read, cursor_key="since_id", idle=60.0, max_frame=MAX_EVENT,
                catch_up=True),
)
