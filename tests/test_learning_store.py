"""What a topic learns is stored with the poll that taught it, and survives a restart."""

from __future__ import annotations

from datetime import timedelta

from monitor.pipeline import Pipeline
from monitor.tui.render import post_detail
from storage.store import open_store
from storage.types import Post
from tests.support.feeds import T0
from tests.support.floods import CONFIDENT, FLOODS


def post(n: int, text: str, minutes: int) -> Post:
    return Post(str(n), "feed", f"author{n}", f"https://example.org/{n}", text, T0 + timedelta(minutes=minutes))


def test_learned_terms_are_stored_and_a_restart_goes_on_with_them(database_url: str) -> None:
    posts = [post(n, text, n) for n, text in enumerate(CONFIDENT)]
    with open_store(database_url) as store:
        Pipeline(store, [FLOODS], now=T0).process(posts, now=T0 + timedelta(minutes=10))
        (learned,) = [t for t in store.learned_terms("floods") if t.term == "#coflood"]
        assert learned.weight > 0.5 and learned.posts >= 5
    tagged = post(99, "Thinking of everyone tonight #COFlood", 20)
    with open_store(database_url) as store:  # a new daemon: it learns again from the stored window
        assert Pipeline(store, [FLOODS], now=T0 + timedelta(minutes=20)).process(
            [tagged], now=T0 + timedelta(minutes=20)).stored == 1
        (stored,) = [sp for sp in store.posts(topic="floods") if sp.post.id == "99"]
        assert stored.matched[0] == "#coflood (learned)"
        assert [t.term for t in store.learned_terms("floods")].count("#coflood") == 1
        detail = post_detail(stored, ())  # the dashboard's post view says why, learned terms marked
        assert "terms:  #coflood (learned)" in detail.plain and f"score:  {stored.score:.2f}" in detail.plain
        assert [detail.plain[s.start:s.end] for s in detail.spans if "reverse" in str(s.style)] == ["#COFlood"]
