"""Which topics a post belongs to, and why: the one entry point the pipeline calls.

`compile_topics` builds one automaton for every topic at once; `Matcher.match` folds a post's
text once, runs the automaton once and evaluates only the topics whose terms were seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from monitor.config import Topic
from monitor.query.normalize import fold_words, words
from storage.types import Match, Post


class Matcher:
    """Topics compiled once; `match(post)` is called for every post the daemon sees."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._everything = [t.name for t in topics if (t.query or "").strip() == "*"]
        self._automaton = ahocorasick.Automaton()
        self._labels: list[tuple[str, str]] = []  # pattern id → (topic, term as written)
        for topic in topics:
            for term in topic.keywords:
                folded = " ".join(w.lstrip("#@") for w in words(term))
                if folded:
                    self._add(f" {folded} ", topic.name, term)
                    self._add(f" #{folded} ", topic.name, term)
        if self._labels:
            self._automaton.make_automaton()

    def _add(self, pattern: str, topic: str, term: str) -> None:
        self._automaton.add_word(pattern, len(self._labels))
        self._labels.append((topic, term))

    def match(self, post: Post) -> tuple[Match, ...]:
        found: dict[str, list[str]] = {name: [] for name in self._everything}
        if self._labels:
            text = fold_words(f"{post.title}\n{post.text}")
            for _, pid in self._automaton.iter(text):
                topic, term = self._labels[pid]
                terms = found.setdefault(topic, [])
                if term not in terms:
                    terms.append(term)
        return tuple(Match(topic, tuple(terms), float(max(len(terms), 1))) for topic, terms in found.items())


def compile_topics(topics: Sequence[Topic]) -> Matcher:
    """Compile every topic's query or keywords once."""
    return Matcher(topics)
