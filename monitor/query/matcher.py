"""Query trees → one Aho-Corasick automaton and small evaluators over the patterns it found.

Every word, phrase and tag becomes a pattern over `fold_words` text (" hamas ", " #hamas ",
" axis of resistance "); the padding spaces make every hit a whole-word hit. A post is folded
once and scanned once; each query is then a boolean over the set of pattern ids seen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick

from monitor.query.normalize import fold, fold_words, words
from monitor.query.tree import And, Everything, Field, Leaf, Near, Node, Not, Or, Phrase, Tag, Word, leaves, to_text
from storage.types import Post

Span = tuple[int, int]  # first and last word index of a hit


@dataclass(slots=True)
class Seen:
    """One post as the evaluators see it: the pattern ids found, and the post for fields."""

    post: Post
    text: str
    hits: set[int]
    bank: Bank
    _spans: dict[int, list[Span]] | None = None

    def spans(self, ids: frozenset[int]) -> list[Span]:
        if self._spans is None:
            self._spans = self.bank.spans(self.text)
        return [span for pid in ids for span in self._spans.get(pid, ())]


Evaluator = Callable[[Seen], bool]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A query ready to evaluate: its test, its pattern ids and the labels that explain a hit."""

    test: Evaluator
    ids: frozenset[int]
    needs_hits: bool  # False when the query can hold for a post with no pattern hits (`*`, NOT x, fields)
    terms: tuple[tuple[str, frozenset[int]], ...]
    any_of: bool = False  # the query holds exactly when one of `ids` was found (a term, or an OR of terms)
    _by_pattern: dict[int, tuple[int, ...]] = field(default_factory=dict)  # pattern id → term indexes

    def __post_init__(self) -> None:
        for i, (_, ids) in enumerate(self.terms):
            for pid in ids:
                self._by_pattern[pid] = (*self._by_pattern.get(pid, ()), i)

    def matched_terms(self, seen: Seen) -> tuple[str, ...]:
        """Labels of the positive terms found, in query order (cost: the hits, not the terms)."""
        found = {i for pid in seen.hits for i in self._by_pattern.get(pid, ())}
        return tuple(self.terms[i][0] for i in sorted(found))


@dataclass
class Bank:
    """The shared automaton: add queries, `build()`, then `scan` each post once."""

    _ids: dict[str, int] = field(default_factory=dict)
    _automaton: ahocorasick.Automaton = field(default_factory=ahocorasick.Automaton)
    _screen: ahocorasick.Automaton | None = None  # first words only, for `might_hit` on loose text
    _built: bool = False
    _leaves: dict[Leaf, frozenset[int]] = field(default_factory=dict)  # a leaf is folded once per bank

    def compile(self, node: Node) -> Compiled:
        if self._built:
            raise RuntimeError("Bank.compile after build()")
        can_true, _ = _without_hits(node)
        positives: dict[str, Leaf] = {}
        for leaf, positive in leaves(node):
            if positive:
                positives.setdefault(to_text(leaf), leaf)
        terms = tuple((label, self._leaf_ids(leaf)) for label, leaf in positives.items())
        any_of = isinstance(node, Word | Phrase | Tag) or (
            isinstance(node, Or) and all(isinstance(c, Word | Phrase | Tag) for c in node.children))
        return Compiled(self._evaluator(node), frozenset(self._all_ids(node)), not can_true, terms, any_of)

    def build(self) -> None:
        if self._ids:
            self._automaton.make_automaton()
        firsts = {first for p in self._ids if (first := _first_word(p)) is not None}
        if firsts:
            self._screen = ahocorasick.Automaton()
            for first in firsts:
                self._screen.add_word(first, None)
            self._screen.make_automaton()
        self._built = True

    @property
    def size(self) -> int:
        return len(self._ids)

    def words(self) -> frozenset[str]:
        """The single plain words among the patterns: ' flood ' → flood."""
        return frozenset(w for p in self._ids if (w := p.strip()) and " " not in w and w[0] not in "#@")

    def might_hit(self, loose: str) -> bool:
        """False when no pattern can be in the fold of a text whose `loose_words` form is `loose`.

        Most posts hold no term at all; for them this one scan, which stops at the first hit and
        builds nothing, is the whole cost. The rest go on to the full fold and `hits`."""
        return self._screen is not None and next(self._screen.iter(loose), None) is not None

    def hits(self, folded: str) -> set[int]:
        """Pattern ids found in `fold_words` text (the hot path: C all the way for most posts)."""
        return {pid for _, pid in self._automaton.iter(folded)} if self._ids else set()

    def spans(self, text: str) -> dict[int, list[Span]]:
        lengths = {pid: (len(p), p.strip().count(" ") + 1) for p, pid in self._ids.items()}
        out: dict[int, list[Span]] = {}
        for end, pid in self._automaton.iter(text):
            length, count = lengths[pid]
            first = text.count(" ", 0, end - length + 2) - 1
            out.setdefault(pid, []).append((first, first + count - 1))
        return out

    def _pattern(self, pattern: str) -> int:
        pid = self._ids.get(pattern)
        if pid is None:
            pid = self._ids[pattern] = len(self._ids)
            self._automaton.add_word(pattern, pid)
        return pid

    def _leaf_ids(self, leaf: Leaf) -> frozenset[int]:
        ids = self._leaves.get(leaf)
        if ids is None:
            ids = self._leaves[leaf] = frozenset(self._pattern(p) for p in _patterns(leaf))
        return ids

    def _all_ids(self, node: Node) -> set[int]:
        return {pid for leaf, _ in leaves(node) for pid in self._leaf_ids(leaf)}

    def _evaluator(self, node: Node) -> Evaluator:
        match node:
            case Everything():
                return _always
            case Word() | Phrase() | Tag():
                return _any_of(self._leaf_ids(node))
            case Or(children) if all(isinstance(c, Word | Phrase | Tag) for c in children):
                return _any_of(frozenset(self._all_ids(node)))
            case Or(children):
                tests = [self._evaluator(c) for c in children]
                return lambda seen: any(t(seen) for t in tests)
            case And(children):
                tests = [self._evaluator(c) for c in children]
                return lambda seen: all(t(seen) for t in tests)
            case Not(child):
                test = self._evaluator(child)
                return lambda seen: not test(seen)
            case Field():
                return _field(node)
            case Near():
                spans = self._spans_of(node)
                return lambda seen: bool(spans(seen))
        raise TypeError(node)

    def _spans_of(self, node: Node) -> Callable[[Seen], list[Span]]:
        """Word spans where a positional node holds (leaves, OR of them, NEAR)."""
        if isinstance(node, Word | Phrase | Tag):
            ids = self._leaf_ids(node)
            return lambda seen: seen.spans(ids) if not ids.isdisjoint(seen.hits) else []
        if isinstance(node, Or):
            parts = [self._spans_of(c) for c in node.children]
            return lambda seen: [s for part in parts for s in part(seen)]
        assert isinstance(node, Near)
        left, right, distance = self._spans_of(node.left), self._spans_of(node.right), node.distance
        return lambda seen: _near(left(seen), right(seen), distance)


@functools.lru_cache(maxsize=16384)
def _patterns(leaf: Leaf) -> tuple[str, ...]:
    """The automaton patterns of a leaf (cached: topics are compiled again as they learn)."""
    if isinstance(leaf, Tag):
        return (f" {' '.join(words(leaf.sigil + leaf.name))} ",)
    folded = " ".join(words(leaf.text))
    if not folded:  # a keyword of punctuation only matches nothing
        return ()
    end = "" if isinstance(leaf, Word) and leaf.prefix else " "
    if folded[0] in "#@":
        return (f" {folded}{end}",)
    return (f" {folded}{end}", f" #{folded}{end}")  # a word also matches its hashtag: Hamas finds #Hamas


def _first_word(pattern: str) -> str | None:
    """What a loose ASCII text without sigils must hold for `pattern` to be in its fold: the first
    word with its spaces (' axis ' for ' axis of resistance '), or a prefix pattern as it is.
    None for patterns such a text can never hold (a tag, non-ASCII), which need no screening."""
    if not pattern.isascii() or pattern[1:2] in ("#", "@"):
        return None
    cut = pattern.find(" ", 1)
    return pattern if cut < 0 else pattern[: cut + 1]


def _near(lefts: list[Span], rights: list[Span], distance: int) -> list[Span]:
    out = []
    for a in lefts:
        for b in rights:
            between = max(b[0] - a[1], a[0] - b[1]) - 1  # words strictly between the two spans
            if between <= distance:
                out.append((min(a[0], b[0]), max(a[1], b[1])))
    return out


def holds_for_every_post(query: Compiled) -> bool:
    """`query` is `*`: its test never looks at a post."""
    return query.test is _always


def _always(seen: Seen) -> bool:
    return True


def _any_of(ids: frozenset[int]) -> Evaluator:
    return lambda seen: not ids.isdisjoint(seen.hits)


def _field(node: Field) -> Evaluator:
    value = node.value
    if node.name == "url":
        needle = fold(value.strip())
        return lambda seen: needle in fold(seen.post.url)
    if node.name == "lang":
        lang = fold(value.strip())
        return lambda seen: (got := fold(seen.post.lang)) == lang or got.startswith(lang + "-")
    phrase = fold_words(value)
    attribute = node.name  # author or source: whole words of the field, as a phrase
    return lambda seen: phrase in fold_words(getattr(seen.post, attribute))


def _without_hits(node: Node) -> tuple[bool, bool]:
    """(can be true, can be false) for a post where no pattern was found; fields are unknown."""
    match node:
        case Everything():
            return True, False
        case Field():
            return True, True
        case Not(child):
            t, f = _without_hits(child)
            return f, t
        case And(children):
            pairs = [_without_hits(c) for c in children]
            return all(t for t, _ in pairs), any(f for _, f in pairs)
        case Or(children):
            pairs = [_without_hits(c) for c in children]
            return any(t for t, _ in pairs), all(f for _, f in pairs)
    return False, True


def union(ids: Iterable[frozenset[int]]) -> frozenset[int]:
    return frozenset().union(*ids)
