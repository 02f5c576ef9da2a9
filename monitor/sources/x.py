"""X (Twitter): a topic through API v2 recent search, with a bearer token.

Each poll asks only for tweets after the newest one seen (`since_id`, kept in the cursor) and
reads on through `meta.next_token`. Author names come from the `author_id` expansion. A retweet
is the tweet it retweets (its full text, from the `referenced_tweets.id` expansion); a quote is
kept with a link to the quoted tweet, which comes along too.
"""

from __future__ import annotations

from html import unescape

from monitor.pollerrors import NotConfigured
from monitor.query.pushdown import Dialect
from monitor.sources import jsonapi as j
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from storage.types import Post

KIND = "x"
TYPE = SourceType(
    KIND,
    selects=("topic",),
    urls=("base_url",),
    secrets={"token": "token_env"},
    search=Dialect(has_or=True, negate="-", joiner=" ", hashtags=True, fields=frozenset({"lang", "url"})),
)
DEFAULT_BASE = "https://api.x.com"
SITE = "https://x.com"
MAX_RESULTS = 100
FIELDS = {
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "user.fields": "name,username",
    "tweet.fields": "created_at,lang,author_id,entities,referenced_tweets,conversation_id",
}


def first_request(ctx: PollContext) -> Request:
    params = {"query": ctx.query or "", "max_results": str(MAX_RESULTS), **FIELDS}
    if since := ctx.cursor.get("since_id", ""):
        params["since_id"] = since
    return Request(_base(ctx) + "/2/tweets/search/recent", params, _auth(ctx))


def parse(ctx: PollContext, response: Response) -> Page:
    document = j.load(response.body, "X search")
    if not isinstance(document, dict) or ("data" not in document and "meta" not in document):
        raise j.fail("X search", document, ctx.secrets)
    asked = j.query_of(response.url)
    bound = asked.get("since_id", "")
    tweets = [t for t in j.dicts(j.arr(document, "data")) if j.is_newer(j.text(t, "id"), bound)]
    includes = j.obj(document, "includes")
    users = {j.text(u, "id"): u for u in j.dicts(j.arr(includes, "users"))}
    referenced = {j.text(t, "id"): t for t in j.dicts(j.arr(includes, "tweets"))}
    posts = _posts(ctx.feed_name, tweets, users, referenced)
    meta = j.obj(document, "meta")
    newest = j.newest_id(ctx.cursor.get("since_id", ""), j.text(meta, "newest_id"), *(j.text(t, "id") for t in tweets))
    cursor = {**ctx.cursor, "since_id": newest} if newest else dict(ctx.cursor)
    token = j.text(meta, "next_token")
    follow = Request(response.url.split("?", 1)[0], {**asked, "next_token": token}, _auth(ctx)) if token else None
    return Page(posts, cursor, next=follow if tweets else None)


def _posts(
    source: str, tweets: list[j.JSON], users: dict[str, j.JSON], referenced: dict[str, j.JSON]
) -> tuple[Post, ...]:
    posts: dict[str, Post] = {}
    for tweet in tweets:
        refs = {j.text(r, "type"): j.text(r, "id") for r in j.dicts(j.arr(tweet, "referenced_tweets"))}
        retweeted = referenced.get(refs.get("retweeted", ""))
        quoted = referenced.get(refs.get("quoted", ""))
        for item, quoting in ((retweeted or tweet, None if retweeted else quoted), (quoted, None)):
            post = to_post(source, item, users, quoting) if item else None
            if post is not None:
                posts.setdefault(post.id, post)
    return tuple(posts.values())


def to_post(source: str, tweet: j.JSON, users: dict[str, j.JSON], quoting: j.JSON | None = None) -> Post | None:
    """One tweet as a Post; None without an id or a time."""
    tweet_id = j.text(tweet, "id")
    published = j.utc(j.text(tweet, "created_at"))
    if not tweet_id.isdigit() or published is None:
        return None
    user = users.get(j.text(tweet, "author_id"), {})
    body = _full_text(tweet)
    if quoting and (quoted_url := tweet_url(quoting, users)) not in body:
        body = f"{body}\n\n{quoted_url}"
    return Post(
        id=tweet_id,
        source=source,
        author=j.person(j.text(user, "name"), j.text(user, "username")),
        url=tweet_url(tweet, users),
        text=j.tidy(body),
        published=published,
        kind=KIND,
        lang=j.text(tweet, "lang") if j.text(tweet, "lang") not in {"und", "zxx", "qme", "qht"} else "",
    )


def tweet_url(tweet: j.JSON, users: dict[str, j.JSON]) -> str:
    username = j.text(users.get(j.text(tweet, "author_id"), {}), "username")
    who = username if username.replace("_", "").isalnum() else "i/web"
    return f"{SITE}/{who}/status/{j.text(tweet, 'id')}"


def _full_text(tweet: j.JSON) -> str:
    """The text with t.co links expanded (the API escapes &, < and > as HTML entities)."""
    body = j.text(j.obj(tweet, "note_tweet"), "text") or j.text(tweet, "text")
    for link in j.dicts(j.arr(j.obj(tweet, "entities"), "urls")):
        short, full = j.text(link, "url"), j.text(link, "expanded_url")
        if short and full.startswith(("http://", "https://")):
            body = body.replace(short, full)
    return unescape(body)


def _auth(ctx: PollContext) -> dict[str, str]:
    token = ctx.secrets.get("token", "")
    if not token:
        env = ctx.options.get("token_env", "") or "(token_env in the feed)"
        raise NotConfigured(f"X needs a bearer token: set the environment variable {env}")
    return {"Authorization": f"Bearer {token}"}


def _base(ctx: PollContext) -> str:
    return ctx.options.get("base_url", "").rstrip("/") or DEFAULT_BASE
