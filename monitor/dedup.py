"""Duplicate folding: which earlier post (if any) is this one a copy of?

A ladder, cheapest rung first: the same (source, id); the same canonical URL; the same normalised
title; near-duplicate text (retweets, quote posts, syndicated wire copy) by a bottom-k MinHash
sketch over word-pair shingles, its smallest hashes indexed as probes. Duplicates fold under the
*first* post of their family. Memory is bounded by a time window that follows the clock (the latest
`published` seen).
"""

from __future__ import annotations

import heapq
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from monitor.textfeatures import Features, Featurizer, sketch
from storage.types import Post

__all__ = ["Deduper", "canonical_url", "estimated_jaccard", "sketch"]

Key = tuple[str, str]

_TRACKING_PARAMS_TEXT = (
    "fbclid gclid dclid gclsrc msclkid yclid mc_cid mc_eid igshid _ga _gl ref ref_src ref_url cmpid "
    "ncid ocid smid sref spm share_id track rss xtor __twitter_impression wt_mc at_medium at_campaign cmp"
)
_TRACKING_PARAMS = frozenset(_TRACKING_PARAMS_TEXT.split())
_MOBILE_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
MAX_URL_CHARS = 2_000
PROBES = 4  # the smallest hashes of a sketch go into the candidate index


def canonical_url(url: str) -> str | None:
    """The URL with tracking parameters, fragment, mobile/AMP host and path parts removed.

    http and https count as the same page. Returns None when there is no usable web URL.
    """
    if len(url) > MAX_URL_CHARS:
        return None
    split = web_parts(url.strip())
    if split is None:
        return None
    host, path, query = split
    if host.startswith(_MOBILE_HOST_PREFIXES):
        for prefix in _MOBILE_HOST_PREFIXES:
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix) :]
    path = _canonical_path(path)
    query = urlencode(sorted(_kept_params(query))) if query else ""
    return f"https://{host}{path}?{query}" if query else f"https://{host}{path}"


_PLAIN_HOST = re.compile(r"[a-z0-9.-]+")


def web_parts(url: str) -> tuple[str, str, str] | None:
    """(host, path, query) of an http(s) URL as urlsplit and its `hostname` give them; None when
    it is not one. Every post pays this: a plain URL (lower-case ASCII host, no port, user or
    control characters) is cut here with string methods, at a fraction of urlsplit's cost."""
    rest = url[7:] if url.startswith("http://") else url[8:] if url.startswith("https://") else None
    # Tab, CR and LF: urlsplit removes them wherever they are (three scans in C cost a fifth of a regex search).
    if rest is None or not url.isascii() or "\t" in url or "\r" in url or "\n" in url:
        return _web_parts_by_urlsplit(url)
    end = len(rest)
    for mark in "/?#":
        found = rest.find(mark, 0, end)
        if found >= 0:
            end = found
    host, tail = rest[:end], rest[end:]
    if not _PLAIN_HOST.fullmatch(host):
        return _web_parts_by_urlsplit(url)
    path, _, query = tail.partition("#")[0].partition("?")
    return host, path, query


def _web_parts_by_urlsplit(url: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname  # a property that parses the netloc (and lower-cases): read it once
    if parts.scheme not in ("http", "https") or not host:  # urlsplit lower-cases the scheme
        return None
    return host, parts.path, parts.query


def _kept_params(query: str) -> list[tuple[str, str]]:
    return [
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
        and not (k.lower() in ("output", "outputtype") and v.lower() == "amp")
    ]


def _canonical_path(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1].lower() in ("amp", "amp.html"):
        segments.pop()
    if segments and segments[0].lower() == "amp":
        segments.pop(0)
    if segments and segments[-1].endswith(".amp"):
        segments[-1] = segments[-1][: -len(".amp")]
    return "/" + "/".join(segments)


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Jaccard similarity of two texts estimated from their bottom-k sketches."""
    keep = max(len(a), len(b))
    both = set(a).intersection(b)
    if len(both) <= keep // 4:
        return len(both) / keep  # an upper bound, and already far too low to matter: skip the rest
    union_bottom = sorted(set(a).union(b))[:keep]
    return sum(1 for h in union_bottom if h in both) / len(union_bottom)


@dataclass(slots=True)
class _Entry:
    """One remembered post: its family's first post, and what it put into the indexes (as hashes:
    a 64-bit collision is far rarer than any other mistake here, and a window holds ~100k posts)."""

    root: Key
    url: int | None
    title: int | None
    signature: bytes | None  # the sketch, 8 bytes a hash; its first PROBES hashes are indexed


class Deduper:
    """Remembers recent posts of all topics and says which earlier post a new one duplicates."""

    def __init__(
        self, window: timedelta = timedelta(days=3), *, near_threshold: float = 0.6,
        featurizer: Featurizer | None = None,
    ) -> None:
        self.window = window
        self.featurizer = featurizer or Featurizer()
        self.near_threshold = near_threshold
        self._memory: dict[Key, _Entry] = {}  # every remembered post
        self._by_url: dict[int, Key] = {}
        self._by_title: dict[int, Key] = {}
        self._by_probe: dict[int, Key] = {}
        self._expiry: list[tuple[float, Key]] = []
        self._clock = float("-inf")

    def check(self, post: Post, features: Features | None = None) -> Key | None:
        """The (source, id) of the earlier post this one duplicates, else None; then remembers it.

        A post delivered again (same source and id) returns the key of its family's first post,
        which is its own key when it was an original: callers skip posts they already hold.
        `features` are the post's own, when the caller has already computed them for story building.
        """
        key = (post.source, post.id)
        known = self._memory.get(key)
        if known is not None:
            return known.root
        url = canonical_url(post.url) if post.url else None
        found = features or self.featurizer(post)
        url_hash = hash(url) if url is not None else None
        title_hash = hash(found.title_key) if found.title_key is not None else None
        signature = found.sketch
        original = self._find(url_hash, title_hash, signature)
        packed = array("q", signature).tobytes() if signature is not None else None
        entry = _Entry(original or key, url_hash, title_hash, packed)
        self._remember(key, entry, post.published.timestamp(), signature[:PROBES] if signature is not None else ())
        return original

    def restore(self, posts: Iterable[Post]) -> None:
        """Rebuilds memory after a restart from the store's posts of the window (any order)."""
        for post in sorted(posts, key=lambda p: p.published):
            self.check(post)

    def __len__(self) -> int:
        return len(self._memory)

    # -- the ladder --------------------------------------------------------------------------------

    def _find(self, url: int | None, title: int | None, signature: tuple[int, ...] | None) -> Key | None:
        owner = self._by_url.get(url) if url is not None else None
        if owner is None and title is not None:
            owner = self._by_title.get(title)
        if owner is not None:
            return self._memory[owner].root
        if signature is None:
            return None
        best: tuple[float, Key] | None = None
        tried: set[Key] = set()
        for probe in signature[:PROBES]:
            candidate = self._by_probe.get(probe)
            if candidate is None or candidate in tried:
                continue
            tried.add(candidate)
            packed = self._memory[candidate].signature
            assert packed is not None  # only posts with a sketch are indexed by probe
            similarity = estimated_jaccard(signature, array("q", packed))
            if similarity >= self.near_threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        return None if best is None else self._memory[best[1]].root

    # -- memory ------------------------------------------------------------------------------------

    def _remember(self, key: Key, entry: _Entry, ts: float, probes: Sequence[int]) -> None:
        """`probes`: the entry's first PROBES hashes, as the caller has them (not unpacked again)."""
        self._memory[key] = entry
        # Index entries point at the newest post holding them, so they live as long as the family
        # keeps appearing inside the window; lookups go through `_memory` to the family's first post.
        if entry.url is not None:
            self._by_url[entry.url] = key
        if entry.title is not None:
            self._by_title[entry.title] = key
        for probe in probes:
            self._by_probe[probe] = key
        heapq.heappush(self._expiry, (ts, key))
        self._clock = max(self._clock, ts)
        self._evict(self._clock - self.window.total_seconds())

    def _evict(self, before: float) -> None:
        while self._expiry and self._expiry[0][0] < before:
            _, key = heapq.heappop(self._expiry)
            entry = self._memory.pop(key, None)
            if entry is None:
                continue
            if entry.url is not None and self._by_url.get(entry.url) == key:
                del self._by_url[entry.url]
            if entry.title is not None and self._by_title.get(entry.title) == key:
                del self._by_title[entry.title]
            for probe in _probes(entry.signature):
                if self._by_probe.get(probe) == key:
                    del self._by_probe[probe]


def _probes(packed: bytes | None) -> Sequence[int]:
    return array("q", packed[: 8 * PROBES]) if packed is not None else ()
