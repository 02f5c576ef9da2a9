"""Small feeds written for the tests: RSS built from (id, text) pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def rss(items: list[tuple[str, str]], *, start: datetime = T0, title: str = "test feed") -> bytes:
    """An RSS 2.0 document whose items are (guid, text), one minute apart from `start`."""
    body = "".join(
        f'<item><guid isPermaLink="false">{escape(guid)}</guid><title>{escape(text[:80])}</title>'
        f"<description>{escape(text)}</description><link>http://example.org/{escape(guid)}</link>"
        f"<author>writer{n % 3}@example.org</author>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate></item>"
        for n, (guid, text) in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://example.org/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def feeds_toml(feeds: dict[str, str], *, keywords: tuple[str, ...] = ("volcano", "Grindavik"), interval: str = "5m",
               extra: str = "") -> str:
    """A feeds.toml with one keyword topic and an rss feed per (name, url)."""
    words = ", ".join(f'"{w}"' for w in keywords)
    text = f'[[topics]]\nname = "volcano"\nkeywords = [{words}]\n\n{extra}'
    for name, url in feeds.items():
        text += f'[[feeds]]\nname = "{name}"\ntype = "rss"\nurl = "{url}"\ninterval = "{interval}"\n\n'
    return text
