"""OPML subscription lists: read the outlines a feed reader exported, write ours for any reader.

Reading is lenient, as feed readers' own exports need (an unescaped `&` in a title is common):
lxml recovers what it can and never reads the network. A subscription list has no use for a DTD, so
one is cut before parsing: libxml2 would expand its entities inside attributes (a billion laughs in a
title). Every `<outline>` with an `xmlUrl` is a feed, however deeply nested under category outlines.

Writing gives OPML 2.0: one outline per feed, `type="rss"` with an `xmlUrl` where the feed has a
plain RSS equivalent (what newsboat, Miniflux and FreshRSS subscribe to), and the feed as feeds.toml
has it in attributes of our own namespace (`monitor:type`, `monitor:hashtag`, ...), so that an
export imported here again gives the same feeds, searches and social accounts included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from monitor.textsafe import one_line

_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.IGNORECASE | re.DOTALL)

NAMESPACE = "urn:x-monitor:feeds"
"""Our attributes' namespace: other readers ignore them; `monitor feeds import` reads them."""
_NS = f"{{{NAMESPACE}}}"


class OpmlError(ValueError):
    """The file is not an OPML subscription list; one line that says why."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One subscription from an OPML file."""

    title: str
    """`title`, else `text`, as written (may be empty)."""
    xml_url: str | None
    keys: Mapping[str, str] = field(default_factory=dict)
    """The feed's feeds.toml keys (`type`, `url`, `hashtag`, `interval` ...) when we wrote the file."""
    categories: tuple[str, ...] = ()
    """The titles of the outlines it is nested in, outermost first."""


@dataclass(frozen=True, slots=True)
class ExportedFeed:
    """A feed as the export writes it: its feeds.toml keys and, where there is one, a plain RSS URL."""

    name: str
    keys: Mapping[str, str]
    web_feed: str | None


def read(data: bytes) -> list[Outline]:
    """The subscriptions in an OPML document, in document order; OpmlError when it is not OPML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True,
                             remove_pis=True, huge_tree=False)
    try:
        root = etree.fromstring(_DOCTYPE.sub(b"", data, count=1), parser)
    except etree.XMLSyntaxError as e:
        raise OpmlError(f"not an OPML file: {e.msg}") from None
    if root is None or etree.QName(root).localname != "opml":
        found = "nothing readable" if root is None else f"<{etree.QName(root).localname}>"
        raise OpmlError(f"not an OPML file: the document holds {found}, not <opml>")
    return [_outline(node) for node in root.iter("outline") if _is_feed(node)]


def _is_feed(node: etree._Element) -> bool:
    return bool(node.get("xmlUrl", "").strip() or node.get(_NS + "type"))


def _outline(node: etree._Element) -> Outline:
    names = ((etree.QName(name), value) for name, value in node.attrib.items())
    keys = {name.localname: str(value) for name, value in names if name.namespace == NAMESPACE}
    categories = tuple(_title(parent) for parent in reversed(list(node.iterancestors("outline"))))
    return Outline(_title(node), node.get("xmlUrl", "").strip() or None, keys, categories)


def _title(node: etree._Element) -> str:
    return (node.get("title") or node.get("text") or "").strip()


def write(feeds: Sequence[ExportedFeed], *, title: str, now: datetime) -> bytes:
    """An OPML 2.0 document with one outline per feed. Values are printable lines: XML cannot carry
    control characters, and the document is often read on a terminal."""
    root = etree.Element("opml", version="2.0", nsmap={"monitor": NAMESPACE})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = etree.SubElement(root, "body")
    for feed in feeds:
        name = one_line(feed.name)
        outline = etree.SubElement(body, "outline", text=name, title=name)
        if feed.web_feed:
            outline.set("type", "rss")
            outline.set("xmlUrl", one_line(feed.web_feed))
        for key, value in feed.keys.items():
            outline.set(_NS + key, one_line(value))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
