"""The spellings a keyword takes in posts: inflections, demonyms, joined hashtags."""

from __future__ import annotations

import pytest

from monitor.wordforms import demonyms, expand_hashtags, inflections, split_hashtag

TOPIC_WORDS = frozenset({"boulder", "flood", "sardegna", "megantic", "iran", "hamas"})


def test_inflections_keep_number_and_tense_only() -> None:
    assert inflections("floods") == {"flood", "floods", "flooded", "flooding"}
    assert inflections("crash") >= {"crashes", "crashed", "crashing"}
    assert "escalator" not in inflections("escalate")  # a derivation means something else
    assert inflections("destabilization") == {"destabilization"}


@pytest.mark.parametrize(("place", "people"), [
    ("Iran", "iranian"), ("Israel", "israeli"), ("Italy", "italian"), ("China", "chinese"),
    ("Bangladesh", "bangladeshi"), ("Costa Rica", "costa rican"),
])
def test_demonyms_of_places(place: str, people: str) -> None:
    assert people in demonyms(place)


def test_no_demonym_is_made_up() -> None:
    assert demonyms("Boulder") == set()
    assert all(" " not in d for d in demonyms("Gaza"))


@pytest.mark.parametrize(("tag", "parts"), [
    ("BoulderFlood", ("boulder", "flood")),  # the writer's capitals mark the cut
    ("boulderflood", ("boulder", "flood")),
    ("coflood", ("co", "flood")),
    ("prayforboulder", ("pray", "for", "boulder")),
    ("lacmegantic", ("lac", "megantic")),
    ("IranHamasTalks", ("iran", "hamas", "talks")),
    ("theatre", ("theatre",)),  # a word is not cut into smaller ones ("the", "at", "re")
    ("piranha", ("piranha",)),  # a topic word inside another word is not a hit
    ("theirannualparty", ("their", "annual", "party")),
])
def test_split_hashtag(tag: str, parts: tuple[str, ...]) -> None:
    assert split_hashtag(tag, TOPIC_WORDS) == parts


def test_expand_hashtags_puts_the_parts_beside_the_tag() -> None:
    expanded = expand_hashtags("Praying for #BoulderFlood victims #news", TOPIC_WORDS)
    assert expanded == "Praying for #BoulderFlood boulder flood victims #news"
