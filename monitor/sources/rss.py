"""RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 → posts.

Parsers (measured by bench/parsers.py on ../shared/data/feeds): fastfeedparser is the fast path
(lxml, ~20x faster than feedparser); feedparser is the fallback when it raises or finds no entries.
Links resolve against the feed URL joined with the root element's xml:base; xml:base on inner
elements is not honoured (fastfeedparser drops it, and feedparser's handling rewrites ids).
JSON Feed is read with `json` below (feedparser has no JSON Feed support; fastfeedparser's
raises on wrongly typed fields, where a lenient reader keeps the items that make sense).

Hostile XML: neither parser expands entities from a DTD or reads external ones (fastfeedparser
uses lxml with resolve_entities=False and no network; feedparser uses expat through SAX with
external general entities off), so billion-laughs and XXE bodies parse in milliseconds into
harmless text; tests/test_rss.py holds both.

A post without any date gets the poll's time (`now`, the moment it was parsed): the pipeline and the
store need a datetime, and "first seen now" is the honest answer for an undated item.
"""

from __future__ import annotations

import hashlib
import html.entities
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urljoin, urlsplit

from monitor.clock import utc_now
from monitor.pollerrors import FeedError
from monitor.query.pushdown import Dialect
from monitor.sources.base import Page, PollContext, Request, Response, SourceType
from monitor.sources.text import html_to_text, plain_collapsed
from monitor.textsafe import one_line, strip_controls, strip_escape_sequences
from storage.types import Post


def _address(text: str) -> dict[str, str] | None:
    """An http(s) URL: a feed, or a page naming its feeds; with {query} in it, a search for a topic."""
    try:
        parts = urlsplit(text)
    except ValueError:  # a bad IPv6 literal
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        return None
    return {"search_url" if "{query}" in text else "url": text}


def _web_feed(options: Mapping[str, str]) -> str | None:
    return options.get("url")


TYPE = SourceType(
    "rss",
    selects=("url", "topic"),
    urls=("url", "search_url"),
    search=Dialect(has_or=True, negate="-", joiner=" ", hashtags=False),  # Google News
    address=_address,
    web_feed=_web_feed,
)
DEFAULT_SEARCH_URL = "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en"
MAX_BODY_BYTES = 16_000_000
"""A bigger body is refused (the fetcher caps sizes too; this keeps parse_feed bounded alone)."""
MAX_POSTS = 2_000
"""Posts kept per feed body, in document order (feeds put their newest items first)."""
MAX_ID_CHARS = 512
"""A longer id is replaced by its hash, so a hostile feed cannot make the key column huge."""

Entry = Mapping[str, Any]
_JSON_PLAIN = "jsonfeed/plain"
"""The type this module gives JSON Feed's plain-text fields, the only ones it trusts to be plain."""

_HTML_HEAD = re.compile(
    rb"^(?:\s|<\?xml[^>]*>|<!--.*?-->)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_ROOT_BASE = re.compile(
    rb"<(?:[\w-]+:)?(?:feed|rss|RDF|channel)\b[^>]*?\sxml:base\s*=\s*[\"']([^\"']*)[\"']", re.DOTALL
)
_NAMED_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{0,31});")
_TAG = re.compile(r"<[A-Za-z/!][^>]*>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMPTY_PARENS = re.compile(r"\(\s*\)")


def first_request(ctx: PollContext) -> Request:
    """The feed's `url`; for a topic search feed without one, `search_url` with the query filled in."""
    url = ctx.options.get("url")
    if url:
        return Request(url)
    template = ctx.options.get("search_url") or DEFAULT_SEARCH_URL
    return Request(template.replace("{query}", quote_plus(ctx.query or "")))


def parse(ctx: PollContext, response: Response) -> Page:
    """Posts of one fetched feed body; FeedError (one line) when it is not a feed."""
    posts = parse_feed(
        response.body,
        url=response.url,
        source=ctx.feed_name,
        content_type=response.headers.get("content-type", ""),
        now=ctx.now,
    )
    return Page(posts=tuple(posts))


def parse_feed(
    body: bytes, *, url: str, source: str, content_type: str = "", now: datetime | None = None
) -> list[Post]:
    """The pure core: feed bytes → posts, links resolved against `url`, times in UTC; `now` dates undated items."""
    if len(body) > MAX_BODY_BYTES:
        raise FeedError(f"feed too large: {len(body)} bytes (limit {MAX_BODY_BYTES})")
    if not body.strip():
        raise FeedError("empty body")
    now = now or utc_now()
    if _looks_like_json(body, content_type):
        entries, feed = parse_json_feed(body)
        base = url
    else:
        entries, feed, base = _parse_xml(body, url, content_type)
    feed_lang = _text_field(feed.get("language"))
    posts = (_post(entry, url=base, source=source, feed_lang=feed_lang, now=now) for entry in entries)
    return [post for post in posts if post is not None][:MAX_POSTS]


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") or "json" in content_type.lower()


def parse_json_feed(body: bytes) -> tuple[Sequence[Entry], Entry]:
    """JSON Feed 1.0/1.1 → entries shaped like feedparser's; wrongly typed fields are ignored."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as error:
        raise FeedError(f"not a feed: invalid JSON: {one_line(str(error), 200)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError("not a feed: JSON without a JSON Feed 'items' list")
    entries = [_json_entry(item) for item in data["items"] if isinstance(item, dict)]
    return entries, {"language": data.get("language")}


def _json_entry(item: Mapping[str, Any]) -> Entry:
    ident = item.get("id")
    content = [
        {"type": kind, "value": item.get(key)}
        for key, kind in (("content_html", "text/html"), ("content_text", _JSON_PLAIN))
        if isinstance(item.get(key), str)
    ]
    authors = [a for a in _dicts(item.get("authors")) if _text_field(a.get("name"))]
    author = authors[0] if authors else item.get("author")
    return {
        "id": str(ident) if isinstance(ident, str | int | float) and not isinstance(ident, bool) else "",
        "link": item.get("url") or item.get("external_url"),
        "title": item.get("title"),
        "summary": item.get("summary"),
        "summary_detail": {"type": _JSON_PLAIN},
        "content": content,
        "published": item.get("date_published"),
        "updated": item.get("date_modified"),
        "author_detail": author if isinstance(author, Mapping) else None,
        "language": item.get("language"),
    }


def _parse_xml(body: bytes, url: str, content_type: str) -> tuple[Sequence[Entry], Entry, str]:
    """Entries, feed-level fields and the base URL links resolve against (the root's xml:base)."""
    if _HTML_HEAD.match(body[:4096]):
        raise FeedError("not a feed: looks like an HTML page")
    body = _xml_safe_entities(strip_escape_sequences(_declared_or_utf8_or_cp1252(body, content_type)))
    base = _root_base(body, url)
    fast = _fastfeedparser(body)
    if fast is not None and fast[0]:
        return (*fast, base)
    return (*_feedparser(body, content_type), base)


def _root_base(body: bytes, url: str) -> str:
    """The feed URL joined with an xml:base on the root element (or <channel>), if any."""
    found = _ROOT_BASE.search(body[:4096])
    if not found:
        return url
    base: bytes = found.group(1)
    try:
        return urljoin(url, base.decode("utf-8", "replace").strip())
    except ValueError:  # an unparsable base (bad IPv6 literal...) is ignored
        return url


def _xml_safe_entities(body: bytes) -> bytes:
    """HTML named entities (`&nbsp;`), illegal in XML, become character references.

    fastfeedparser (lxml, recovering) silently cuts an element's text at an undefined entity.
    Names from a DTD become literal text too: never expanded, so entity bombs stay inert.
    """
    return _NAMED_ENTITY.sub(_entity_replacement, body) if b"&" in body else body


def _entity_replacement(found: re.Match[bytes]) -> bytes:
    codepoints = html.entities.html5.get(found.group(1).decode("ascii") + ";")
    if codepoints is None:
        return b"&amp;" + found.group(1) + b";"
    return b"".join(b"&#%d;" % ord(char) for char in codepoints)


def _declared_or_utf8_or_cp1252(body: bytes, content_type: str) -> bytes:
    """An undeclared encoding that is not UTF-8 is almost always windows-1252 (a superset of latin-1).

    Without this, fastfeedparser decodes such feeds as UTF-8 and fills them with U+FFFD.
    """
    head = body[:200].lower()
    if b"encoding=" in head or "charset=" in content_type.lower() or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace").encode("utf-8")
    return body


def _fastfeedparser(body: bytes) -> tuple[Sequence[Entry], Entry] | None:
    import fastfeedparser  # here, not at the top: a poll whose body did not change parses nothing

    try:
        parsed = fastfeedparser.parse(body, include_tags=False, include_media=False, include_enclosures=False)
    except Exception:  # its errors vary by input (ValueError, KeyError, lxml's); feedparser decides
        return None
    return list(parsed.get("entries") or ()), dict(parsed.get("feed") or {})


def _feedparser(body: bytes, content_type: str) -> tuple[Sequence[Entry], Entry]:
    # No content-location: feedparser would turn a relative <guid> or <id> into a URL, changing
    # the id; links are resolved against the feed URL afterwards instead.
    import feedparser  # the fallback: most runs never need it

    headers = {"content-type": content_type or "application/xml"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
        except Exception as error:  # a parser bug on hostile input is this feed's error, not ours
            raise FeedError(f"unparsable feed: {one_line(repr(error), 200)}") from None
    entries: list[Entry] = list(parsed.get("entries") or ())
    if not entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        if not parsed.get("version"):
            raise FeedError(f"not a feed: {one_line(str(reason), 200)}")
        raise FeedError(f"malformed XML: {one_line(str(reason), 200)}")
    if not entries and not parsed.get("version"):
        raise FeedError("not a feed: no RSS, Atom or JSON Feed root")
    return entries, dict(parsed.get("feed") or {})


def _post(entry: Entry, *, url: str, source: str, feed_lang: str, now: datetime) -> Post | None:
    title = _plain(_text_field(entry.get("title")), _detail_type(entry.get("title_detail")))
    summary = _summary(entry)
    link = _link(entry, url)
    published = _published(entry)
    text = _join_title(title, summary)
    ident = _ident(entry, link, title, published, text)
    if not (ident or text or link):
        return None
    return Post(
        id=ident or _stable_hash(title, str(published or ""), text, link),
        source=source,
        author=_author(entry),
        url=link,
        text=text,
        published=published or now,
        title=title,
        kind="rss",
        lang=_language(entry) or feed_lang,
    )


def _summary(entry: Entry) -> str:
    """The item's description, else its content, as plain text."""
    summary = entry.get("summary") if "summary" in entry else entry.get("description")
    text = _plain(_text_field(summary), _detail_type(entry.get("summary_detail")))
    if text:
        return text
    for part in _dicts(entry.get("content")):
        text = _plain(_text_field(part.get("value")), _text_field(part.get("type")))
        if text:
            return text
    return ""


def _plain(value: str, content_type: str) -> str:
    """Plain text of a field. XML feeds' declared types are unreliable (and fastfeedparser reports
    text/plain for escaped HTML), so only JSON Feed's `content_text`/`summary` are taken as plain;
    everything else is HTML, decoded twice when the first pass still shows tags (double escaping)."""
    if content_type == _JSON_PLAIN:
        return plain_collapsed(value)
    text = html_to_text(value)
    return html_to_text(text) if "<" in text and _TAG.search(text) else text


def _join_title(title: str, summary: str) -> str:
    """Title + ". " + summary, unless one already holds the other (Google News repeats titles)."""
    if not title:
        return summary
    folded_title, folded_summary = _fold(title), _fold(summary)
    if folded_title in folded_summary[: len(title) + 8]:
        return summary or title
    if not summary or folded_summary in folded_title:
        return title
    separator = " " if title[-1] in ".!?:;…" else ". "
    return title + separator + summary


def _fold(text: str) -> str:
    """`text` as _plain gives it (collapsed: its only whitespace single spaces and newlines) casefolded,
    on one line. Casefolding makes no whitespace, so only a newline needs the split; looking for one
    costs a hundredth of the isprintable() scan that told it before."""
    if "\n" not in text:
        return text.casefold()
    return " ".join(text.casefold().split())


def _link(entry: Entry, base: str) -> str:
    """The first of `link`, the alternate links and an http(s) `id` that resolves (most often the first,
    taken without starting a generator)."""
    resolved = _resolve(_text_field(entry.get("link")), base)
    if resolved:
        return resolved
    for candidate in _other_links(entry):
        resolved = _resolve(candidate, base)
        if resolved:
            return resolved
    return ""


def _other_links(entry: Entry) -> Iterator[str]:
    """What may stand for a missing `link`: the alternate links, then an http(s) `id`."""
    for link in _dicts(entry.get("links")):
        if link.get("rel") in (None, "", "alternate"):
            yield _text_field(link.get("href"))
    ident = _text_field(entry.get("id"))
    if ident.startswith(_ABSOLUTE):
        yield ident


_ABSOLUTE = ("http://", "https://")


def _resolve(link: str, base: str) -> str:
    """An absolute http(s) URL, or "" (javascript:, data: and friends are dropped). Only a relative
    link is joined to `base`: joining an absolute one cost most of the time a feed took to read."""
    if not link.isprintable() or " " in link:  # then it has controls or whitespace to drop
        link = "".join(strip_controls(link).split())
    if not link:
        return ""
    if link.startswith(_ABSOLUTE) and link.isascii() and "[" not in link and "]" not in link:
        return link  # what urlsplit would say without parsing it: http(s), no IPv6 literal to reject
    try:
        resolved = urljoin(base, link) if base and not link.startswith(_ABSOLUTE) else link
        scheme = urlsplit(resolved).scheme
    except ValueError:
        return ""
    return resolved if scheme in ("http", "https") else ""


_DATE_KEYS = (("published", "published_parsed"), ("updated", "updated_parsed"), ("created", "created_parsed"))


def _published(entry: Entry) -> datetime | None:
    for key, parsed_key in _DATE_KEYS:
        parsed = entry.get(parsed_key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
            except (TypeError, ValueError):
                pass
        when = _iso_datetime(_text_field(entry.get(key)))
        if when is not None:
            return when
    return None


def _iso_datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:  # RFC 822, which some JSON feeds use against their spec
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _ident(entry: Entry, link: str, title: str, published: datetime | None, text: str) -> str:
    ident = plain_collapsed(_text_field(entry.get("id")))
    if not ident or ident == _text_field(entry.get("link")):
        ident = link or ident  # fastfeedparser copies the unresolved link into a missing id
    if not ident and (title or text):
        ident = _stable_hash(title, published.isoformat() if published else "", text)
    if len(ident) > MAX_ID_CHARS:
        ident = _stable_hash(ident)
    return ident


def _stable_hash(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:32]


def _author(entry: Entry) -> str:
    detail = entry.get("author_detail")
    name = _text_field(detail.get("name")) if isinstance(detail, Mapping) else ""
    return _author_name(name or _text_field(entry.get("author")))


@lru_cache(maxsize=4096)
def _author_name(raw: str) -> str:
    """Cached: a feed names the same few authors again and again."""
    # RSS <author> is "email (Name)" by the spec and "Name (email)" in practice.
    without_email = _EMPTY_PARENS.sub("", _EMAIL.sub("", raw)).strip(" ()<>,;")
    return plain_collapsed(without_email or raw)[:200]


def _language(entry: Entry) -> str:
    for key in ("language", "title_detail", "summary_detail"):
        value = entry.get(key)
        if value is not None and isinstance(value, Mapping):  # None first: the ABC check is slow
            value = value.get("language")
        text = _text_field(value)
        if text:
            return strip_controls(text)[:35]
    return ""


def _detail_type(detail: object) -> str:
    return _text_field(detail.get("type")) if detail is not None and isinstance(detail, Mapping) else ""


def _text_field(value: object) -> str:
    """A field's text, or "" when the parser gave something else (None, a list, a number)."""
    return value if isinstance(value, str) else ""


def _dicts(value: object) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Mapping)]
    return []
