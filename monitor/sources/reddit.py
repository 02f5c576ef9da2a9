"""Reddit: a subreddit's new listing or a topic search (sort=new), over the public JSON API.

The cursor keeps the fullname of the newest item seen (`before`). A poll asks for what came
before it in the listing (newer items) and moves forward while pages come back full. The first
poll, with nothing seen, reads back through `after` as far as the daemon's page cap allows.
Reddit answers a `before` whose item was deleted with nothing, forever; after a few empty polls
the anchor is dropped once and the newest page is filtered by time instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from monitor.pollerrors import FeedError
from monitor.query.pushdown import Dialect
from monitor.sources import jsonapi as j
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from storage.types import Post

KIND = "reddit"
DEFAULT_BASE = "https://www.reddit.com"
SITE = "https://www.reddit.com"
_SUBREDDIT = re.compile(r"/?r/([A-Za-z0-9_]{2,21})/?")


def _address(text: str) -> dict[str, str] | None:
    """`r/NAME`, the way Reddit writes a subreddit."""
    found = _SUBREDDIT.fullmatch(text.strip())
    return {"subreddit": found[1]} if found else None


def _web_feed(options: Mapping[str, str]) -> str | None:
    """Reddit serves a subreddit's newest posts as RSS (Atom)."""
    if "subreddit" not in options:
        return None
    sub = options["subreddit"].strip().removeprefix("/").removeprefix("r/")
    return f"{SITE}/r/{quote(sub, safe='+')}/new/.rss"


TYPE = SourceType(
    KIND,
    selects=("subreddit", "topic"),
    urls=("base_url",),
    search=Dialect(has_or=True, negate="NOT ", joiner=" AND ", hashtags=False),
    address=_address,
    web_feed=_web_feed,
)
LIMIT = 100
EMPTY_POLLS_BEFORE_RESET = 5
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")
USER_AGENT = "python:monitor:0.1 (a self-hosted news monitor that reads new posts for its user)"
_HEADERS = {"User-Agent": USER_AGENT}
# Not conditional: every empty answer must reach `parse`, which counts them to drop a dead anchor;
# the fetcher would skip a body identical to the last one (and an empty listing always is).


def first_request(ctx: PollContext) -> Request:
    anchor = ctx.cursor.get("before", "")
    quiet = int(ctx.cursor.get("quiet", "0") or 0)
    return _request(ctx, {"before": anchor} if anchor and quiet < EMPTY_POLLS_BEFORE_RESET else {})


def parse(ctx: PollContext, response: Response) -> Page:
    document = j.load(response.body, f"Reddit {_what(ctx)}")
    if not isinstance(document, dict) or j.text(document, "kind") != "Listing":
        raise j.fail(f"Reddit {_what(ctx)}", document) if j.api_error(document) else FeedError(
            f"Reddit {_what(ctx)}: the response is not a listing"
        )
    data = j.obj(document, "data")
    things = [t for t in j.dicts(j.arr(data, "children")) if j.text(t, "kind") in {"t1", "t3"}]
    asked = j.query_of(response.url)
    cursor, posts, follow = _step(ctx, asked, things, data)
    return Page(posts, cursor, next=_request(ctx, follow) if follow else None)


def _step(
    ctx: PollContext, asked: dict[str, str], things: list[j.JSON], data: j.JSON
) -> tuple[dict[str, str], tuple[Post, ...], dict[str, str]]:
    """The cursor after this page, its posts, and the paging parameters of the next page (if any)."""
    items = [j.obj(t, "data") for t in things]
    posts = [p for item in items if (p := to_post(ctx.feed_name, item)) is not None]
    newest = j.text(items[0], "name") if items else ""
    newest_time = str(max((p.published.timestamp() for p in posts), default=0.0))
    cursor = dict(ctx.cursor)
    full = len(things) >= _int(asked.get("limit"), LIMIT)
    if "after" in asked:  # reading back on the first poll: the anchor stays where page one put it
        more = j.text(data, "after")
        return cursor, tuple(posts), {"after": more} if more and full else {}
    if "before" in asked:  # catching up: every item here is newer than the anchor
        if not newest:
            return {**cursor, "quiet": str(_int(cursor.get("quiet"), 0) + 1)}, (), {}
        cursor.update(before=newest, created=newest_time, quiet="0")
        return cursor, tuple(posts), {"before": newest} if full else {}
    # The newest page: the very first poll, or a reset after the anchor went quiet.
    seen_until = _float(cursor.get("created"))
    fresh = [p for p in posts if p.published.timestamp() > seen_until]
    if newest:
        cursor.update(before=newest, created=max(newest_time, cursor.get("created", "0"), key=_float))
    cursor["quiet"] = "0"
    more = j.text(data, "after")
    backfill = not ctx.cursor.get("before") and more and full
    return cursor, tuple(fresh), {"after": more} if backfill else {}


def to_post(source: str, item: j.JSON) -> Post | None:
    """A link (t3) or comment (t1) as a Post; None when it lacks a name, a time or a permalink."""
    name = j.text(item, "name")
    published = j.from_epoch(j.number(item, "created_utc"))
    permalink = j.text(item, "permalink").split("?", 1)[0]
    if not name or published is None or not permalink.startswith("/"):
        return None
    title = j.tidy(j.text(item, "title") or j.text(item, "link_title"), one_line=True)
    body = j.text(item, "selftext") or j.text(item, "body")
    link = j.text(item, "url_overridden_by_dest") or j.text(item, "url")
    external = link if link.startswith(("http://", "https://")) and not _on_reddit(link) else ""
    author = j.text(item, "author")
    return Post(
        id=name,
        source=source,
        author=f"u/{author}" if author else "",
        url=SITE + _UNSAFE_IN_URL.sub(lambda m: quote(m.group()), permalink),
        text=j.tidy("\n\n".join(part for part in (title, body, external) if part)),
        published=published,
        title=title,
        kind=KIND,
    )


def _request(ctx: PollContext, paging: dict[str, str]) -> Request:
    base = ctx.options.get("base_url", "").rstrip("/") or DEFAULT_BASE
    params = {"limit": str(LIMIT), "raw_json": "1", **paging}
    if "subreddit" in ctx.options:
        sub = ctx.options["subreddit"].strip().removeprefix("/").removeprefix("r/")
        return Request(f"{base}/r/{quote(sub, safe='+')}/new.json", params, _HEADERS, conditional=False)
    search = {"q": ctx.query or "", "sort": "new", "type": "link", **params}
    return Request(f"{base}/search.json", search, _HEADERS, conditional=False)


def _on_reddit(url: str) -> bool:
    host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
    return host == "reddit.com" or host.endswith((".reddit.com", "redd.it"))


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def _what(ctx: PollContext) -> str:
    return f"r/{ctx.options['subreddit']}" if "subreddit" in ctx.options else "search"
