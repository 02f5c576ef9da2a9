"""Text → features for dedup and clustering: tokens, shingles, weighted term vectors.

Pure and stdlib-only apart from `wordfreq`, which gives every word a prior rarity (an IDF that is
sensible from the very first post, before any online statistics exist).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable

import wordfreq

# Tokens: letters/digits, allowing inner apostrophes (don't, O'Neil) which we then split off.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@[\w.]+")
_RETWEET = re.compile(r"^\s*(?:RT|MT)\s+@[\w.]+:?\s*", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

# Function words carry no story signal; wordfreq would already give them little weight, dropping
# them early saves work and keeps bigrams meaningful ("killed by train" → "killed train").
_STOPWORDS_TEXT = (
    "a an and are as at be been but by can could did do does for from had has have he her his how i "
    "if in into is it its just me more most my new no not of on or our out over said says say she so "
    "than that the their them then there these they this to too up us was we were what when where "
    "which who why will with would you your after about amid via s t ll ve re d m vs"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

MAX_BODY_TOKENS = 60


def clean_text(text: str) -> str:
    """Text without retweet prefix, URLs and @mentions, NFKC-normalised."""
    # Each substitution only runs when its trigger is present: this is on every post's hot path.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if text[:4].lstrip()[:2].upper() in ("RT", "MT"):
        text = _RETWEET.sub("", text)
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    return _MENTION.sub(" ", text) if "@" in text else text


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of `text` (URLs and mentions removed)."""
    return [t.lower() for t in _TOKEN.findall(clean_text(text))]


def stem(token: str) -> str:
    """A very light plural folding: 'workers' → 'worker', keeps 'bus', 'glass', 'news'."""
    if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is", "ews")):
        return token[:-1]
    return token


def content_words(text: str, limit: int | None = None) -> list[str]:
    """Stemmed tokens minus stopwords and one-letter tokens, at most `limit` of them."""
    out = [stem(t) for t in tokens(text) if len(t) > 1 and t not in STOPWORDS]
    return out if limit is None else out[:limit]


def normalized_title(text: str) -> str:
    """A title reduced to its words, for exact-title matching across sources."""
    return " ".join(tokens(strip_site_suffix(text)))


_SITE_SUFFIX = re.compile(r"\s+(?:[-–—|:]\s+)[^-–—|:]{2,40}$")


def strip_site_suffix(title: str) -> str:
    """'Fed holds rates - Reuters' → 'Fed holds rates' (aggregators append the publisher)."""
    stripped = _SITE_SUFFIX.sub("", title.strip())
    # Only trust the cut when a real title is left.
    return stripped if len(stripped.split()) >= 4 else title.strip()


def shingle_text(text: str) -> str:
    """The text reduced for shingling: cleaned, lower-cased words joined by single spaces."""
    return " ".join(tokens(text))


class PriorIdf:
    """Word rarity from wordfreq's general-language frequencies, cached (bounded)."""

    # Zipf frequency is log10 of occurrences per billion words: 'the' ≈ 7.7, unknown words 0.
    CEILING = 7.0
    CACHE_LIMIT = 200_000

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self._cache: dict[str, float] = {}

    def __call__(self, word: str) -> float:
        value = self._cache.get(word)
        if value is None:
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()  # cheap bound; refilling costs a few µs per word
            zipf = wordfreq.zipf_frequency(word, self.lang) if not word.isdigit() else 3.0
            value = max(0.1, self.CEILING - zipf)
            self._cache[word] = value
        return value


class RecentDocFreq:
    """Document frequencies over the last `size` documents: terms common to the whole stream
    (a topic's own query words) stop looking like evidence that two posts share a story."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._docs: deque[frozenset[str]] = deque()
        self._df: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        doc = frozenset(terms)
        self._docs.append(doc)
        self._df.update(doc)
        if len(self._docs) > self.size:
            old = self._docs.popleft()
            self._df.subtract(old)
            for term in old:
                if self._df[term] <= 0:
                    del self._df[term]

    def damping(self, term: str) -> float:
        """1.0 for ordinary terms, falling towards 0 as a term appears in most recent documents."""
        n = len(self._docs)
        if n < 50:
            return 1.0
        share = self._df.get(term, 0) / n
        if share <= 0.05:
            return 1.0
        # log scale: 5% → 1.0, 100% → 0.
        return math.log(1.0 / share) / math.log(20.0)


def _is_title_case(words: list[str]) -> bool:
    """Headlines Capitalise Most Words, so capitals there say nothing about names."""
    alpha = [w for w in words if w[:1].isalpha()]
    if len(alpha) < 3:
        return True
    capital = sum(1 for w in alpha if w[0].isupper())
    return capital / len(alpha) > 0.5


def _entity_words(raw: list[str]) -> set[str]:
    """Lower-cased words written with a capital inside a sentence of normal case: likely names."""
    if _is_title_case(raw):
        return set()
    found: set[str] = set()
    for previous, word in itertools.pairwise(raw):
        if word[0].isupper() and previous[-1:] not in ".!?" and word.lower() not in STOPWORDS:
            found.add(stem(word.lower()))
    return found


class TermWeights:
    """Turns a post's title and body into an L2-normalised sparse vector of weighted terms.

    Unigrams weigh their rarity; adjacent-word bigrams add precision in short texts; words that look
    like names get a boost. Title words count fully, body words half (a headline states the story).
    """

    def __init__(
        self, idf: PriorIdf, recent: RecentDocFreq, *, bigram_weight: float = 0.6,
        entity_boost: float = 1.5, body_weight: float = 0.5,
    ) -> None:
        self.idf = idf
        self.recent = recent
        self.bigram_weight = bigram_weight
        self.entity_boost = entity_boost
        self.body_weight = body_weight

    def vector(self, title: str, body: str) -> dict[str, float]:
        """The normalised vector; also feeds the recent document frequencies."""
        weights: dict[str, float] = {}
        if title:
            self._add_part(weights, title, 1.0)
        if body and body != title:
            self._add_part(weights, body, self.body_weight if title else 1.0)
        self.recent.add(weights)
        damped = {t: w * self.recent.damping(t) for t, w in weights.items()}
        norm = math.sqrt(sum(w * w for w in damped.values()))
        if norm == 0.0:
            return {}
        return {t: w / norm for t, w in damped.items() if w > 0.0}

    def _add_part(self, weights: dict[str, float], text: str, scale: float) -> None:
        raw = _TOKEN.findall(clean_text(text))[: 2 * MAX_BODY_TOKENS]
        words = [stem(t) for t in map(str.lower, raw) if len(t) > 1 and t not in STOPWORDS]
        words = words[:MAX_BODY_TOKENS]
        entities = _entity_words(raw)
        idfs = [self.idf(w) for w in words]
        for word, idf in zip(words, idfs, strict=True):
            value = scale * idf * (self.entity_boost if word in entities else 1.0)
            if value > weights.get(word, 0.0):
                weights[word] = value
        half = scale * self.bigram_weight / 2.0
        for i in range(len(words) - 1):
            bigram = words[i] + " " + words[i + 1]
            value = half * (idfs[i] + idfs[i + 1])
            if value > weights.get(bigram, 0.0):
                weights[bigram] = value
