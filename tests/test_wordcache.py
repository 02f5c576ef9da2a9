"""A process asks its first words of a cache file and reads the whole table past that: the answers
are the table's either way, and a missing, damaged or unwritable cache only costs time."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import wordcache, wordtables
from monitor.wordcache import WordLookup

SOURCE = wordtables.wordlist("en", "large")
TABLE = wordtables.frequencies("en")
WORDS = ["the", "ceasefire", "grindavik", "zzqxv", "Iran", "naïve", "東京", "", "90s", "12pm"]


class Reads:
    """The table, counting how often a lookup had to read it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> dict[str, float]:
        self.count += 1
        return TABLE


def answers(lookup: WordLookup) -> list[float | None]:
    return [lookup.get(word) for word in WORDS]


EXPECTED = [TABLE.get(word) for word in WORDS]


def test_the_first_process_reads_the_table_and_leaves_a_file_the_next_ones_answer_from(tmp_path: Path) -> None:
    first, later = Reads(), Reads()
    assert answers(WordLookup(SOURCE, first, tmp_path)) == EXPECTED
    assert first.count == 1 and len(list(tmp_path.glob("large_en-*.sqlite"))) == 1
    assert answers(WordLookup(SOURCE, later, tmp_path)) == EXPECTED
    assert later.count == 0


def test_past_its_share_of_file_lookups_a_process_reads_the_table_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    WordLookup(SOURCE, Reads(), tmp_path)  # makes the file
    monkeypatch.setattr(wordcache, "ASKED_OF_FILE", 3)
    reads = Reads()
    lookup = WordLookup(SOURCE, reads, tmp_path)
    answers = [lookup.get(w) for w in WORDS * 2]
    assert answers == [TABLE.get(w) for w in WORDS * 2]
    assert reads.count == 1


def test_a_damaged_file_is_answered_from_the_table_and_made_again_by_the_next_process(tmp_path: Path) -> None:
    WordLookup(SOURCE, Reads(), tmp_path)
    (cached,) = tmp_path.glob("large_en-*.sqlite")
    cached.write_bytes(b"not a database at all" * 100)
    reads = Reads()
    assert answers(WordLookup(SOURCE, reads, tmp_path)) == EXPECTED
    assert reads.count == 1
    assert not cached.exists()
    WordLookup(SOURCE, Reads(), tmp_path)
    assert cached.exists() and WordLookup(SOURCE, Reads(), tmp_path).get("the") == TABLE["the"]


def test_a_cache_folder_that_cannot_be_written_leaves_the_same_answers(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "words"
    not_a_folder.write_text("a file where the folder should be")
    reads = Reads()
    assert answers(WordLookup(SOURCE, reads, not_a_folder)) == EXPECTED
    assert reads.count == 1 and list(tmp_path.iterdir()) == [not_a_folder]


def test_without_a_cache_folder_the_table_answers() -> None:
    reads = Reads()
    assert answers(WordLookup(SOURCE, reads, None)) == EXPECTED
    assert reads.count == 1


def test_the_cache_folder_is_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert wordcache.cache_folder() == tmp_path / "monitor" / "words"


def test_threads_asking_across_the_switch_to_the_table_all_get_the_tables_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    WordLookup(SOURCE, Reads(), tmp_path)
    monkeypatch.setattr(wordcache, "ASKED_OF_FILE", 200)  # the switch falls in the middle of the asking
    lookup = WordLookup(SOURCE, Reads(), tmp_path)
    words = list(TABLE)[:2000:7] + ["zzqxv", "Iran"] * 50
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lookup.get, words))
    assert answers == [TABLE.get(word) for word in words]
