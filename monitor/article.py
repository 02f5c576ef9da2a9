"""Read an article: a file, '-' for stdin, or an http(s) URL (main text extracted with trafilatura)."""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.errors import UsageError

MAX_BYTES = 5_000_000
TIMEOUT = 20.0


def read_article(source: str) -> str:
    """The article's plain text; UsageError (one line) when it cannot be read or is empty."""
    if source == "-":
        text = sys.stdin.read()
    elif source.startswith(("http://", "https://")):
        text = _fetch(source)
    else:
        text = _read_file(Path(source))
    if not text.strip():
        raise UsageError(f"{source}: the article is empty")
    return text


def _read_file(path: Path) -> str:
    try:
        return path.read_bytes()[:MAX_BYTES].decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None


def _fetch(url: str) -> str:
    import httpx
    import trafilatura

    try:
        client = httpx.Client(follow_redirects=True, timeout=TIMEOUT, headers={"User-Agent": "monitor"})
        with client, client.stream("GET", url) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise UsageError(f"{url}: the page is larger than {MAX_BYTES // 1_000_000} MB")
            encoding = response.encoding or "utf-8"
    except httpx.HTTPStatusError as e:
        raise UsageError(f"{url}: HTTP {e.response.status_code}") from None
    except httpx.HTTPError as e:
        raise UsageError(f"{url}: cannot fetch: {e}") from None
    html = body.decode(encoding, errors="replace")
    extracted = trafilatura.extract(html, include_comments=False, include_tables=False)
    if not extracted:
        raise UsageError(f"{url}: no article text found in the page")
    return str(extracted)
