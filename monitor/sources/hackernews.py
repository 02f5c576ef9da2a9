"""Hacker News: stories and comments matching a topic, from Algolia's `search_by_date`.

Each poll asks only for items created after the newest one seen (`numericFilters=created_at_i>N`,
N kept in the cursor) and reads on through `page` while `page + 1 < nbPages`.
"""

from __future__ import annotations

from monitor.pollerrors import FeedError
from monitor.query.pushdown import Dialect
from monitor.sources import jsonapi as j
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from monitor.sources.text import html_to_text
from storage.types import Post

KIND = "hackernews"
TYPE = SourceType(
    KIND,
    selects=("topic",),
    urls=("base_url",),
    search=Dialect(has_or=False, negate="-", joiner=" ", hashtags=False),
)
DEFAULT_BASE = "https://hn.algolia.com"
SITE = "https://news.ycombinator.com/item?id="
PER_PAGE = 100


def first_request(ctx: PollContext) -> Request:
    return _request(ctx, ctx.cursor.get("created_at_i", ""), 0)


def parse(ctx: PollContext, response: Response) -> Page:
    document = j.load(response.body, "Hacker News search")
    if not isinstance(document, dict) or not isinstance(document.get("hits"), list):
        raise j.fail("Hacker News search", document) if j.api_error(document) else FeedError(
            "Hacker News search: the response has no hits"
        )
    asked = j.query_of(response.url)
    bound = _bound(asked.get("numericFilters", ""))
    hits = [h for h in j.dicts(j.arr(document, "hits")) if (j.number(h, "created_at_i") or 0) > bound]
    posts = tuple(p for hit in hits if (p := to_post(ctx.feed_name, hit)) is not None)
    times = [int(j.number(h, "created_at_i") or 0) for h in hits]
    newest = max([_int(ctx.cursor.get("created_at_i")), *times])
    cursor = {**ctx.cursor, "created_at_i": str(newest)} if newest else dict(ctx.cursor)
    page, pages = j.number(document, "page"), j.number(document, "nbPages")
    more = page is not None and pages is not None and page + 1 < pages and bool(hits)
    follow = _request(ctx, str(bound) if bound else "", int(page or 0) + 1) if more else None
    return Page(posts, cursor, next=follow)


def to_post(source: str, hit: j.JSON) -> Post | None:
    """A story or comment hit as a Post; None without an id or a time."""
    item_id = j.text(hit, "objectID")
    published = j.from_epoch(j.number(hit, "created_at_i")) or j.utc(j.text(hit, "created_at"))
    if not item_id or published is None:
        return None
    story = j.text(hit, "title")
    title = j.tidy(story or j.text(hit, "story_title"), one_line=True)
    body = html_to_text(j.text(hit, "story_text") or j.text(hit, "comment_text"))
    link = j.text(hit, "url") if story else ""
    heading = title if story else (f"Re: {title}" if title else "")
    return Post(
        id=item_id,
        source=source,
        author=j.tidy(j.text(hit, "author"), one_line=True),
        url=SITE + item_id,
        text=j.tidy("\n\n".join(part for part in (heading, body, link) if part)),
        published=published,
        title=title,
        kind=KIND,
    )


def _request(ctx: PollContext, since: str, page: int) -> Request:
    base = ctx.options.get("base_url", "").rstrip("/") or DEFAULT_BASE
    params = {"query": ctx.query or "", "tags": "(story,comment)", "hitsPerPage": str(PER_PAGE)}
    if since:
        params["numericFilters"] = f"created_at_i>{since}"
    if page:
        params["page"] = str(page)
    return Request(f"{base}/api/v1/search_by_date", params)


def _bound(filters: str) -> int:
    """N from 'created_at_i>N' in the request this page answers (0 when there is none)."""
    for part in filters.split(","):
        name, _, value = part.strip().partition(">")
        if name.strip() == "created_at_i" and value.strip().lstrip("=").isdigit():
            return int(value.strip().lstrip("="))
    return 0


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
