"""Duplicate folding: which earlier post (if any) is this one a copy of?

A ladder, cheapest rung first: the same (source, id); the same canonical URL; the same normalised
title; near-duplicate text (retweets, quote posts, syndicated wire copy) by MinHash over character
shingles with LSH banding. Duplicates fold under the *first* post of their family. Memory is bounded
by a time window that follows the clock (the latest `published` seen).
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from monitor.textfeatures import char_shingles, normalized_title
from storage.types import Post

Key = tuple[str, str]

_TRACKING_PARAMS = frozenset(
    """fbclid gclid dclid gclsrc msclkid yclid mc_cid mc_eid igshid _ga _gl ref ref_src ref_url
    cmpid ncid ocid smid sref spm share_id track rss xtor __twitter_impression wt_mc at_medium
    at_campaign cmp""".split()
)
_MOBILE_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_MIN_TITLE_WORDS = 4
_MIN_SHINGLES = 20


def canonical_url(url: str) -> str | None:
    """The URL with tracking parameters, fragment, mobile/AMP host and path parts removed.

    http and https count as the same page. Returns None when there is no usable web URL.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    for prefix in _MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    path = _canonical_path(parts.path)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
        and not (k.lower() in ("output", "outputtype") and v.lower() == "amp")
    ]
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def _canonical_path(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1].lower() in ("amp", "amp.html"):
        segments.pop()
    if segments and segments[0].lower() == "amp":
        segments.pop(0)
    if segments and segments[-1].endswith(".amp"):
        segments[-1] = segments[-1][: -len(".amp")]
    return "/" + "/".join(segments)


class MinHasher:
    """MinHash signatures by multiply-shift hashing of 32-bit shingle hashes (vectorised)."""

    def __init__(self, permutations: int = 32, seed: int = 20100601) -> None:
        rng = np.random.default_rng(seed)
        # Odd multipliers make `a * x + b mod 2**64` a good universal family; the top 32 bits are kept.
        self._a = rng.integers(1, 2**63, size=permutations, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=permutations, dtype=np.uint64)
        self.permutations = permutations

    def signature(self, shingles: Iterable[str]) -> npt.NDArray[np.uint32]:
        hashes = np.fromiter(
            (zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=np.uint64
        )
        mixed = (hashes[:, None] * self._a[None, :] + self._b[None, :]) >> np.uint64(32)
        return mixed.min(axis=0).astype(np.uint32)


@dataclass(slots=True)
class _Entry:
    """What one remembered post put into the indexes, so it can be taken out again."""

    key: Key
    url: str | None
    title: str | None
    bands: list[bytes] = field(default_factory=list)


class Deduper:
    """Remembers recent posts of all topics and says which earlier post a new one duplicates."""

    def __init__(
        self, window: timedelta = timedelta(days=3), *, near_threshold: float = 0.7,
        permutations: int = 32, bands: int = 8,
    ) -> None:
        if permutations % bands:
            raise ValueError("permutations must be a multiple of bands")
        self.window = window
        self.near_threshold = near_threshold
        self._hasher = MinHasher(permutations)
        self._rows = permutations // bands
        self._bands = bands
        self._root: dict[Key, Key] = {}  # every remembered post → the first post of its family
        self._by_url: dict[str, Key] = {}
        self._by_title: dict[str, Key] = {}
        self._by_band: dict[bytes, Key] = {}
        self._signature: dict[Key, bytes] = {}
        self._expiry: list[tuple[float, int, _Entry]] = []
        self._seq = 0
        self._clock = float("-inf")

    def check(self, post: Post) -> Key | None:
        """The (source, id) of the earlier post this one duplicates, else None; then remembers it.

        A post delivered again (same source and id) returns the key of its family's first post,
        which is its own key when it was an original: callers skip posts they already hold.
        """
        key = (post.source, post.id)
        known = self._root.get(key)
        if known is not None:
            return known
        url = canonical_url(post.url) if post.url else None
        title = self._title_key(post)
        signature = self._signature_of(post)
        bands = self._band_keys(signature) if signature is not None else []
        original = self._find(url, title, signature, bands)
        self._remember(_Entry(key, url, title, bands), original, signature, post.published.timestamp())
        return original

    def restore(self, posts: Iterable[Post]) -> None:
        """Rebuilds memory after a restart from the store's posts of the window (any order)."""
        for post in sorted(posts, key=lambda p: p.published):
            self.check(post)

    def __len__(self) -> int:
        return len(self._root)

    # -- the ladder --------------------------------------------------------------------------------

    def _find(
        self, url: str | None, title: str | None, signature: bytes | None, bands: list[bytes]
    ) -> Key | None:
        owner = self._by_url.get(url) if url is not None else None
        if owner is None and title is not None:
            owner = self._by_title.get(title)
        if owner is not None:
            return self._root[owner]
        if signature is None:
            return None
        best: tuple[float, Key] | None = None
        for band in bands:
            candidate = self._by_band.get(band)
            if candidate is None:
                continue
            similarity = _estimated_jaccard(signature, self._signature[candidate])
            if similarity >= self.near_threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        return None if best is None else self._root[best[1]]

    @staticmethod
    def _title_key(post: Post) -> str | None:
        # Titles only: identical short social texts ("Wow!") from different people are not copies.
        text = post.title
        if not text:
            return None
        normal = normalized_title(text)
        return normal if len(normal.split()) >= _MIN_TITLE_WORDS else None

    def _signature_of(self, post: Post) -> bytes | None:
        text = post.text if len(post.text) >= len(post.title) else post.title
        shingles = char_shingles(text)
        if len(shingles) < _MIN_SHINGLES:  # too short to call a copy by resemblance alone
            return None
        return self._hasher.signature(shingles).tobytes()

    def _band_keys(self, signature: bytes) -> list[bytes]:
        width = self._rows * 4
        return [bytes([i]) + signature[i * width : (i + 1) * width] for i in range(self._bands)]

    # -- memory ------------------------------------------------------------------------------------

    def _remember(self, entry: _Entry, original: Key | None, signature: bytes | None, ts: float) -> None:
        root = original if original is not None else entry.key
        self._root[entry.key] = root
        # Index entries point at the newest post holding them, so they live as long as the family
        # keeps appearing inside the window; lookups go through `_root` to the family's first post.
        if entry.url is not None:
            self._by_url[entry.url] = entry.key
        if entry.title is not None:
            self._by_title[entry.title] = entry.key
        if signature is not None:
            self._signature[entry.key] = signature
            for band in entry.bands:
                self._by_band[band] = entry.key
        self._seq += 1
        heapq.heappush(self._expiry, (ts, self._seq, entry))
        self._clock = max(self._clock, ts)
        self._evict(self._clock - self.window.total_seconds())

    def _evict(self, before: float) -> None:
        while self._expiry and self._expiry[0][0] < before:
            _, _, entry = heapq.heappop(self._expiry)
            self._root.pop(entry.key, None)
            self._signature.pop(entry.key, None)
            if entry.url is not None and self._by_url.get(entry.url) == entry.key:
                del self._by_url[entry.url]
            if entry.title is not None and self._by_title.get(entry.title) == entry.key:
                del self._by_title[entry.title]
            for band in entry.bands:
                if self._by_band.get(band) == entry.key:
                    del self._by_band[band]


def _estimated_jaccard(a: bytes, b: bytes) -> float:
    left = np.frombuffer(a, dtype=np.uint32)
    right = np.frombuffer(b, dtype=np.uint32)
    return float(np.count_nonzero(left == right)) / len(left)
