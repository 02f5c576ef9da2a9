"""Topics that learn: hashtags and words that keep turning up beside the article's own terms."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.adaptive import AdaptiveMatcher
from monitor.learning import Learning, TermLearner
from monitor.match import compile_topics
from storage.types import LEARNED, Post
from tests.support.floods import CONFIDENT as FLOODS_CONFIDENT
from tests.support.floods import FLOODS

T0 = datetime(2013, 9, 12, 6, tzinfo=UTC)
TOPIC = FLOODS
CONFIDENT = [*FLOODS_CONFIDENT, "National Guard trucks in Lyons #COFlood"]


def post(text: str, n: int = 0, minutes: int = 0) -> Post:
    return Post(str(n), "feed", "someone", f"https://example.org/{n}", text, T0 + timedelta(minutes=minutes))


def learner(**kw: object) -> TermLearner:
    return TermLearner("floods", frozenset({"boulder", "lyons", "flood", "floods", "flooding"}), 1.0, **kw)  # type: ignore[arg-type]


def teach(topics: AdaptiveMatcher, texts: list[str], start: int = 0) -> None:
    for n, text in enumerate(texts, start):
        p = post(text, n, minutes=n)
        topics.teach(p, topics.match(p), p.published)


def test_a_tag_that_keeps_turning_up_is_learned_and_then_matches_alone() -> None:
    topics = AdaptiveMatcher([TOPIC])
    tagged_only = post("Sending love to everyone affected #COFlood", 99, minutes=30)
    assert topics.match(tagged_only) == ()
    teach(topics, CONFIDENT)
    (learned,) = [t for t in topics.learned() if t.term == "#coflood"]
    assert learned.posts >= 5 and learned.since <= T0 + timedelta(minutes=len(CONFIDENT))
    (found,) = topics.match(tagged_only)
    # the learned tag, and the article's "flood" inside it, which alone was not enough
    assert found.terms == ("#coflood" + LEARNED, "flood") and not found.confident


def test_learned_terms_fade_when_they_stop_turning_up() -> None:
    topics = AdaptiveMatcher([TOPIC], learning=Learning(half_life=timedelta(hours=6)))
    teach(topics, CONFIDENT)
    assert any(t.term == "#coflood" for t in topics.learned())
    topics.refresh(T0 + timedelta(days=2))  # eight half-lives without a confident post holding it
    assert not any(t.term == "#coflood" for t in topics.learned())
    assert topics.match(post("Sending love #COFlood", 99, minutes=3000)) == ()


def test_a_forgotten_term_is_never_learned() -> None:
    topic = dataclasses.replace(TOPIC, forget=("#COFlood",))
    topics = AdaptiveMatcher([topic])
    teach(topics, CONFIDENT)
    assert "#coflood" not in {t.term for t in topics.learned()}


def test_what_does_not_teach() -> None:
    one = learner()
    for n in range(10):  # the article's own words, function words and numbers are never learned
        one.observe(f"Boulder flooding: it is what it is, {n}00", T0 + timedelta(minutes=n))
    assert one.learned() == ()
    spam = learner()
    for n in range(10):  # hashtag stuffing rides trending tags: it teaches nothing
        spam.observe("FREE FOLLOWERS #boulderflood #BestRapper #a1 #b2 #c3 #d4 #e5 #f6", T0 + timedelta(minutes=n))
    assert spam.learned() == ()


def test_a_learned_term_never_outweighs_the_articles_heaviest() -> None:
    light = TermLearner("t", frozenset({"boulder"}), ceiling=0.4)
    for n in range(20):
        light.observe("Boulder #COFlood", T0 + timedelta(minutes=n))
    assert [t.weight for t in light.learned()] == [0.4]


def test_a_learned_term_does_not_teach() -> None:
    """Posts matched only thanks to a learned term are not confident: no drift from term to term."""
    topics = AdaptiveMatcher([TOPIC])
    teach(topics, CONFIDENT)
    teach(topics, ["#COFlood #RandomTag"] * 20, start=100)
    assert "#randomtag" not in {t.term for t in topics.learned()}


@settings(max_examples=200, deadline=None)
@given(
    text=st.sampled_from([*CONFIDENT, "Lyons", "Boulder floods", "nothing here", "Boulder", "flooding #x"]),
    learned=st.dictionaries(st.sampled_from(["#coflood", "#x", "creek", "nothing", "boulder"]),
                            st.floats(min_value=0.0, max_value=1.0), max_size=4),
)
def test_learning_never_removes_a_match_of_the_articles_own_terms(text: str, learned: dict[str, float]) -> None:
    before = compile_topics([TOPIC]).match(post(text))
    after = compile_topics([TOPIC], {"floods": learned}).match(post(text))
    if before:
        assert after and after[0].score >= before[0].score and after[0].confident == before[0].confident
