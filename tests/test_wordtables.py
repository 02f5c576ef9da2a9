"""monitor/wordtables.py answers as wordfreq does, and a pipeline's words need no wordfreq import."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import wordfreq

from monitor import wordtables

WORDS = [
    # in the table as written, plain words not in it, capitals and forms wordfreq's tokenizer changes
    "the", "ceasefire", "grindavik", "zzqxv", "Iran", "U.S.", "don't", "naïve", "Straße", "İstanbul",
    # digits inside words: wordfreq's number rules (years, Benford's law)
    "90s", "11th", "12pm", "mh370", "34gb", "0x8004804e", "fy14", "2014", "1,000", "3.5",
    # other scripts and odd input
    "café", "東京", "Москва", "٣٣", "ﬁre", "１２３", "ǅ", "", " ", "--", "#hashtag",
]


@pytest.mark.parametrize("word", WORDS)
def test_zipf_is_wordfreqs(word: str) -> None:
    assert wordtables.zipf(word, "en") == wordfreq.zipf_frequency(word, "en")


def test_words_of_letters_and_digits_get_wordfreqs_number_rules() -> None:
    """Years, Benford's law for other runs of digits, runs counted as zeros in the table."""
    rng = random.Random(5)
    made = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789" if rng.random() < 0.6 else "0123456789")
                    for _ in range(rng.randint(1, 10))) for _ in range(3000)]
    forms = (("", ""), ("", "s"), ("fy", ""))
    years = [f"{prefix}{year}{suffix}" for year in range(1900, 2100, 7) for prefix, suffix in forms]
    for word in [*made, *years, "1080p", "34gb", "0x8004804e", "07b", "100m", "sxsw14"]:
        assert wordtables.zipf(word, "en") == wordfreq.zipf_frequency(word, "en"), word


@pytest.mark.parametrize("lang", ["en", "fr", "ja"])
def test_the_table_is_wordfreqs_best_list(lang: str) -> None:
    assert wordtables.frequencies(lang) == wordfreq.get_frequency_dict(lang, "best")


def test_a_missing_small_list_is_none() -> None:
    assert wordtables.wordlist("xx-nowhere", "small") is None
    assert wordtables.wordlist("fr", "small") is not None


def test_featurizing_and_learning_english_words_never_import_wordfreq() -> None:
    """wordfreq's import compiles big regexes and calls inspect.stack(): a pipeline whose posts hold
    plain English words, digits among them (the common case), does without it."""
    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from monitor.lexicon import zipf_anywhere\n"
        "from monitor.textfeatures import Featurizer\n"
        "from storage.types import Post\n"
        "post = Post('1', 'rss', 'a', 'https://e.org/1', 'Lava reaches Grindavik in 2024 as the eruption grows 5x',"
        " datetime(2025, 1, 1, tzinfo=UTC))\n"
        "assert Featurizer()(post).terms\n"
        "assert zipf_anywhere('eruption') > 0 and zipf_anywhere('12pm') > 0\n"
        "print('wordfreq' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_the_common_words_of_every_language_are_as_wordfreqs_lists_say() -> None:
    """lexicon._common decodes only the common buckets and merges them in C: the same table as
    reading each list with wordfreq and keeping every word's highest frequency."""
    from monitor import lexicon

    expected: dict[str, float] = {}
    paths = wordfreq.available_languages("small")
    for lang in lexicon.LANGUAGES:
        for centibels, words in enumerate(wordfreq.read_cBpack(paths[lang])):
            zipf = round(9 - centibels / 100, 2)
            if zipf < lexicon.COMMON:
                break
            for word in words:
                expected[word] = max(expected.get(word, 0.0), zipf)
    assert lexicon._common.__wrapped__() == expected
