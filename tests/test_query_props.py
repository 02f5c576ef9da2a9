"""Property tests: the parser never crashes, printing round-trips, the automaton agrees with a
slow word-list evaluator written independently here."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import Topic
from monitor.match import compile_topics
from monitor.query.normalize import _fold_words_unicode, collapse_spaces, fold_words, loose_words
from monitor.query.parse import QuerySyntaxError, parse
from monitor.query.tree import And, Everything, Near, Node, Not, Or, Phrase, Tag, Word, to_text
from monitor.query.tree import leaves as tree_leaves
from storage.types import Post

VOCAB = ["iran", "Hamas", "hézbollah", "GAZA", "axis", "of", "resistance", "nova", "and", "war", "Ｉｒａｎ"]


@given(st.text(max_size=80))
@settings(max_examples=400)
def test_random_input_never_crashes_the_parser(text: str) -> None:
    try:
        parse(text)
    except QuerySyntaxError as e:
        assert 1 <= e.column <= len(text) + 1


@given(st.text(alphabet='ab ()"-*#@:ORANDNEAR/3 ', max_size=40))
@settings(max_examples=400)
def test_random_operator_soup_never_crashes_the_parser(text: str) -> None:
    try:
        tree = parse(text)
    except QuerySyntaxError:
        return
    assert parse(to_text(tree)) == tree


words = st.sampled_from(VOCAB)
leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(Word, words, st.booleans()),
    st.builds(lambda ws: Phrase(" ".join(ws)), st.lists(words, min_size=1, max_size=3)),
    st.builds(lambda w: Tag("#", w), st.sampled_from(["Hamas", "iran", "Gaza"])),
)


def _positional(node: Node) -> bool:
    return isinstance(node, Word | Phrase | Tag | Near) or (
        isinstance(node, Or) and all(_positional(c) for c in node.children))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    pos = children.filter(_positional)
    return st.one_of(
        st.builds(lambda cs: And(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda cs: Or(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(Not, children),
        st.builds(Near, pos, pos, st.integers(0, 3)),
    )


trees = st.recursive(st.one_of(leaves, st.just(Everything())), _extend, max_leaves=8)


@given(trees)
def test_printing_and_reparsing_gives_the_same_tree(tree: Node) -> None:
    assert parse(to_text(tree)) == tree


# --- a slow reference evaluator over the list of folded words --------------------------------

def _spans(node: Node, toks: list[str]) -> list[tuple[int, int]]:
    if isinstance(node, Tag):
        want = fold_words(node.sigil + node.name).split()
        return [(i, i + len(want) - 1) for i in range(len(toks)) if toks[i : i + len(want)] == want]
    if isinstance(node, Word | Phrase):
        want = fold_words(node.text).split()
        prefix = isinstance(node, Word) and node.prefix
        out = []
        for i in range(len(toks) - len(want) + 1):
            got = toks[i : i + len(want)]
            first = got[0][1:] if got[0].startswith("#") else got[0]
            candidate = [first, *got[1:]]
            same = candidate[:-1] == want[:-1] and (
                candidate[-1].startswith(want[-1]) if prefix else candidate[-1] == want[-1])
            if same:
                out.append((i, i + len(want) - 1))
        return out
    if isinstance(node, Or):
        return [s for c in node.children for s in _spans(c, toks)]
    assert isinstance(node, Near)
    return [(min(a[0], b[0]), max(a[1], b[1])) for a in _spans(node.left, toks) for b in _spans(node.right, toks)
            if max(b[0] - a[1], a[0] - b[1]) - 1 <= node.distance]


def reference(node: Node, toks: list[str]) -> bool:
    if isinstance(node, Everything):
        return True
    if isinstance(node, Not):
        return not reference(node.child, toks)
    if isinstance(node, And):
        return all(reference(c, toks) for c in node.children)
    if isinstance(node, Or) and not _positional(node):
        return any(reference(c, toks) for c in node.children)
    return bool(_spans(node, toks))


texts = st.lists(st.one_of(words, st.sampled_from(["#Hamas", "#gaza", "Iran's", "all-out", ",", "!", "irani"])),
                 max_size=12).map(" ".join)


@given(trees, texts)
@settings(max_examples=300, deadline=None)  # the first topic compiled loads word tables (~200 ms): no timing here
def test_the_automaton_agrees_with_the_reference(tree: Node, text: str) -> None:
    post = Post("1", "s", "a", "u", text, datetime(2024, 1, 1, tzinfo=UTC))
    found = compile_topics([Topic("t", query=to_text(tree))]).match(post)
    assert bool(found) == reference(tree, fold_words(text).split())


# Queries with no NOT and no `*` let the matcher drop most posts after one cheap screen of loosely
# folded text; posts with punctuation and runs of spaces between words are what that screen must get right.
def _extend_positive(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    pos = children.filter(_positional)
    return st.one_of(
        st.builds(lambda cs: And(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda cs: Or(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(Near, pos, pos, st.integers(0, 3)),
    )


positive_trees = st.recursive(leaves, _extend_positive, max_leaves=6)
separators = st.sampled_from([" ", ", ", "  ", "\n", " - ", "... ", "\t"])
noise = st.lists(st.one_of(words, st.sampled_from(["#Hamas", "Iran's", "irani", "IRAN"])), max_size=4)


@given(positive_trees, st.data())
@settings(max_examples=400, deadline=None)  # as above: the first compile is slow, and timing is not the point
def test_the_screened_matcher_agrees_with_the_reference(tree: Node, data: st.DataObject) -> None:
    # The words of one of the query's own leaves, loosely spaced, between random words: a phrase
    # holds often enough for the test to see the screen keep it.
    leaf = data.draw(st.sampled_from([leaf for leaf, _ in tree_leaves(tree)]))
    chosen = (f"{leaf.sigil}{leaf.name}" if isinstance(leaf, Tag) else leaf.text).split()
    parts = [*data.draw(noise), *chosen, *data.draw(noise)]
    text = "".join(word + data.draw(separators) for word in parts)
    title = data.draw(st.sampled_from(["", "Iran", "axis of"]))
    post = Post("1", "s", "a", "u", text, datetime(2024, 1, 1, tzinfo=UTC), title=title)
    found = compile_topics([Topic("t", query=to_text(tree))]).match(post)
    joined = f"{title}\n{text}" if title else text
    assert bool(found) == reference(tree, fold_words(joined).split())


# fold_words takes a fast way for text that is ASCII but for a few runs of other characters (each
# folded on its own); it must give exactly what folding the whole text the long way gives.
MIXED = "aZ09_ #@.,-'!\n\t’‘“”—–…«»\u00a0éÉßﬁＩｒ＃＠\u0301\u0338\u093fحماسΣİǅ"


@given(st.one_of(st.text(alphabet=MIXED, max_size=30), st.text(max_size=30)))
@settings(max_examples=1000)
def test_the_fast_fold_agrees_with_the_whole_text_fold(text: str) -> None:
    assert fold_words(text) == _fold_words_unicode(text)
    loose = loose_words(text)  # the matcher's screen form, collapsed for posts that pass the screen
    assert loose is None or collapse_spaces(loose) == fold_words(text)
