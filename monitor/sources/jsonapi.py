"""What the social API sources share: hostile JSON read safely, times in UTC, ids compared, text cleaned.

Every accessor returns the expected type or an empty value: a field of the wrong type in a
response is treated as missing rather than crashing the whole page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.pollerrors import FeedError, NotConfigured
from monitor.textsafe import printable, strip_controls

JSON = dict[str, Any]

_LINK = re.compile(r'<\s*([^>]*)>\s*((?:;\s*[^;,]*)*)')
_REL = re.compile(r'rel\s*=\s*"?([^";]+)"?')


def load(body: bytes, what: str) -> Any:
    """The JSON document in `body`, or a FeedError naming `what` (e.g. "Mastodon hashtag timeline")."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        head = tidy(body[:60].decode("utf-8", "replace"), one_line=True)
        raise FeedError(f"{what}: the response is not JSON (starts with {head!r})") from None


def obj(value: object, key: str) -> JSON:
    got = value.get(key) if isinstance(value, dict) else None
    return got if isinstance(got, dict) else {}


def arr(value: object, key: str) -> list[Any]:
    got = value.get(key) if isinstance(value, dict) else None
    return got if isinstance(got, list) else []


def text(value: object, key: str) -> str:
    got = value.get(key) if isinstance(value, dict) else None
    if isinstance(got, bool):
        return ""
    return str(got) if isinstance(got, str | int) else ""


def number(value: object, key: str) -> float | None:
    got = value.get(key) if isinstance(value, dict) else None
    if isinstance(got, bool) or not isinstance(got, int | float):
        return None
    return float(got)


def dicts(items: Sequence[object]) -> list[JSON]:
    return [item for item in items if isinstance(item, dict)]


def utc(stamp: str) -> datetime | None:
    """An ISO 8601 time as aware UTC; a time without a zone is taken as UTC; None when unreadable."""
    stamp = stamp.strip()
    if not stamp:
        return None
    # Python 3.11 reads at most 6 fraction digits; some servers send more.
    stamp = re.sub(r"(\.\d{6})\d+", r"\1", stamp)
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def from_epoch(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def id_key(value: str) -> tuple[int, str]:
    """Sort key for numeric string ids (snowflakes) that compares them as numbers."""
    return (len(value.lstrip("0")), value.lstrip("0")) if value.isdigit() else (0, value)


def newest_id(*ids: str) -> str:
    """The largest of the numeric ids given (empty strings ignored); "" when there are none."""
    present = [i for i in ids if i]
    return max(present, key=id_key) if present else ""


def is_newer(candidate: str, bound: str) -> bool:
    return not bound or id_key(candidate) > id_key(bound)


def tidy(value: str, *, one_line: bool = False) -> str:
    """Text without control characters, spaces folded, at most one blank line between paragraphs
    (or everything on one line)."""
    value = strip_controls(value)
    if one_line:
        return " ".join(value.split())
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def person(name: str, handle: str) -> str:
    """'Display Name (@handle)', or '@handle' when there is no display name."""
    name = tidy(printable(name), one_line=True)  # a display name is decoration: no invisible marks
    handle = tidy(handle, one_line=True).lstrip("@")
    if not handle:
        return name
    return f"{name} (@{handle})" if name else f"@{handle}"


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL (the last value of a repeated name)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def path_of(url: str) -> str:
    return urlsplit(url).path


def parse_link_header(header: str) -> dict[str, str]:
    """RFC 8288 `Link` header → {rel: url}, e.g. Mastodon's rel="next" and rel="prev"."""
    links: dict[str, str] = {}
    for url, params in _LINK.findall(header or ""):
        rel = _REL.search(params)
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.lower(), url.strip())
    return links


def api_error(document: object) -> str:
    """The reason an API gave in an error body ({"error": ...}, {"errors": [...]}, {"message": ...})."""
    if not isinstance(document, dict):
        return ""
    parts = [text(document, key) for key in ("error", "message", "title", "detail")]
    parts += [text(e, "message") or text(e, "detail") for e in dicts(arr(document, "errors"))]
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return tidy(": ".join(seen), one_line=True)[:300]


def fail(what: str, document: object, secrets: Mapping[str, str] = {}) -> FeedError:
    """A one-line FeedError for an error body, with any secret value redacted."""
    return FeedError(redact(f"{what}: {api_error(document) or 'unexpected response'}", secrets))


def redact(message: str, secrets: Mapping[str, str]) -> str:
    for value in secrets.values():
        if value:
            message = message.replace(value, "[redacted]")
    return message


def require_secret(ctx_secrets: Mapping[str, str], key: str, env_name: str, what: str) -> str:
    value = ctx_secrets.get(key, "")
    if not value:
        where = f"the environment variable {env_name}" if env_name else f"{key}_env in the feed"
        raise NotConfigured(f"{what}: set {where}")
    return value
