"""Online story clustering: join, start, fold duplicates, merge, close, spike, label, restart; and the metrics."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.stories import adjusted_rand, bcubed, load_uci, normalized_mutual_info, run_baseline, run_ours
from monitor.storybuilder import Assignment, StoryBuilder, StoryParams
from monitor.textfeatures import MAX_TERMS, Featurizer, tokens
from storage.types import Post, Story

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
_serial = itertools.count(1)


def post(text: str, minutes: float = 0, *, source: str = "feed", author: str = "", title: str = "") -> Post:
    n = next(_serial)
    return Post(
        id=str(n), source=source, author=author or f"user{n}", url=f"https://example.org/{n}", text=text,
        title=title, published=T0 + timedelta(minutes=minutes),
    )


def add(builder: StoryBuilder, p: Post, duplicate_of: tuple[str, str] | None = None) -> Assignment:
    return builder.add(p, p.published, duplicate_of)


def by_id(stories: list[Story]) -> dict[int, Story]:
    return {s.id: s for s in stories}


VOLCANO = [
    "Volcano erupts in southern Iceland, lava fountains seen from Reykjavik",
    "Iceland volcano eruption: lava flows toward the town of Grindavik",
    "Residents of Grindavik evacuated as the Iceland volcano erupts again",
]
ELECTION = [
    "Mayor Alvarez wins re-election in a landslide, turnout at record high",
    "Alvarez re-election: opponents concede after the landslide count",
]


def test_posts_about_one_event_join_one_story_and_others_start_their_own() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    volcano = [add(builder, post(t, i)).story_id for i, t in enumerate(VOLCANO)]
    election = [add(builder, post(t, 10 + i)).story_id for i, t in enumerate(ELECTION)]
    assert len(set(volcano)) == 1
    assert len(set(election)) == 1
    assert volcano[0] != election[0]


def test_story_ids_come_from_the_shared_allocator() -> None:
    ids = itertools.count(500)
    one, other = StoryBuilder("a", ids), StoryBuilder("b", ids)
    assert add(one, post(VOLCANO[0])).story_id == 500
    assert add(other, post(ELECTION[0])).story_id == 501


def test_changed_reports_each_touched_story_once_fully_filled() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    add(builder, post(VOLCANO[0], 0, source="rss", author="ap"))
    add(builder, post(VOLCANO[1], 5, source="mastodon", author="geo"))
    add(builder, post(VOLCANO[2], 9, source="rss", author="ap"))
    [story] = builder.changed()
    assert story.topic == "news"
    assert story.size == 3
    assert story.sources == ("mastodon", "rss")
    assert story.authors == 2
    assert story.first_seen == T0
    assert story.last_seen == T0 + timedelta(minutes=9)
    assert story.live
    assert story.velocity == 3.0
    assert story.label in VOLCANO
    assert builder.changed() == []


def test_a_duplicate_joins_its_originals_story_without_pulling_it_away() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    original = post(VOLCANO[0], 0, source="rss")
    story = add(builder, original).story_id
    add(builder, post(ELECTION[0], 1))
    # The copy's text is unlike its original (a bare link share, say) but dedup said it is one.
    copy = post("watch this", 2, source="bluesky")
    assert add(builder, copy, duplicate_of=(original.source, original.id)).story_id == story
    stories = by_id(builder.changed())
    assert stories[story].size == 2
    assert stories[story].sources == ("bluesky", "rss")
    assert stories[story].label == VOLCANO[0]
    assert add(builder, post(VOLCANO[1], 3)).story_id == story


def test_posts_bridging_two_live_stories_merge_them() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    volcano = add(builder, post("Volcano erupts in Iceland near the Reykjanes peninsula", 0)).story_id
    flights = add(builder, post("Airlines cancel hundreds of flights across northern Europe", 1)).story_id
    assert volcano != flights
    bridges = [
        add(builder, post(text, 2 + i))
        for i, text in enumerate([
            "Iceland volcano: airlines cancel flights",
            "Flights cancelled across Europe as Iceland volcano erupts",
        ])
    ]
    [merging] = [a for a in bridges if a.merged]
    assert {merging.story_id, *merging.merged} == {volcano, flights}
    survivor, [gone] = merging.story_id, merging.merged
    stories = by_id(builder.changed())
    assert stories[survivor].size == 4 and stories[survivor].live
    # The story merged away is reported once more, closed, saying where it went.
    assert (stories[gone].live, stories[gone].merged_into) == (False, survivor)
    assert add(builder, post("Reykjanes peninsula volcano erupts again", 5)).story_id == survivor
    assert add(builder, post("Airlines cancel more flights across northern Europe", 6)).story_id == survivor


def test_unrelated_stories_are_not_merged() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    for i, text in enumerate(VOLCANO + ELECTION):
        assert add(builder, post(text, i)).merged == ()
    assert len(builder.changed()) == 2


def test_quiet_stories_close_and_a_late_post_starts_a_new_story() -> None:
    params = StoryParams(close_after=timedelta(hours=2))
    builder = StoryBuilder("news", itertools.count(1), params=params)
    first = add(builder, post(VOLCANO[0], 0)).story_id
    builder.changed()
    builder.close_quiet(T0 + timedelta(hours=1))
    assert builder.changed() == []
    builder.close_quiet(T0 + timedelta(hours=2, minutes=1))
    [closed] = builder.changed()
    assert (closed.id, closed.live) == (first, False)
    assert builder.live_count == 0
    assert add(builder, post(VOLCANO[1], 180)).story_id != first


def test_the_posts_own_time_is_the_clock() -> None:
    builder = StoryBuilder("news", itertools.count(1), params=StoryParams(close_after=timedelta(hours=2)))
    first = add(builder, post(VOLCANO[0], 0)).story_id
    # An archive replayed: a post three hours later closes the quiet story before it is placed.
    later = add(builder, post(VOLCANO[1], 180)).story_id
    assert later != first
    stories = by_id(builder.changed())
    assert stories[first].live is False
    assert stories[later].live is True


def test_a_burst_after_a_calm_hour_is_a_spike_with_its_reason() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    texts = itertools.cycle(VOLCANO)
    # 18 posts spread over the hour before (3 per 10 minutes), then 12 in the last 10 minutes.
    for i in range(18):
        add(builder, post(next(texts), i * 60 / 18))
    for i in range(12):
        add(builder, post(next(texts), 61 + i * 9 / 12))
    [story] = builder.changed()
    assert story.spike == "12 posts in 10 min, 4× its previous hour"
    # The last hour runs from minute 9.25 to 69.25: 15 of the calm posts and all 12 of the burst.
    assert story.velocity == 27.0


def test_a_steady_story_is_not_a_spike() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    texts = itertools.cycle(VOLCANO)
    for i in range(30):
        add(builder, post(next(texts), i * 5))
    [story] = builder.changed()
    assert story.spike is None
    assert story.velocity == 12.0


def test_a_new_story_bursting_from_nothing_says_so() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    for i in range(6):
        add(builder, post(VOLCANO[i % 3], i))
    [story] = builder.changed()
    assert story.spike == "6 posts in 10 min, none in the hour before"


def test_label_is_one_clean_line_even_from_hostile_text() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    hostile = "Volcano erupts in Iceland\x1b[31m \u202e now\nsecond line https://evil.example/x " + "lava " * 40
    add(builder, post(hostile, 0))
    [story] = builder.changed()
    assert "\n" not in story.label and "\x1b" not in story.label and "\u202e" not in story.label
    assert story.label.startswith("Volcano erupts in Iceland")
    assert len(story.label) <= 90


def test_label_prefers_the_title() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    add(builder, post("Long body text about the eruption and the evacuation.", 0, title="Iceland volcano erupts"))
    assert builder.changed()[0].label == "Iceland volcano erupts"


# -- bounded work per post -------------------------------------------------------------------------


def test_a_word_every_story_uses_does_not_hide_the_story_a_post_belongs_to() -> None:
    """Candidates come from a post's heaviest words; the common word's list keeps only recent stories."""
    builder = StoryBuilder("news", itertools.count(1), params=StoryParams(max_postings=4))
    places = ["Grindavik", "Quetzaltenango", "Tromsoe", "Ushuaia", "Kirkwall", "Timbuktu", "Ulaanbaatar", "Nuuk"]
    first = add(builder, post(f"Council update: {places[0]} harbour wall repairs approved", 0)).story_id
    for i, place in enumerate(places[1:], 1):
        add(builder, post(f"Council update: {place} library opening hours extended", i))
    later = add(builder, post(f"Council update: contractors start the {places[0]} harbour wall repairs", 20))
    assert later.story_id == first


def test_live_stories_are_capped_by_closing_the_longest_quiet() -> None:
    builder = StoryBuilder("news", itertools.count(1), params=StoryParams(max_live=2))
    first = add(builder, post(VOLCANO[0], 0)).story_id
    second = add(builder, post(ELECTION[0], 1)).story_id
    builder.changed()
    add(builder, post("Storm floods the coast road, ferries cancelled", 2))
    stories = by_id(builder.changed())
    assert stories[first].live is False
    assert second not in stories
    assert builder.live_count == 2


def test_shared_features_place_posts_as_computing_them_afresh_does() -> None:
    featurizer = Featurizer()
    posts = _stream()
    fresh = StoryBuilder("news", itertools.count(1))
    shared = StoryBuilder("news", itertools.count(1), featurizer=featurizer)
    assert [add(fresh, p).story_id for p in posts] == [
        shared.add(p, p.published, None, featurizer(p)).story_id for p in posts
    ]


def test_a_huge_post_keeps_only_its_heaviest_terms() -> None:
    builder = StoryBuilder("news", itertools.count(1))
    words = " ".join(f"word{i} thing{i}" for i in range(50_000))  # a megabyte of distinct words
    story = add(builder, post("Lava reaches Grindavik and Svartsengi. " + words, 0)).story_id
    assert len(Featurizer()(post(words)).terms) == MAX_TERMS
    # Its two names (the rarest words, boosted as names) are among the terms it keeps.
    assert add(builder, post("Grindavik and Svartsengi evacuated", 1)).story_id == story


def test_a_name_inside_a_sentence_weighs_more_than_in_a_headline_or_in_lower_case() -> None:
    featurizer = Featurizer()
    sentence = featurizer(post("the storm reached Boulder overnight and boulder county closed roads")).terms
    headline = featurizer(post("The Storm Reached Boulder Overnight And Closed Roads")).terms
    plain = featurizer(post("the storm reached boulder overnight and the county closed roads")).terms
    assert sentence["boulder"] == pytest.approx(1.5 * plain["boulder"])  # both spellings, as the name
    assert headline["boulder"] == pytest.approx(plain["boulder"])
    assert sentence["storm"] == plain["storm"]


def test_a_text_that_starts_with_its_title_weighs_the_title_words_as_the_title_does() -> None:
    featurizer = Featurizer()
    title = "Lava reaches the Grindavik harbour"
    alone = featurizer(post("", title=title)).terms
    both = featurizer(post(f"{title}: residents of the town were evacuated overnight", title=title)).terms
    assert all(both[term] == weight for term, weight in alone.items())
    assert both["resident"] == pytest.approx(0.5 * featurizer(post("residents")).terms["resident"])


def test_ascii_text_is_cut_into_the_words_the_unicode_rule_finds() -> None:
    import re

    every_ascii = "".join(map(chr, range(128))).replace("@", "") * 2 + " Don't stop_now, O'Neil: 3.5km/h!"  # no mention
    assert tokens(every_ascii) == [t.lower() for t in re.findall(r"[^\W_]+", every_ascii)]


def _stream() -> list[Post]:
    texts = [*VOLCANO, *ELECTION, "Storm floods the coast road, ferries cancelled",
             "Ferries cancelled again as the storm hits the coast", "Coast road closed: storm floods low towns"]
    return [post(text, 7 * i) for i, text in enumerate(texts * 3)]


def test_restore_gives_the_same_assignments_as_an_uninterrupted_run() -> None:
    posts = _stream()
    half = len(posts) // 2
    uninterrupted = StoryBuilder("news", itertools.count(1))
    expected = [add(uninterrupted, p).story_id for p in posts]

    before = StoryBuilder("news", itertools.count(1))
    first_half = [(p, add(before, p).story_id) for p in posts[:half]]
    stored: dict[int, Story] = {}
    for story in before.changed():
        stored[story.id] = story
    after = StoryBuilder("news", itertools.count(max(stored) + 1))
    after.restore(list(stored.values()), list(reversed(first_half)))
    resumed = [add(after, p).story_id for p in posts[half:]]
    assert [s for _, s in first_half] + resumed == expected


def test_restore_keeps_closed_stories_closed() -> None:
    builder = StoryBuilder("news", itertools.count(10))
    p = post(VOLCANO[0], 0)
    closed = Story(id=3, topic="news", label="x", size=1, first_seen=T0, last_seen=T0, live=False)
    builder.restore([closed], [(p, 3)])
    assert builder.live_count == 0
    assert add(builder, post(VOLCANO[1], 1)).story_id == 10


# -- the bench's metrics ---------------------------------------------------------------------------------


def test_perfect_clustering_scores_one() -> None:
    truth = ["a", "a", "b", "c", "c", "c"]
    labels = [7, 7, 1, 4, 4, 4]
    assert bcubed(truth, labels) == (1.0, 1.0, 1.0)
    assert adjusted_rand(truth, labels) == pytest.approx(1.0)
    assert normalized_mutual_info(truth, labels) == pytest.approx(1.0)


def test_everything_in_one_cluster_has_full_recall_and_poor_precision() -> None:
    truth = ["a", "a", "b", "b"]
    precision, recall, f1 = bcubed(truth, [1, 1, 1, 1])
    assert (precision, recall) == (0.5, 1.0)
    assert f1 == pytest.approx(2 / 3)
    assert adjusted_rand(truth, [1, 1, 1, 1]) == pytest.approx(0.0)
    assert normalized_mutual_info(truth, [1, 1, 1, 1]) == pytest.approx(0.0)


def test_metrics_match_hand_computed_values() -> None:
    truth = [0, 0, 0, 1, 1, 1]
    labels = [0, 0, 1, 1, 2, 2]
    # B-cubed by hand: precision (2/3·… per item) = (1+1+.5+.5+1+1)/6, recall = (2/3·2+1/3+1/3+2/3·2)/6.
    precision, recall, _ = bcubed(truth, labels)
    assert precision == pytest.approx(5 / 6)
    assert recall == pytest.approx((2 / 3 * 2 + 1 / 3 + 1 / 3 + 2 / 3 * 2) / 6)
    # ARI for this classic example (scikit-learn documents 0.24242424...).
    assert adjusted_rand([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714285714)
    assert adjusted_rand(truth, labels) == pytest.approx(0.2424242424)
    assert normalized_mutual_info(truth, labels) == pytest.approx(0.5158037429)


def test_real_headlines_cluster_better_than_the_naive_baseline(shared: Path) -> None:
    items = load_uci(shared / "data" / "stories" / "uci-news-aggregator-prefix.csv")[:1500]
    truth = [i.story for i in items]
    ours, _ = run_ours(items)
    baseline = max(bcubed(truth, run_baseline(items, t)[0])[2] for t in (0.1, 0.2, 0.3))
    assert bcubed(truth, ours)[2] > baseline


# -- one word is not a story -------------------------------------------------------------------------


def test_one_shared_word_never_joins_two_posts_in_either_order() -> None:
    short = "Fake item"
    question = "When you see the apartment or room of a date for the first time, what item is a red flag?"
    for first, second in ((short, question), (question, short)):
        builder = StoryBuilder("*", itertools.count(1))
        assert add(builder, post(first, 0)).story_id != add(builder, post(second, 1)).story_id


def test_two_shared_words_still_join_a_short_post() -> None:
    builder = StoryBuilder("*", itertools.count(1))
    story = add(builder, post("Grindavik evacuated as lava nears the town", 0)).story_id
    assert add(builder, post("Grindavik lava!", 1)).story_id == story


def test_a_recorded_json_feed_item_stays_out_of_the_reddit_story_it_shares_a_word_with(
    shared: Path, tmp_path: Path,
) -> None:
    """Issue 10.8: JSON Feed's "Fake item" joined Reddit's "…what item is a red flag?" on "item" alone."""
    from monitor.config import Topic
    from monitor.pipeline import Pipeline
    from monitor.sources import reddit, rss
    from storage.store import open_store

    data = shared / "data"
    feed = rss.parse_feed((data / "feeds/real/feed-rs-jsonfeed_elastic_1.1.json").read_bytes(),
                          url="https://www.influxdata.com/blog/", source="influx")
    listing = json.loads((data / "api/reddit/listing_new.json").read_text(encoding="utf-8"))
    threads = [reddit.to_post("askreddit", child["data"]) for child in listing["data"]["children"]]
    polls = [feed, [p for p in threads if p is not None]]
    for order in (polls, polls[::-1]):
        with open_store(f"sqlite:///{tmp_path / f'{order[0][0].source}-first.db'}") as store:
            now = datetime.now(UTC)  # the JSON Feed's undated items are dated by their parse
            pipeline = Pipeline(store, [Topic("everything", query="*")], now=now)
            for posts in order:
                pipeline.process(posts, now=now)
            [fake] = [sp for sp in store.posts() if sp.post.title == "Fake item"]
            story = store.posts(story=fake.story)
        assert [sp.post.title for sp in story] == ["Fake item"]
