"""Which topics a post belongs to, and why: the one entry point the pipeline calls.

A topic's filter is its query (or any of its keywords). A topic with `weights` scores a post by
the weights of the distinct weighted terms it holds; with a `threshold` the score must reach it,
so one generic word ("Iran" in a football score) is not enough where one strong name is. Terms the
topic learned (monitor/learning.py) add their weights beside the article's own and widen the filter.
A joined hashtag counts for the words it joins (#BoulderFlood: Boulder, flood).
`compile_topics` folds every topic into one automaton; `Matcher.match` scans each post once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.config import ConfigError, Topic
from monitor.query.matcher import Bank, Compiled, Seen, holds_for_every_post
from monitor.query.normalize import collapse_spaces, fold_words, loose_words
from monitor.query.parse import QuerySyntaxError, parse
from monitor.query.tree import Node, Or, Phrase, Tag, to_text
from monitor.wordforms import expand_hashtags
from storage.types import LEARNED, Match, Post

_QUERY_SYNTAX = ('"', "(", ")", " OR ", " AND ", "NOT ", "NEAR/", "*", ":")
Learned = Mapping[str, Mapping[str, float]]  # topic → learned term → weight


@dataclass(frozen=True, slots=True)
class _Weight:
    label: str
    query: Compiled
    weight: float
    learned: bool = False


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    name: str
    filter: Compiled
    weights: tuple[_Weight, ...]  # heaviest first
    threshold: float | None
    labels: dict[str, str]  # a keyword's leaf as printed → the keyword as written in feeds.toml
    # Most weights hold exactly when one of their patterns is found: found through the post's hits
    # (a topic made from an article has ~60 keys, a post holds a few); the rest are evaluated.
    _by_pattern: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _evaluated: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        evaluated = []
        for i, w in enumerate(self.weights):
            if not w.query.any_of:
                evaluated.append(i)
            for pid in w.query.ids if w.query.any_of else ():
                self._by_pattern[pid] = (*self._by_pattern.get(pid, ()), i)
        object.__setattr__(self, "_evaluated", tuple(evaluated))

    def judge(self, seen: Seen) -> Match | None:
        if not self.filter.test(seen):
            return None
        if self.weights:
            held = [self.weights[i] for i in sorted(self._held(seen))]
            score = sum(w.weight for w in held)
            if self.threshold is not None and score < self.threshold:
                return None  # the common case for a post that shares a word or two: no labels needed
            own = sum(w.weight for w in held if not w.learned)
            terms = tuple(dict.fromkeys(label for w in held for label in _labels(w, seen)))
        else:
            terms = tuple(self.labels.get(t, t) for t in self.filter.matched_terms(seen))
            score = own = float(max(len(terms), 1))
            if self.threshold is not None and score < self.threshold:
                return None
        confident = self.threshold is None or own >= self.threshold
        return Match(self.name, terms, round(score, 4), confident)

    def _held(self, seen: Seen) -> set[int]:
        held = {i for pid in seen.hits for i in self._by_pattern.get(pid, ())}
        held.update(i for i in self._evaluated if self.weights[i].query.test(seen))
        return held


class Matcher:
    """Topics compiled once; `match(post)` is called for every post the daemon sees."""

    def __init__(self, topics: Sequence[Topic], learned: Learned | None = None,
                 words: frozenset[str] | None = None) -> None:
        self._bank = Bank()
        self._topics = [_compile_topic(self._bank, t, (learned or {}).get(t.name, {})) for t in topics]
        self._bank.build()
        self._words = vocabulary(topics) if words is None else words
        self._always = [i for i, t in enumerate(self._topics) if not t.filter.needs_hits]
        by_pattern: dict[int, set[int]] = {}
        for i, topic in enumerate(self._topics):
            for pid in topic.filter.ids:
                by_pattern.setdefault(pid, set()).add(i)
        self._by_pattern = {pid: frozenset(ts) for pid, ts in by_pattern.items()}
        # Every topic `*` and unweighted (archives, benchmarks): every post gets the same matches,
        # worked out once; no post's text needs folding.
        self._blind = not self._bank.size and all(holds_for_every_post(t.filter) and not t.weights
                                                  for t in self._topics)
        self._same_for_all: tuple[Match, ...] | None = None

    @property
    def patterns(self) -> int:
        return self._bank.size

    def match(self, post: Post) -> tuple[Match, ...]:
        if self._same_for_all is not None:
            return self._same_for_all
        matches = self._match(post)
        if self._blind:
            self._same_for_all = matches
        return matches

    def _match(self, post: Post) -> tuple[Match, ...]:
        raw = f"{post.title}\n{post.text}" if post.title else post.text
        loose = loose_words(raw)
        if loose is None:
            text = fold_words(expand_hashtags(raw, self._words) if "#" in raw else raw)
        elif self._always or self._bank.might_hit(loose):
            text = collapse_spaces(loose)
        else:
            return ()  # the common case: no term's first word anywhere in the post
        hits = self._bank.hits(text)
        if not hits and not self._always:
            return ()
        seen = Seen(post, text, hits, self._bank)
        candidates = set(self._always)
        for pid in seen.hits:
            candidates |= self._by_pattern.get(pid, frozenset())
        found = (self._topics[i].judge(seen) for i in sorted(candidates))
        return tuple(m for m in found if m is not None)


def compile_topics(topics: Sequence[Topic], learned: Learned | None = None,
                   words: frozenset[str] | None = None) -> Matcher:
    """Compile every topic's query, keywords, weights and learned terms once; ConfigError names a bad query.
    `words`: the topics' `vocabulary`, when the caller already has it."""
    return Matcher(topics, learned, words)


def keyword_node(keyword: str) -> Node:
    """A keyword is literal: a word or phrase; `#Hamas` also matches plain Hamas, `@x` is a mention."""
    if keyword.startswith("@") and len(keyword) > 1 and " " not in keyword.strip():
        return Tag("@", keyword.strip()[1:])
    return Phrase(keyword.strip().lstrip("#").replace('"', " "))


@functools.lru_cache(maxsize=8192)
def weight_node(key: str) -> Node:
    """A weight's key is a term or phrase, or a query when it holds quotes, brackets or operators.
    (Cached: trees are immutable, and a learning topic is compiled again with the same keys.)"""
    if any(mark in key for mark in _QUERY_SYNTAX):
        return parse(key)
    return keyword_node(key)


def topic_node(topic: Topic) -> Node:
    """The topic's whole filter as one query tree: its query, or any of its keywords."""
    parts = [_parse(topic.query)] if topic.query is not None else []
    parts.extend(keyword_node(k) for k in topic.keywords)
    return parts[0] if len(parts) == 1 else Or(tuple(parts))


def vocabulary(topics: Sequence[Topic]) -> frozenset[str]:
    """The plain words of the topics as configured: what a joined hashtag is split into first.
    Learned terms are whole words and hashtags, never parts, so the set can stay the same from one
    compile to the next, and the hashtag splitter's cache keeps serving."""
    bank = Bank()
    for topic in topics:
        bank.compile(topic_node(topic))
        for key in topic.weights:
            bank.compile(weight_node(key))
    return bank.words()


_parse = functools.lru_cache(maxsize=256)(parse)


def learned_node(term: str) -> Node:
    """A learned term as the learner saw it: '#sardegna' is the hashtag, 'alluvione' the word."""
    return keyword_node(term)


def _compile_topic(bank: Bank, topic: Topic, learned: Mapping[str, float]) -> _CompiledTopic:
    where = f'[[topics]] "{topic.name}"'
    try:
        filter_node = topic_node(topic)
        weighted = {key: weight_node(key) for key in topic.weights}
    except QuerySyntaxError as e:
        raise ConfigError(f"{where}: {e}") from None
    weights = [_Weight(k, bank.compile(node), topic.weights[k]) for k, node in weighted.items()]
    if topic.weights and learned:
        nodes = {term: learned_node(term) for term in learned}
        weights += [_Weight(t, bank.compile(n), learned[t], learned=True) for t, n in nodes.items()]
        filter_node = Or((filter_node, *nodes.values()))
    labels = {to_text(keyword_node(k)): k for k in topic.keywords}
    heaviest_first = tuple(sorted(weights, key=lambda w: -w.weight))
    return _CompiledTopic(topic.name, bank.compile(filter_node), heaviest_first, topic.threshold, labels)


def _labels(weight: _Weight, seen: Seen) -> tuple[str, ...]:
    """What a held weight found in the post: the form it took ('flooding'), learned ones marked."""
    if weight.learned:
        return (weight.label + LEARNED,)
    found = tuple(label.strip('"') for label in weight.query.matched_terms(seen))
    return found or (weight.label,)
