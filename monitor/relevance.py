"""How much a word tells that a post is about a topic: one rule for the article's words and learned ones.

A post's score is the sum of the weights of the distinct keys it holds, and it belongs to the topic
when the score reaches THRESHOLD. A key's weight comes from its evidence: how much more often it
occurs on the topic than in general language, as a base-10 log-likelihood ratio (naive Bayes, the
way spam filters and Twitter's own track rules were first scored). "Savar" in an article about the
Rana Plaza collapse is ~10⁵ times likelier than in general text, "Bangladesh" ~10³, "people" ~3.
Names get a bonus (a name in a short post is rarely there by chance), a rare name written in full
a larger one (a person or place, not an adjective like "Shiite"), words of a headline too; a phrase
the author put in quotes is a named idea and weighs the whole threshold. A word of the language ("flood",
"destabilization") never weighs the whole threshold: it takes a name or another word beside it.

Evidence maps linearly onto [0, THRESHOLD]: below `floor` a key earns nothing, at `floor + span`
it earns the whole threshold alone. The defaults were chosen on half of the 22 events of the
relevance set and hold on the other half (bench/relevance.py prints both halves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

THRESHOLD = 1.0


@dataclass(frozen=True, slots=True)
class Weighing:
    floor: float = 1.3  # evidence (log10 likelihood ratio) that earns nothing
    span: float = 3.0  # evidence above the floor that earns the whole threshold
    name_bonus: float = 0.3  # added to a name's evidence
    full_name_bonus: float = 0.5  # and more to a rare name written in full ("Ali Khamenei")
    headline_bonus: float = 0.7  # added to the evidence of a word in the headline
    least: float = 0.2  # keys lighter than this are left out of the topic
    word_ceiling: float = 0.8  # a word of the language (not a name, not a hashtag) weighs at most this


DEFAULT = Weighing()


def evidence(rate_on_topic: float, general_zipf: float) -> float:
    """log10 of (how often a word occurs on the topic ÷ how often in general language).

    `rate_on_topic` is per word of text; `general_zipf` is wordfreq's Zipf frequency (log10 of
    occurrences per 10⁹ words; an unknown word counts as 1 in 10⁹)."""
    return math.log10(max(rate_on_topic, 1e-12)) - (max(general_zipf, 0.0) - 9.0)


def weight(evidence: float, *, name: bool = False, full_name: bool = False, headline: bool = False,
           weighing: Weighing = DEFAULT) -> float:
    """The key's share of the threshold, in [0, THRESHOLD], rounded for feeds.toml."""
    w = weighing
    boosted = evidence + w.name_bonus * name + w.full_name_bonus * full_name + w.headline_bonus * headline
    share = min(1.0, max(0.0, (boosted - w.floor) / w.span))
    return round(THRESHOLD * share, 2)
