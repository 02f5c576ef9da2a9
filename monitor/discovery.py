"""Feed autodiscovery: the feeds a web page names in `<link rel="alternate" type="…" href="…">`.

What every feed reader does with a page's address (the RSS Advisory Board's autodiscovery spec):
links are read from the whole document, resolved against `<base href>` or the page's own URL, and
kept in the page's order (a site lists its main feed first, comment feeds after it). Pure: bytes
in, links out; the command that asks does the fetching.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from monitor.textsafe import one_line

FEED_TYPES = frozenset({
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
})
"""`type` values that name a feed; `text/html` alternates (translations, AMP pages) do not."""
MAX_TITLE = 80


@dataclass(frozen=True, slots=True)
class FeedLink:
    url: str
    title: str
    """The link's own title (may be empty): what the site calls the feed."""


def feed_links(page: bytes, page_url: str) -> list[FeedLink]:
    """The feeds `page` links to, absolute, first one first, each once."""
    tree = LexborHTMLParser(page)
    base = _base(tree, page_url)
    found: dict[str, FeedLink] = {}
    for node in tree.css("link[href]"):
        attrs = node.attributes
        rels = (attrs.get("rel") or "").lower().split()
        kind = (attrs.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in FEED_TYPES:
            continue
        url = _absolute(base, attrs.get("href") or "")
        if url and url not in found:
            found[url] = FeedLink(url, one_line(attrs.get("title") or "", MAX_TITLE))
    return list(found.values())


def _base(tree: LexborHTMLParser, page_url: str) -> str:
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    return (_absolute(page_url, href) if href else None) or page_url


def _absolute(base: str, href: str) -> str | None:
    """`href` resolved against `base`; None unless that is an http(s) URL."""
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
    except ValueError:  # a bad IPv6 literal
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None
