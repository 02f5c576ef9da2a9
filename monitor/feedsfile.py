"""Edit feeds.toml in place with tomlkit: comments, order and formatting stay as the user left them."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Item, Key, Table

from monitor import config

TOPIC_KEYS = ("query", "keywords", "weights", "threshold", "article")
"""What `init` writes into a topic; the topic's other keys are the user's."""

HEADER = """\
# feeds.toml: what `monitor` watches. Made by `monitor init`; edit freely, comments are kept.
#
# [[topics]]: `query` in the query language (see README), or `keywords` (any of them).
#   `weights` score a post by the distinct terms it holds; it is kept when the score
#   reaches `threshold`. `monitor init ARTICLE` writes these from an article.
# [[feeds]]: `type` is rss, mastodon, bluesky, reddit, hackernews or x; `interval` like "5m".

# [storage]
# url = "sqlite:///monitor.db"        # default: monitor.db beside this file; or postgresql://...

"""

FEEDS = """
# Middle East news desks (RSS).
[[feeds]]
name = "aljazeera"
type = "rss"
url = "https://www.aljazeera.com/xml/rss/all.xml"
interval = "10m"

[[feeds]]
name = "bbc-middle-east"
type = "rss"
url = "https://feeds.bbci.co.uk/news/world/middle_east/rss.xml"
interval = "10m"

[[feeds]]
name = "times-of-israel"
type = "rss"
url = "https://www.timesofisrael.com/feed/"
interval = "10m"

# Hacker News (Algolia search) for the topics' queries.
# [[feeds]]
# name = "hn"
# type = "hackernews"
# topic = "TOPIC"
"""


def topic_feeds(topic: str, hashtag: str | None) -> str:
    """Feeds that follow one topic: a Google News RSS search (the rss source renders the topic's
    query into the search URL) and, when the article has a name for it, a Mastodon hashtag feed."""
    text = f"""
# Google News search for the topic's query.
[[feeds]]
name = "google-news-{topic}"
type = "rss"
topic = "{topic}"
interval = "15m"
"""
    if hashtag:
        text += f"""
# Public posts with the hashtag on mastodon.social (no account needed).
[[feeds]]
name = "mastodon-{hashtag.lower()}"
type = "rss"
url = "https://mastodon.social/tags/{hashtag}.rss"
interval = "10m"
"""
    return text


def upsert_topic(path: Path, values: Mapping[str, object], hashtag: str | None = None) -> str:
    """Add or update the [[topics]] entry named values["name"]; return the new text.

    The file is written to a temporary file beside it and renamed over it, and only after the
    result loads with monitor.config: a crash or a bad value never leaves a half-written file.
    """
    existed = path.exists()
    try:
        text = path.read_text(encoding="utf-8") if existed else HEADER
    except (OSError, UnicodeDecodeError) as e:
        raise config.ConfigError(f"{path}: cannot read: {e}") from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as e:
        raise config.ConfigError(f"{path}: not valid TOML: {e}") from None
    _put_topic(doc, dict(values))
    new_text = tomlkit.dumps(doc)
    if not existed:
        new_text = new_text.rstrip("\n") + "\n" + FEEDS + topic_feeds(str(values["name"]), hashtag)
    config.parse(new_text, path)
    write_atomically(path, new_text)
    return new_text


def forget_term(path: Path, topic: str, term: str) -> str:
    """Add `term` to the topic's `forget` list (comments kept, written atomically); return the new text."""
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise config.ConfigError(f"{path}: cannot read: {e}") from None
    except tomlkit.exceptions.TOMLKitError as e:
        raise config.ConfigError(f"{path}: not valid TOML: {e}") from None
    table = next(t for t in doc.get("topics", []) if t.get("name") == topic)
    forgotten = table.setdefault("forget", tomlkit.array())
    if term.casefold() not in {str(f).casefold() for f in forgotten}:
        forgotten.append(term)
    new_text = tomlkit.dumps(doc)
    config.parse(new_text, path)
    write_atomically(path, new_text)
    return new_text


def _put_topic(doc: tomlkit.TOMLDocument, values: dict[str, object]) -> None:
    topics = doc.get("topics")
    if topics is None:
        topics = tomlkit.aot()
        doc.append("topics", topics)
    if not isinstance(topics, AoT):
        raise config.ConfigError('feeds.toml: key "topics": must be an array of tables ([[topics]])')
    for table in topics:
        if table.get("name") == values["name"]:
            _update(table, values)
            return
    table = tomlkit.table()
    _fill(table, values)
    topics.append(table)


def _update(table: Table, values: dict[str, object]) -> None:
    """Put `values` into an existing topic in place: keys keep their place and inline comments, and the
    comments that end the topic (tomlkit holds them as its last table's tail; they head the next
    table) stay at its end."""
    tail = _detach_tail(table)
    for key in [k for k in TOPIC_KEYS if k in table and k not in values]:
        del table[key]
    _fill(table, values)
    if tail:  # the old tail replaces the blank line _fill ends with
        _detach_tail(table)
        _last_table(table).value.body.extend(tail)


def _detach_tail(table: Table) -> list[tuple[Key | None, Item]]:
    """The comments and blank lines after the last key of `table`'s last table, removed from it."""
    body = _last_table(table).value.body
    start = len(body)
    while start and body[start - 1][0] is None:
        start -= 1
    tail = body[start:]
    del body[start:]
    return tail


def _last_table(table: Table) -> Table:
    """The table whose text comes last: [topics.weights] when the topic has one."""
    last = table.value.body[-1][1] if table.value.body else None
    return _last_table(last) if isinstance(last, Table) else table


def _fill(table: Table, values: dict[str, object]) -> None:
    for key, value in values.items():
        if isinstance(value, Mapping):
            sub = tomlkit.table()
            for k, v in value.items():
                sub.add(k, v)
            sub.add(tomlkit.nl())
            table[key] = sub
        else:
            table[key] = value
    if not any(isinstance(v, Mapping) for v in values.values()):
        table.add(tomlkit.nl())


_FEEDS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*feeds[ \t]*\]\][ \t]*(?:#.*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*[A-Za-z0-9_.\"' -]+\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


def add_feeds(path: Path, tables: Sequence[Mapping[str, str]]) -> str:
    """Append [[feeds]] tables after the last one (or at the end); return the new text.

    Only the new tables' lines are inserted: every other byte of the file stays as it was. The result
    is checked like a hand edit (monitor.config) and written atomically; ConfigError otherwise.
    """
    text = _read_feeds_file(path) if path.exists() else HEADER
    before = _parsed(path, text)
    spans = _feed_spans(path, text, before)
    at = spans[-1][1] if spans else len(text)
    block = "".join("\n" + tomlkit.dumps({"feeds": [dict(t)]}) for t in tables)
    if at == 0:
        block = block.lstrip("\n")
    elif not text[:at].endswith("\n"):
        block = "\n" + block
    new_text = text[:at] + block + text[at:]
    _check_edit(path, before, new_text, [*before.get("feeds", []), *map(dict, tables)])
    write_atomically(path, new_text)
    return new_text


def remove_feed(path: Path, name: str) -> str:
    """Delete the [[feeds]] table named `name` (its lines and the blank line before it); return the new text.

    Comments after the table's last key stay: they head whatever follows it.
    """
    text = _read_feeds_file(path)
    before = _parsed(path, text)
    feeds = before.get("feeds", [])
    spans = _feed_spans(path, text, before)
    index = next(i for i, feed in enumerate(feeds) if feed.get("name") == name)
    start, end = spans[index]
    if text[:start].endswith("\n\n"):
        start -= 1
    new_text = text[:start] + text[end:]
    _check_edit(path, before, new_text, feeds[:index] + feeds[index + 1:])
    write_atomically(path, new_text)
    return new_text


def _read_feeds_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise config.ConfigError(f"{path}: no such file (create one with `monitor init ARTICLE`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise config.ConfigError(f"{path}: cannot read: {e}") from None


def _parsed(path: Path, text: str) -> dict[str, Any]:
    """The file's TOML once it passes the strict checks: an edit starts from a file that loads."""
    config.parse(text, path)
    return tomllib.loads(text)


def _feed_spans(path: Path, text: str, parsed: Mapping[str, Any]) -> list[tuple[int, int]]:
    """Where each [[feeds]] table's own lines start and end, in file order: from its header to its last
    key, without the comments and blank lines after that (they head the next table)."""
    headers = [m.start() for m in _ANY_HEADER.finditer(text)]
    spans = []
    for found in _FEEDS_HEADER.finditer(text):
        following = next((h for h in headers if h > found.start()), len(text))
        spans.append((found.start(), _own_end(text, found.start(), following)))
    if len(spans) != len(parsed.get("feeds", [])):
        raise _unsafe(path)
    return spans


def _own_end(text: str, start: int, end: int) -> int:
    lines = text[start:end].splitlines(keepends=True)
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return start + sum(map(len, lines))


def _check_edit(path: Path, before: Mapping[str, Any], new_text: str, feeds: list[dict[str, Any]]) -> None:
    """The edited text loads, holds exactly `feeds`, and everything else as it was."""
    config.parse(new_text, path)
    after = tomllib.loads(new_text)
    rest_before = {k: v for k, v in before.items() if k != "feeds"}
    if after.get("feeds", []) != feeds or {k: v for k, v in after.items() if k != "feeds"} != rest_before:
        raise _unsafe(path)


def _unsafe(path: Path) -> config.ConfigError:
    return config.ConfigError(f"{path}: its [[feeds]] tables are laid out in a way this command cannot edit "
                              "safely; the file is unchanged (edit it by hand)")


def write_atomically(path: Path, text: str) -> None:
    """Replace the file at `path` (a symlink's target) by `text` all at once, keeping its mode and owner.

    A failure leaves the old file as it was and is one ConfigError line that says so.
    """
    target = path.resolve() if path.is_symlink() else path
    old = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        old = target.stat() if target.exists() else None
        _replace(target, text, old)
    except OSError as e:
        kept = "the old file is kept" if old is not None else "nothing was written"
        raise config.ConfigError(f"{path}: cannot write: {e.strerror or e}; {kept}") from None


def _replace(target: Path, text: str, old: os.stat_result | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            if old is None:  # a new file gets the mode any new file would get, not mkstemp's 0600
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            else:
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
                with contextlib.suppress(PermissionError):  # only root may give a file away
                    os.fchown(f.fileno(), old.st_uid, old.st_gid)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask
