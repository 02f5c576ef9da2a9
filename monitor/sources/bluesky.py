"""Bluesky: an actor's feed (no login) or a topic search (a session from a handle and an app password).

The session (access and refresh tokens) lives in `Page.session`, never in the cursor. A search
poll logs in when there is no session, refreshes it when the access token has expired, then
searches with `since` = the newest post seen. An actor's feed has no `since`: pages are followed
back through `cursor` until one reaches a post already seen. Reposts are the original post;
a quote is kept with a pointer to the quoted post, and the quoted post comes along too.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from monitor.clock import utc_now
from monitor.pollerrors import FeedError, NotConfigured
from monitor.query.pushdown import Dialect
from monitor.sources import jsonapi as j
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from storage.types import Post

KIND = "bluesky"
_HANDLE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]")
_DID = re.compile(r"did:(?:plc|web):[A-Za-z0-9._:%-]+")
WEB = "https://bsky.app"


def _address(text: str) -> dict[str, str] | None:
    """A handle: `@name.example` (a handle is a domain), `name.bsky.social` without the @, or a DID."""
    text = text.strip()
    handle = text.removeprefix("@")
    if _DID.fullmatch(handle):
        return {"actor": handle}
    if _HANDLE.fullmatch(handle) and (text.startswith("@") or handle.lower().endswith(".bsky.social")):
        return {"actor": handle.lower()}  # handles are case-insensitive
    return None


def _web_feed(options: Mapping[str, str]) -> str | None:
    """Bluesky's web app serves an actor's posts as RSS."""
    return f"{WEB}/profile/{options['actor'].strip().lstrip('@')}/rss" if "actor" in options else None


TYPE = SourceType(
    KIND,
    selects=("actor", "topic"),
    options=("handle",),
    urls=("base_url",),
    secrets={"password": "password_env"},
    search=Dialect(has_or=False, negate=None, joiner=" ", hashtags=True, fields=frozenset({"lang"})),
    address=_address,
    web_feed=_web_feed,
)
PUBLIC_BASE = "https://public.api.bsky.app"
LOGIN_BASE = "https://bsky.social"
FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
FEED_LIMIT = 50
SEARCH_LIMIT = 100
EXPIRY_MARGIN = timedelta(seconds=60)
EXPIRED = frozenset({400, 401})
"""An expired token answers 400 ExpiredToken or 401: parse reads it and refreshes within the poll."""
_CLEARED = {"accessJwt": "", "refreshJwt": "", "accessExp": "", "refreshExp": ""}


def first_request(ctx: PollContext) -> Request:
    if "actor" in ctx.options:
        return _feed_request(ctx, "")
    moment = ctx.now or utc_now()
    if _valid(ctx.session, "accessJwt", "accessExp", moment):
        return _search_request(ctx, ctx.session["accessJwt"])
    if _valid(ctx.session, "refreshJwt", "refreshExp", moment):
        return _refresh_request(ctx)
    return _login_request(ctx)


def parse(ctx: PollContext, response: Response) -> Page:
    path = j.path_of(response.url)
    document = j.load(response.body, f"Bluesky {_what(ctx)}")
    if response.status >= 400 or (isinstance(document, dict) and "error" in document):
        return _on_error(ctx, path, document, response.status)
    if path.endswith((LOGIN, REFRESH)):
        return _on_session(ctx, document)
    bound = ctx.cursor.get("bound", "") if "cursor" in j.query_of(response.url) else ctx.cursor.get("newest", "")
    if path.endswith(SEARCH):
        return _search_page(ctx, document, bound)
    return _feed_page(ctx, document, bound, response.url)


def _feed_page(ctx: PollContext, document: object, bound: str, url: str) -> Page:
    items = j.dicts(j.arr(document, "feed"))
    fresh = [item for item in items if _newer(_item_time(item), bound)]
    posts = _posts(ctx.feed_name, [j.obj(item, "post") for item in fresh])
    newest = max([ctx.cursor.get("newest", ""), *(_item_time(item) for item in fresh)], key=_time_key)
    cursor = {**ctx.cursor, "newest": newest, "bound": bound}
    # A feed's pinned post is old but comes first; only unpinned items say whether we reached the bound.
    ordered = [item for item in items if j.text(j.obj(item, "reason"), "$type") != "app.bsky.feed.defs#reasonPin"]
    reached = any(not _newer(_item_time(item), bound) for item in ordered)
    more = j.text(document, "cursor")
    follow = more and ordered and not reached
    return Page(posts, cursor, next=_feed_request(ctx, more) if follow else None)


def _search_page(ctx: PollContext, document: object, bound: str) -> Page:
    views = [view for view in j.dicts(j.arr(document, "posts")) if _newer(j.text(view, "indexedAt"), bound)]
    newest = max([ctx.cursor.get("newest", ""), *(j.text(v, "indexedAt") for v in views)], key=_time_key)
    cursor = {**ctx.cursor, "newest": newest, "bound": bound}
    more = j.text(document, "cursor")
    token = ctx.session.get("accessJwt", "")
    follow = more and views and token
    return Page(_posts(ctx.feed_name, views), cursor, next=_search_request(ctx, token, more) if follow else None)


def _on_session(ctx: PollContext, document: object) -> Page:
    access, refresh = j.text(document, "accessJwt"), j.text(document, "refreshJwt")
    if not access:
        raise FeedError("Bluesky login: the server returned no access token")
    session = {
        "accessJwt": access,
        "refreshJwt": refresh,
        "accessExp": _expiry(access),
        "refreshExp": _expiry(refresh),
    }
    return Page((), dict(ctx.cursor), session, next=_search_request(ctx, access))


def _on_error(ctx: PollContext, path: str, document: object, status: int) -> Page:
    """An expired access token → refresh; a refused refresh → log in again; anything else → FeedError."""
    reason = j.text(document, "error")
    expired = reason in {"ExpiredToken", "InvalidToken"} or status == 401
    if path.endswith(SEARCH) and expired and ctx.session.get("refreshJwt"):
        return Page((), dict(ctx.cursor), {**ctx.session, "accessJwt": "", "accessExp": ""}, _refresh_request(ctx))
    if path.endswith(REFRESH) and expired:
        return Page((), dict(ctx.cursor), _CLEARED, _login_request(ctx))
    what = "login" if path.endswith(LOGIN) else _what(ctx)
    secrets = {**ctx.secrets, **{k: v for k, v in ctx.session.items() if k.endswith("Jwt")}}
    raise j.fail(f"Bluesky {what}", document, secrets)


def _posts(source: str, views: list[j.JSON]) -> tuple[Post, ...]:
    posts: dict[str, Post] = {}
    for view in views:
        quoted = _quoted(view)
        post = to_post(source, view, quoting=quoted)
        if post is not None:
            posts.setdefault(post.id, post)
        original = to_post(source, quoted) if quoted else None
        if original is not None:
            posts.setdefault(original.id, original)
    return tuple(posts.values())


def to_post(source: str, view: j.JSON, quoting: j.JSON | None = None) -> Post | None:
    """A post view (or an embedded viewRecord) as a Post; None when it is not a readable post."""
    uri = j.text(view, "uri")
    record = j.obj(view, "record") if "record" in view else j.obj(view, "value")
    author = j.obj(view, "author")
    published = j.utc(j.text(record, "createdAt")) or j.utc(j.text(view, "indexedAt"))
    if not uri.startswith("at://") or published is None or "text" not in record:
        return None
    text = _rich_text(record)
    links = [e for e in _embed_links(j.obj(view, "embed") or _first(j.arr(view, "embeds"))) if e not in text]
    if quoting:
        links.append(post_url(j.text(quoting, "uri"), j.obj(quoting, "author")))
    body = "\n\n".join([text, *dict.fromkeys(links)]) if links else text
    langs = [lang for lang in j.arr(record, "langs") if isinstance(lang, str)]
    return Post(
        id=uri,
        source=source,
        author=j.person(j.text(author, "displayName"), j.text(author, "handle")),
        url=post_url(uri, author),
        text=j.tidy(body),
        published=published,
        kind=KIND,
        lang=langs[0] if langs else "",
    )


def post_url(uri: str, author: j.JSON) -> str:
    """at://did/app.bsky.feed.post/rkey → https://bsky.app/profile/<handle>/post/<rkey>."""
    did, _, rkey = uri.removeprefix("at://").partition("/app.bsky.feed.post/")
    handle = j.text(author, "handle")
    who = handle if handle and handle != "handle.invalid" else did
    return f"https://bsky.app/profile/{who}/post/{rkey}"


def _rich_text(record: j.JSON) -> str:
    """The post's text with each link facet's full URL in place of its (often shortened) label."""
    raw = j.text(record, "text").encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in j.dicts(j.arr(record, "facets")):
        index = j.obj(facet, "index")
        start, end = j.number(index, "byteStart"), j.number(index, "byteEnd")
        links = [j.text(f, "uri") for f in j.dicts(j.arr(facet, "features")) if f.get("$type", "").endswith("#link")]
        if start is not None and end is not None and links and links[0] and 0 <= start < end <= len(raw):
            spans.append((int(start), int(end), links[0]))
    out, at = bytearray(), 0
    for start, end, uri in sorted(spans):
        if start < at:
            continue  # overlapping facets: keep the first
        out += raw[at:start] + uri.encode("utf-8")
        at = end
    return (bytes(out) + raw[at:]).decode("utf-8", "replace")


def _embed_links(embed: j.JSON) -> list[str]:
    """The link card's URL, including one beside media in a quote-with-media embed."""
    media = j.obj(embed, "media") or embed
    link = j.text(j.obj(media, "external"), "uri")
    return [link] if link.startswith(("http://", "https://")) else []


def _quoted(view: j.JSON) -> j.JSON:
    """The post a quote embeds (record or recordWithMedia embeds), when it is a readable post."""
    embed = j.obj(view, "embed")
    record = j.obj(embed, "record")
    if "record" in record:  # recordWithMedia nests the record view one level deeper
        record = j.obj(record, "record")
    return record if j.text(record, "$type").endswith("#viewRecord") else {}


def _first(items: list[object]) -> j.JSON:
    found = j.dicts(items)
    return found[0] if found else {}


def _item_time(item: j.JSON) -> str:
    """When a feed item entered the feed: the repost time for a repost, else the post's indexedAt."""
    return j.text(j.obj(item, "reason"), "indexedAt") or j.text(j.obj(item, "post"), "indexedAt")


def _time_key(stamp: str) -> datetime:
    return j.utc(stamp) or datetime.min.replace(tzinfo=UTC)


def _newer(stamp: str, bound: str) -> bool:
    return not bound or _time_key(stamp) > _time_key(bound)


def _feed_request(ctx: PollContext, cursor: str) -> Request:
    params = {"actor": ctx.options["actor"].strip().lstrip("@"), "limit": str(FEED_LIMIT)}
    if cursor:
        params["cursor"] = cursor
    return Request(_base(ctx, PUBLIC_BASE) + FEED, params)


def _search_request(ctx: PollContext, token: str, cursor: str = "") -> Request:
    params = {"q": ctx.query or "", "sort": "latest", "limit": str(SEARCH_LIMIT)}
    if since := ctx.cursor.get("bound" if cursor else "newest", ""):
        params["since"] = since
    if cursor:
        params["cursor"] = cursor
    return Request(_base(ctx, LOGIN_BASE) + SEARCH, params, {"Authorization": f"Bearer {token}"}, accept=EXPIRED)


def _login_request(ctx: PollContext) -> Request:
    handle = ctx.options.get("handle", "").strip().lstrip("@")
    env = ctx.options.get("password_env", "")
    if not handle:
        raise NotConfigured('Bluesky search needs a login: set "handle" and "password_env" in the feed')
    password = j.require_secret(ctx.secrets, "password", env, "Bluesky search needs an app password")
    body = {"identifier": handle, "password": password}
    return Request(_base(ctx, LOGIN_BASE) + LOGIN, method="POST", json=body, conditional=False)


def _refresh_request(ctx: PollContext) -> Request:
    headers = {"Authorization": f"Bearer {ctx.session['refreshJwt']}"}
    return Request(_base(ctx, LOGIN_BASE) + REFRESH, headers=headers, method="POST", conditional=False,
                   accept=EXPIRED)


def _base(ctx: PollContext, default: str) -> str:
    return ctx.options.get("base_url", "").rstrip("/") or default


def _valid(session: Mapping[str, str], token_key: str, exp_key: str, now: datetime) -> bool:
    token, expires = session.get(token_key, ""), session.get(exp_key, "")
    if not token:
        return False
    deadline = j.utc(expires) if expires else None
    return deadline is None or now + EXPIRY_MARGIN < deadline


def _expiry(token: str) -> str:
    """The `exp` claim of a JWT as ISO UTC ("" when unreadable: then the token is used until refused)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        moment = j.from_epoch(j.number(claims, "exp"))
    except (IndexError, ValueError):
        return ""
    return moment.isoformat() if moment else ""


def _what(ctx: PollContext) -> str:
    return f"feed of {ctx.options['actor']}" if "actor" in ctx.options else "search"
