"""Adaptive expansion: words and hashtags that keep turning up in posts the article's own terms
matched confidently join the topic, with a weight, for as long as they keep turning up.

People write "#COFlood" and "#Sardegna", not "2013 Colorado floods" and "Sardinia"; an article
cannot name every tag its story will get, nor speak every language its readers post in. So each
post that the article's terms alone carry over the threshold teaches: every candidate word in it
counts, with counts that halve every `half_life`. A word is learned while it stands in at least
`support` of those posts (and `least_posts` of them) and weighs what its evidence says, by the
same rule as the article's words (monitor/relevance.py), never more than the article's heaviest.

Bounds that keep one topic from drifting into another: only the article's own terms decide what
teaches (a learned word never teaches), near-copies and hashtag-stuffed spam teach nothing, words
common in any major language are never learned, the article's words and forms are already known,
and the user can forget a word for good (`forget` in feeds.toml). Pure: no I/O; the pipeline
feeds it and stores what it learned.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.lexicon import zipf_anywhere
from monitor.query.normalize import fold_words
from monitor.relevance import DEFAULT, Weighing, evidence, weight
from storage.types import LearnedTerm

_URL = re.compile(r"https?://\S+|www\.\S+")
FUNCTION_WORD = 5.0  # at least this common in some language: a function word there, never learned
# A hashtag is a label people choose to join one conversation: rarer than the word it spells.
HASHTAG_ZIPF = 3.0
KEEP = 0.25  # a learned word is kept down to this share of the counts that taught it
WEIGHT_STEP = 0.05  # a learned weight that moved less than this is not worth compiling the matcher for
STUFFED = 6  # more hashtags than this in one post: spam riding trending tags, it teaches nothing


@dataclass(frozen=True, slots=True)
class Learning:
    support: float = 0.02  # share of the confident posts a word must stand in
    least_posts: float = 5.0  # and at least this many of them (decayed)
    half_life: timedelta = timedelta(days=2)
    most_terms: int = 30  # learned terms per topic, heaviest kept
    most_candidates: int = 20_000  # words counted per topic (bounded memory)


@dataclass(slots=True)
class _Count:
    value: float
    at: datetime

    def decayed(self, now: datetime, half_life: timedelta) -> float:
        return self.value * math.exp2(-max((now - self.at) / half_life, 0.0))

    def add(self, amount: float, now: datetime, half_life: timedelta) -> None:
        self.value = self.decayed(now, half_life) + amount
        self.at = max(self.at, now)


@dataclass
class TermLearner:
    """What one topic has learned from the posts its article's terms matched confidently.

    A word and its hashtag are one term ("sismo" and "#Sismo"), shown and weighed as a hashtag
    where people mostly tag it."""

    topic: str
    known: frozenset[str]  # the article's own words and forms (folded): already in the topic
    ceiling: float  # the article's heaviest weight: a learned word never outweighs it
    forget: frozenset[str] = frozenset()  # words the user removed (folded, without '#'): never learned again
    learning: Learning = field(default_factory=Learning)
    weighing: Weighing = DEFAULT
    _posts: _Count | None = None
    _words: _Count | None = None
    _counts: dict[str, _Count] = field(default_factory=dict)  # posts holding the word, as a word or a tag
    _tagged: dict[str, _Count] = field(default_factory=dict)  # posts holding it as a hashtag
    _learned: dict[str, LearnedTerm] = field(default_factory=dict)  # by the bare word
    _published: dict[str, float] = field(default_factory=dict)  # the weights the matcher was last given

    def observe(self, text: str, at: datetime) -> bool:
        """Count the words of a confidently matched post; True when the learned weights moved enough
        to be worth compiling the matcher again (a term came or went, or a weight moved by a step)."""
        words = fold_words(_URL.sub(" ", html.unescape(text))).split()
        tags = {w[1:] for w in words if w.startswith("#")}
        if len(tags) > STUFFED:
            return False
        half_life = self.learning.half_life
        for total, amount in (("_posts", 1.0), ("_words", float(len(words)))):
            count = getattr(self, total) or _Count(0.0, at)
            count.add(amount, at, half_life)
            setattr(self, total, count)
        for word in {w.lstrip("#") for w in words if self._candidate(w)}:
            self._counts.setdefault(word, _Count(0.0, at)).add(1.0, at, half_life)
            self._tagged.setdefault(word, _Count(0.0, at)).add(float(word in tags), at, half_life)
            self._judge(word, at)
        self._bound()
        return self._publish()

    def refresh(self, now: datetime) -> bool:
        """Let learned words that stopped turning up decay away; True when the weights moved."""
        for word in list(self._learned):
            self._judge(word, now)
        return self._publish()

    def weights(self) -> dict[str, float]:
        """The learned weights as the matcher should have them."""
        return dict(self._published)

    def _publish(self) -> bool:
        current = {t.term: t.weight for t in self._learned.values()}
        moved = current.keys() != self._published.keys() or any(
            abs(w - self._published[t]) >= WEIGHT_STEP for t, w in current.items())
        if moved:
            self._published = current
        return moved

    def learned(self) -> tuple[LearnedTerm, ...]:
        return tuple(sorted(self._learned.values(), key=lambda t: (-t.weight, t.term)))

    def _candidate(self, word: str) -> bool:
        bare = word.lstrip("#")
        return (
            not word.startswith("@") and len(bare) >= 3 and not any(c.isdigit() for c in bare)
            and bare not in self.known and bare not in self.forget
            and (word.startswith("#") or zipf_anywhere(bare) < FUNCTION_WORD)
        )

    def _judge(self, word: str, now: datetime) -> None:
        old = self._learned.get(word)
        tag = self._is_tag(word, now)
        strength = self._strength(word, now, tag=tag, learned=old is not None)
        if old is not None and strength > 0.0:
            # Evidence at its strongest, fading with time: a wave of confident posts in another
            # language, which never hold the word, does not make it a weaker sign of the topic.
            faded = old.weight * math.exp2(-max((now - old.seen) / self.learning.half_life, 0.0))
            strength = max(strength, round(faded, 2))
        if strength < self.weighing.least:
            self._learned.pop(word, None)
            return
        posts = self._counts[word].decayed(now, self.learning.half_life)
        term = f"#{word}" if tag else word
        self._learned[word] = LearnedTerm(self.topic, term, strength, round(posts, 1), old.since if old else now, now)

    def _is_tag(self, word: str, now: datetime) -> bool:
        """People mostly write it as a hashtag."""
        half_life = self.learning.half_life
        return 2 * self._tagged[word].decayed(now, half_life) >= self._counts[word].decayed(now, half_life)

    def _strength(self, word: str, now: datetime, *, tag: bool, learned: bool) -> float:
        """The word's weight by its evidence now; 0 where it stands in too few confident posts."""
        half_life = self.learning.half_life
        count = self._counts.get(word)
        if count is None or self._posts is None or self._words is None:
            return 0.0
        posts = count.decayed(now, half_life)
        # A learned word stays until its counts fall to a quarter of what it took to learn it: a
        # quiet day between two waves of a story does not make the topic forget its tags.
        keep = KEEP if learned else 1.0
        confident = self._posts.decayed(now, half_life)
        if posts < keep * self.learning.least_posts or posts < keep * self.learning.support * confident:
            return 0.0
        general = min(zipf_anywhere(word), HASHTAG_ZIPF) if tag else zipf_anywhere(word)
        rate = posts / max(self._words.decayed(now, half_life), 1.0)
        # A hashtag is a name people give the story, weighed as the article's names are; a learned
        # word, like the article's own words, never matches alone.
        strength = weight(evidence(rate, general), name=tag, weighing=self.weighing)
        return min(strength, self.ceiling if tag else min(self.ceiling, self.weighing.word_ceiling))

    def _bound(self) -> None:
        if len(self._learned) > self.learning.most_terms:
            keep = sorted(self._learned.items(), key=lambda kv: -kv[1].weight)[: self.learning.most_terms]
            self._learned = dict(keep)
        if len(self._counts) > self.learning.most_candidates:
            ranked = sorted(self._counts, key=lambda w: self._counts[w].value, reverse=True)
            kept = set(ranked[: self.learning.most_candidates // 2]) | set(self._learned)
            self._counts = {w: c for w, c in self._counts.items() if w in kept}
            self._tagged = {w: c for w, c in self._tagged.items() if w in kept}


def known_words(keys: Iterable[str]) -> frozenset[str]:
    """The folded words of a topic's weight keys and query: what the article already says."""
    return frozenset(w.lstrip("#") for key in keys for w in fold_words(key).split() if w not in ("or", "and", "not"))
