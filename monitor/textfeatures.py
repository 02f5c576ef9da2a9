"""Text → features for dedup and stories: tokens, shingles, weighted term vectors.

`Featurizer` turns a post into `Features` once; the deduper and every topic's story builder share them.

Pure and stdlib-only apart from wordfreq's tables (monitor/wordtables.py), which give every word a
prior rarity (an IDF that is sensible from the very first post, before any online statistics exist).
"""

from __future__ import annotations

import itertools
import math
import re
import string
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress, islice, pairwise, repeat
from operator import gt, itemgetter

from monitor import wordtables
from storage.types import Post

# Tokens: letters/digits, allowing inner apostrophes (don't, O'Neil) which we then split off.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# The same tokens in ASCII text: every other byte made a space, then split, in 2/5 of findall's instructions.
_ASCII_SPACES = bytes(c if chr(c) in string.ascii_letters + string.digits else 32 for c in range(256))
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
MAX_TERMS = 32  # a post's heaviest terms; the rest add little to any cosine and cost on every step
MAX_TEXT_CHARS = 20_000  # hostile or huge posts are read this far, no further
MAX_SHINGLE_WORDS = 400
MIN_TITLE_WORDS = 4
MIN_SHINGLES = 6  # word pairs; below this a text is too short to call a copy by resemblance alone
SKETCH_SIZE = 16


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
    return [t.lower() for t in _words(clean_text(text))]


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


_SUFFIX_MARKS = "-–—|:"


def strip_site_suffix(title: str) -> str:
    """'Fed holds rates - Reuters' → 'Fed holds rates' (aggregators append the publisher)."""
    # Most titles hold no mark a suffix starts with: five scans in C, a sixth of the regex's cost.
    if not any(map(title.__contains__, _SUFFIX_MARKS)):
        return title.strip()
    stripped = _SITE_SUFFIX.sub("", title.strip())
    # Only trust the cut when a real title is left.
    return stripped if len(stripped.split()) >= 4 else title.strip()


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
            value = max(0.1, self.CEILING - self._zipf(word))
            self._cache[word] = value
        return value

    def _zipf(self, word: str) -> float:
        # The table is read at the first word, not when a pipeline is built: one copy per process.
        return 3.0 if word.isdigit() else wordtables.zipf(word, self.lang)


class RecentDocFreq:
    """Document frequencies over the last `size` documents: terms common to the whole stream
    (a topic's own query words) stop looking like evidence that two posts share a story."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._docs: deque[tuple[str, ...]] = deque()
        self._df: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        doc = tuple(terms)  # the keys of one vector: already distinct
        self._docs.append(doc)
        df = self._df
        df.update(doc)  # counted in C
        if len(self._docs) > self.size:
            for term in self._docs.popleft():
                left = df[term] - 1
                if left:
                    df[term] = left
                else:
                    df.pop(term)  # dict's own: Counter's `del` is a Python method, run for most terms

    def weigh(self, terms: dict[str, float]) -> dict[str, float]:
        """Counts `terms` as one document, then returns them damped, L2-normalised, heaviest first."""
        self.add(terms)
        n = len(self._docs)
        if n >= 50 and terms:
            df = self._df
            counts = list(map(df.__getitem__, terms))  # every term is counted: the document was just added
            common = 0.05 * n
            # Two posts in three hold no term that common: one pass in C tells, and they keep their weights.
            # The others hold one or two: only those are damped, in a copy (the features are shared).
            if max(counts) > common:
                damped = dict(terms)
                for term in compress(terms, map(gt, counts, repeat(common))):
                    damped[term] *= _damping(df[term] / n)
                terms = damped
        norm = math.hypot(*terms.values())
        if norm == 0.0:
            return {}
        scale = 1.0 / norm
        return {t: w * scale for t, w in sorted(terms.items(), key=_weight, reverse=True) if w > 0.0}


_LOG20 = math.log(20.0)


def _damping(share: float) -> float:
    # log scale: 5% → 1.0, 100% → 0.
    return 1.0 if share <= 0.05 else math.log(1.0 / share) / _LOG20


def _is_title_case(initials: str) -> bool:
    """Headlines Capitalise Most Words, so capitals there say nothing about names. `initials`: the
    first character of each token."""
    if initials.isascii():  # letters and digits: counted by two deletions in C, 4x cheaper than char by char
        ascii_initials = initials.encode()
        alpha = len(ascii_initials.translate(None, _DIGITS))
        capital = len(ascii_initials.translate(None, _NOT_CAPITALS))
    else:
        alpha = sum(map(str.isalpha, initials))
        capital = sum(1 for c in initials if c.isalpha() and c.isupper())
    return alpha < 3 or capital / alpha > 0.5


_DIGITS = string.digits.encode()
_NOT_CAPITALS = bytes(c for c in range(256) if not chr(c).isupper() or c > 127)
_INITIAL = itemgetter(slice(0, 1))


def sketch(text: str, keep: int = SKETCH_SIZE) -> tuple[int, ...] | None:
    """A bottom-k sketch: the `keep` smallest hashes of `text`'s word-pair shingles, ascending.

    One hash function instead of MinHash's k keeps this pure Python and fast; the Jaccard estimate
    from two sketches is as good as k-permutation MinHash (Cohen & Kaplan 2007). Shingles are
    adjacent word pairs of the (cleaned, lower-cased) text: a changed word touches two of them, as
    a five-letter character shingle would, at a sixth of the hashing. Python's string hash is salted
    per process, which is fine: memory is rebuilt by `restore` in the new process. None when the
    text has fewer than MIN_SHINGLES pairs (too short to judge by resemblance). Only the first
    MAX_SHINGLE_WORDS words count, so a huge post costs no more than a long one.
    """
    words = text.split()[:MAX_SHINGLE_WORDS]
    if len(words) - 1 < MIN_SHINGLES:
        return None
    pairs = set(map(" ".join, itertools.pairwise(words)))  # C loops: every post pays this
    return tuple(sorted(map(hash, pairs))[:keep])


@dataclass(frozen=True, slots=True)
class Features:
    """What duplicate folding and story building need from one post's text, computed once for both."""

    title_key: str | None  # the normalised title, when it is long enough to identify a story
    sketch: tuple[int, ...] | None  # bottom-k shingle hashes of the longer of title and text
    terms: dict[str, float]  # weighted terms before any topic's damping, heaviest first


class Featurizer:
    """Turns a post into `Features`: one tokenisation shared by the deduper and every story builder.

    Unigrams weigh their rarity; adjacent-word bigrams add precision in short texts; words that look
    like names get a boost. Title words count fully, body words half (a headline states the story).
    Only the `max_terms` heaviest terms are kept, which bounds every later step's cost per post.
    """

    def __init__(
        self, idf: PriorIdf | None = None, *, bigram_weight: float = 0.6, entity_boost: float = 1.5,
        body_weight: float = 0.5, max_terms: int = MAX_TERMS,
    ) -> None:
        self.idf = idf or PriorIdf()
        self.bigram_weight = bigram_weight
        self.entity_boost = entity_boost
        self.body_weight = body_weight
        self.max_terms = max_terms
        self._lexicon = _Lexicon(self.idf)
        # A body word or bigram that the title also holds weighs less there, whether a name or not (the
        # margin keeps it so after rounding): the body's repeat of its title can be passed over.
        self._title_outweighs = body_weight * max(1.0, entity_boost) < 0.99 * min(1.0, entity_boost)

    def __call__(self, post: Post) -> Features:
        title, body = post.title, post.text
        title_raw = _raw_tokens(title) if title else []
        body_raw = _raw_tokens(body) if body and body != title else title_raw
        weights: dict[str, float] = {}
        heading = self._add_part(weights, title_raw, 1.0, []) if title_raw else []
        if body_raw is not title_raw:
            self._add_part(weights, body_raw, self.body_weight if title else 1.0, heading)
        longer = body_raw if len(body) >= len(title) else title_raw
        shingled = sketch(" ".join(longer).lower())
        if len(weights) > self.max_terms:
            weights = dict(sorted(weights.items(), key=_weight, reverse=True)[: self.max_terms])
        return Features(_title_key(title, title_raw), shingled, weights)

    def _add_part(
        self, weights: dict[str, float], raw: list[str], scale: float, heading: list[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """Adds one part's terms to `weights`, where a term keeps its heaviest value over the parts, and
        returns the part's entries. `heading`: the title's entries when this part is the body, else []."""
        raw = raw[: 2 * MAX_BODY_TOKENS]
        entries = self._entries(raw)
        names = self._names(raw)
        start = self._repeated(entries, heading)
        heaviest = weights.get
        for word, idf in islice(entries, start, None):
            # Without names (most parts) the factor is 1.0, and scale * idf * 1.0 is scale * idf.
            value = scale * idf * (self.entity_boost if word in names else 1.0) if names else scale * idf
            if value > heaviest(word, 0.0):
                weights[word] = value
        half = scale * self.bigram_weight / 2.0
        for (word, idf), (after, idf_after) in pairwise(islice(entries, max(start - 1, 0), None)):
            bigram = word + " " + after
            value = half * (idf + idf_after)
            if value > heaviest(bigram, 0.0):
                weights[bigram] = value
        return entries

    def _repeated(self, entries: list[tuple[str, float]], heading: list[tuple[str, float]]) -> int:
        """How many of a body's first entries repeat its title's (whose words and bigrams outweigh them).

        An RSS post's text starts with its title (sources/rss.py joins them), so a third of its body's
        terms need no look: featurizing the poll bench's posts, 418k -> 407k instructions a post."""
        if not heading or not self._title_outweighs:
            return 0
        if entries[: len(heading)] == heading:
            return len(heading)
        if entries[: len(heading) - 1] == heading[:-1]:  # a title cut inside its last word
            return len(heading) - 1
        return 0

    def _entries(self, raw: list[str]) -> list[tuple[str, float]]:
        """(stemmed word, rarity) of each content word, stopwords and one-letter tokens left out."""
        if len(self._lexicon) > PriorIdf.CACHE_LIMIT:
            self._lexicon = _Lexicon(self.idf)  # bounded against hostile streams of ever-new tokens
        # One dictionary lookup per token, in C: the rest is worked out once per distinct spelling.
        return list(filter(None, map(self._lexicon.__getitem__, raw)))[:MAX_BODY_TOKENS]

    def _names(self, raw: list[str]) -> set[str]:
        """The words written with a capital after a part's first token (likely names), unless the
        part is in Title Case; `raw`'s tokens have all been through the lexicon (`_entries`)."""
        names, later = self._lexicon.names, raw[1:]
        # Most parts have no capital after their first word: one C pass tells (a fifth of mapping
        # names.get), and they need no look at their initials.
        if names.keys().isdisjoint(later) or _is_title_case("".join(map(_INITIAL, raw))):
            return set()
        return set(map(names.__getitem__, names.keys() & later))


class _Lexicon(dict[str, tuple[str, float] | None]):
    """Token (as written) → (stemmed word, rarity), or None for a stopword or one-letter token: lower-casing,
    stopwords, stemming and rarity are worked out once per distinct spelling, on its first lookup."""

    def __init__(self, idf: PriorIdf) -> None:
        super().__init__()
        self.idf = idf
        # Content tokens with a capital initial → their word. Tokens never end in sentence punctuation
        # ("." "!" "?" are no word characters), so any such token after a part's first may be a name.
        self.names: dict[str, str] = {}

    def __missing__(self, token: str) -> tuple[str, float] | None:
        lower = token.lower()
        entry = None
        if len(lower) > 1 and lower not in STOPWORDS:
            word = stem(lower)
            entry = (word, self.idf(word))
            if token[0].isupper():
                self.names[token] = word
        self[token] = entry
        return entry


def _raw_tokens(text: str) -> list[str]:
    return _words(clean_text(text[:MAX_TEXT_CHARS]))


def _words(text: str) -> list[str]:
    if text.isascii():
        return text.encode().translate(_ASCII_SPACES).decode().split()
    return _TOKEN.findall(text)


_weight = itemgetter(1)  # a (term, weight) pair's weight: a sort key in C


def _title_key(title: str, raw: list[str]) -> str | None:
    """The normalised title when it has MIN_TITLE_WORDS words; `raw` are its tokens as the featurizer
    found them, the same as normalized_title's unless a site suffix is cut or the title is huge."""
    # Titles only: identical short social texts ("Wow!") from different people are not copies.
    if not title:
        return None
    stripped = title.strip()
    if len(title) <= MAX_TEXT_CHARS and strip_site_suffix(title) == stripped:
        # Tokenised once, lowered at once: the same as token by token, as a space is neither cased
        # nor case-ignorable (a final sigma stays final).
        normal = " ".join(raw).lower()
    else:
        normal = normalized_title(title)
    return normal if normal.count(" ") + 1 >= MIN_TITLE_WORDS else None
