"""Mastodon: a hashtag timeline, an account's statuses, or a topic search (needs a token).

Each poll asks for what is newer than the newest status seen (`since_id`, kept in the cursor)
and pages back through `Link: rel="next"` while pages come back full. Boosts fold to the
status they boost. An account is looked up once; its id is kept in the cursor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from monitor.pollerrors import FeedError
from monitor.query.pushdown import Dialect
from monitor.sources import jsonapi as j
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from monitor.sources.text import html_to_text
from storage.types import Post

KIND = "mastodon"
DEFAULT_BASE = "https://mastodon.social"
_ACCOUNT = re.compile(r"@([A-Za-z0-9_]+)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")


def _address(text: str) -> dict[str, str] | None:
    """`@user@host`, the way Mastodon writes an account."""
    found = _ACCOUNT.fullmatch(text.strip())
    return {"account": f"@{found[1]}@{found[2].lower()}"} if found else None


def _web_feed(options: Mapping[str, str]) -> str | None:
    """Every Mastodon server serves a hashtag's and an account's public posts as RSS."""
    base = options.get("base_url", "").rstrip("/") or DEFAULT_BASE
    if "hashtag" in options:
        return f"{base}/tags/{quote(options['hashtag'].strip().lstrip('#'), safe='')}.rss"
    if "account" in options:
        user, _, host = _acct(options["account"]).partition("@")
        return f"https://{host}/@{user}.rss" if host else f"{base}/@{user}.rss"
    return None


TYPE = SourceType(
    KIND,
    selects=("hashtag", "account", "topic"),
    urls=("base_url",),
    secrets={"token": "token_env"},
    search=Dialect(has_or=False, negate="-", joiner=" ", hashtags=True),
    address=_address,
    web_feed=_web_feed,
)
LIMIT = 40
DEFAULT_LIMIT = 20  # what Mastodon returns when a request names no limit


def first_request(ctx: PollContext) -> Request:
    since = ctx.cursor.get("since_id", "")
    if "hashtag" in ctx.options:
        tag = ctx.options["hashtag"].strip().lstrip("#")
        return _get(ctx, f"/api/v1/timelines/tag/{quote(tag, safe='')}", _since(since))
    if "account" in ctx.options:
        account_id = _cached_account_id(ctx)
        if not account_id:
            return _get(ctx, "/api/v1/accounts/lookup", {"acct": _lookup_name(ctx)}, limit=False)
        return _statuses_request(ctx, account_id, since)
    env = ctx.options.get("token_env", "")
    token = j.require_secret(ctx.secrets, "token", env, "Mastodon search needs a token")
    params = {"q": ctx.query or "", "type": "statuses", "resolve": "false"}
    if since:
        params["min_id"] = since
    return Request(_base(ctx) + "/api/v2/search", {**params, "limit": str(LIMIT)}, _auth(token))


def parse(ctx: PollContext, response: Response) -> Page:
    document = j.load(response.body, f"Mastodon {_what(ctx)}")
    if isinstance(document, dict) and ("error" in document or "errors" in document):
        raise j.fail(f"Mastodon {_what(ctx)}", document, ctx.secrets)
    if j.path_of(response.url).endswith("/api/v1/accounts/lookup"):
        return _after_lookup(ctx, document)
    raw = document if isinstance(document, list) else j.arr(document, "statuses")
    statuses = j.dicts(raw)
    params = j.query_of(response.url)
    # `since_id` in the request URL is this poll's lower bound; the cursor may already be past it.
    bound = params.get("since_id") or params.get("min_id") or ""
    posts = _posts(ctx, statuses, bound)
    newest = j.newest_id(ctx.cursor.get("since_id", ""), *(j.text(s, "id") for s in statuses))
    cursor = {**ctx.cursor, "since_id": newest} if newest else dict(ctx.cursor)
    full = len(raw) >= _int(params.get("limit"), DEFAULT_LIMIT)
    return Page(posts, cursor, next=_next_request(ctx, response, params, bound) if full and raw else None)


def _after_lookup(ctx: PollContext, account: Any) -> Page:
    account_id = j.text(account, "id")
    if not account_id:
        raise FeedError(f"Mastodon account {ctx.options['account']}: the lookup returned no account id")
    cursor = {**ctx.cursor, "account": _acct(ctx.options["account"]), "account_id": account_id}
    return Page((), cursor, next=_statuses_request(ctx, account_id, ctx.cursor.get("since_id", "")))


def _next_request(ctx: PollContext, response: Response, params: dict[str, str], bound: str) -> Request | None:
    if j.path_of(response.url).endswith("/api/v2/search"):
        offset = _int(params.get("offset"), 0) + _int(params.get("limit"), DEFAULT_LIMIT)
        return Request(_base(ctx) + "/api/v2/search", {**params, "offset": str(offset)}, _headers(ctx))
    older = j.parse_link_header(response.headers.get("link", "")).get("next")
    if not older:
        return None
    # Mastodon's next link drops since_id; put the bound back so paging stops at what we have.
    older_params = j.query_of(older)
    if bound:
        older_params["since_id"] = bound
    return Request(older.split("?", 1)[0], older_params, _headers(ctx))


def _posts(ctx: PollContext, statuses: list[j.JSON], bound: str) -> tuple[Post, ...]:
    posts: dict[str, Post] = {}
    for status in statuses:
        if bound and not j.is_newer(j.text(status, "id"), bound):
            continue
        original = j.obj(status, "reblog") or status
        post = to_post(ctx.feed_name, original)
        if post is not None:
            posts.setdefault(post.id, post)
    return tuple(posts.values())


def to_post(source: str, status: j.JSON) -> Post | None:
    """One status as a Post; None when it lacks an id, a time or a URL."""
    status_id = j.text(status, "id")
    published = j.utc(j.text(status, "created_at"))
    url = j.text(status, "url") or j.text(status, "uri")
    if not status_id or published is None or not url:
        return None
    return Post(
        id=status_id,
        source=source,
        author=_author(j.obj(status, "account")),
        url=url,
        text=_text(status),
        published=published,
        kind=KIND,
        lang=j.text(status, "language"),
    )


def _text(status: j.JSON) -> str:
    body = html_to_text(j.text(status, "content"))
    warning = j.tidy(j.text(status, "spoiler_text"), one_line=True)
    options = j.dicts(j.arr(j.obj(status, "poll"), "options"))
    poll = " / ".join(title for o in options if (title := j.tidy(j.text(o, "title"), one_line=True)))
    parts = [warning, body, poll]
    return "\n\n".join(p for p in parts if p)


def _author(account: j.JSON) -> str:
    name = j.text(account, "display_name")
    for emoji in j.dicts(j.arr(account, "emojis")):
        if shortcode := j.text(emoji, "shortcode"):
            name = name.replace(f":{shortcode}:", "")
    return j.person(name, j.text(account, "acct") or j.text(account, "username"))


def _cached_account_id(ctx: PollContext) -> str:
    same = ctx.cursor.get("account") == _acct(ctx.options["account"])
    return ctx.cursor.get("account_id", "") if same else ""


def _statuses_request(ctx: PollContext, account_id: str, since: str) -> Request:
    return _get(ctx, f"/api/v1/accounts/{quote(account_id, safe='')}/statuses", _since(since))


def _get(ctx: PollContext, path: str, params: dict[str, str], *, limit: bool = True) -> Request:
    return Request(_base(ctx) + path, {**params, "limit": str(LIMIT)} if limit else params, _headers(ctx))


def _since(since: str) -> dict[str, str]:
    return {"since_id": since} if since else {}


def _headers(ctx: PollContext) -> dict[str, str]:
    token = ctx.secrets.get("token", "")
    return _auth(token) if token else {}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _base(ctx: PollContext) -> str:
    """base_url, else the account's own server (it has all its statuses), else mastodon.social."""
    if base := ctx.options.get("base_url", "").rstrip("/"):
        return base
    if "account" in ctx.options and "@" in (acct := _acct(ctx.options["account"])):
        return "https://" + acct.rsplit("@", 1)[1]
    return DEFAULT_BASE


def _lookup_name(ctx: PollContext) -> str:
    """The account as its server knows it: a local account by its bare username."""
    user, _, host = _acct(ctx.options["account"]).partition("@")
    return user if not host or host == urlsplit(_base(ctx)).hostname else f"{user}@{host}"


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def _acct(account: str) -> str:
    """'@user@host' → 'user@host' (what accounts/lookup takes)."""
    return account.strip().lstrip("@")


def _what(ctx: PollContext) -> str:
    if "hashtag" in ctx.options:
        return f"hashtag #{ctx.options['hashtag'].lstrip('#')}"
    if "account" in ctx.options:
        return f"account {ctx.options['account']}"
    return "search"
