"""Topics that learn: the matcher and each weighted topic's learner, kept in step.

The pipeline asks `match` for every post and calls `teach` with the matches of each new,
non-duplicate post; a post its topic's own terms matched confidently teaches that topic's learner,
and when what a topic has learned changes, the matcher is compiled again (milliseconds, and rare),
so the next post is matched with it. Pure: the store keeps the learned terms, the pipeline moves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from monitor.config import Topic
from monitor.learning import Learning, TermLearner, known_words
from monitor.match import compile_topics, vocabulary
from monitor.relevance import DEFAULT, Weighing
from storage.types import LearnedTerm, Match, Post


class AdaptiveMatcher:
    def __init__(self, topics: Sequence[Topic], *, learning: Learning | None = None,
                 weighing: Weighing = DEFAULT) -> None:
        self.topics = tuple(topics)
        self.learners = {t.name: _learner(t, learning or Learning(), weighing) for t in topics if _learns(t)}
        self.changed = False  # what was learned changed since the pipeline last stored it
        self._words = vocabulary(self.topics)
        self._matcher = compile_topics(self.topics, words=self._words)

    @property
    def patterns(self) -> int:
        return self._matcher.patterns

    def match(self, post: Post) -> tuple[Match, ...]:
        return self._matcher.match(post)

    def teach(self, post: Post, matches: Iterable[Match], at: datetime) -> None:
        """Let `post` teach every topic whose own terms matched it confidently."""
        text = f"{post.title}\n{post.text}" if post.title else post.text
        learners = [self.learners[m.topic] for m in matches if m.confident and m.topic in self.learners]
        if learners:
            self.changed = True  # counts moved: what the store shows should follow
        moved = [learner.observe(text, at) for learner in learners]  # every one counts: no short cut
        if any(moved):
            self._recompile()

    def refresh(self, now: datetime) -> None:
        """Let learned terms that stopped turning up fade (called once per batch)."""
        moved = [learner.refresh(now) for learner in self.learners.values()]
        if any(moved):
            self._recompile()

    def learned(self) -> tuple[LearnedTerm, ...]:
        return tuple(term for learner in self.learners.values() for term in learner.learned())

    def _recompile(self) -> None:
        learned = {name: learner.weights() for name, learner in self.learners.items()}
        self._matcher = compile_topics(self.topics, learned, self._words)
        self.changed = True


def _learns(topic: Topic) -> bool:
    return topic.learn and bool(topic.weights) and topic.threshold is not None


def _learner(topic: Topic, learning: Learning, weighing: Weighing) -> TermLearner:
    known = known_words([*topic.weights, topic.query or "", *topic.keywords])
    ceiling = max(topic.weights.values(), default=0.0)
    forget = frozenset(w.casefold().lstrip("#") for w in topic.forget)
    return TermLearner(topic.name, known, ceiling, forget, learning, weighing)
