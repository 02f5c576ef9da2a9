"""wordfreq's word frequencies, read straight from its data files, with wordfreq imported only for
the words its tables cannot answer by a plain lookup.

Importing wordfreq costs more than its tables: it compiles large tokenizer regexes, imports ftfy and
langcodes, and finds its own data directory with `inspect.stack()`, which reads the source of every
frame on the stack (in a daemon's writer thread, dozens). Building the pipeline paid all of it before
the first post. Here the tables are read from the same files as wordfreq reads them (gzipped msgpack,
"cBpack"), into the same values; a word not in the table that is plain lower-case ASCII letters has
frequency 0 (wordfreq's tokenizer would leave it as it is and find nothing), and only the rest (digits
inside a word, other scripts, punctuation) goes through wordfreq's own tokenizer and number rules.
tests/test_wordtables.py keeps the answers equal to wordfreq's.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from pathlib import Path
from typing import Any

import msgpack

MINIMUM = 1e-9  # wordfreq.zipf_to_freq(0.0): zipf_frequency's floor, Zipf 0


@functools.cache
def data_dir() -> Path:
    """wordfreq's data directory, found without importing wordfreq."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("wordfreq is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def wordlist(lang: str, size: str) -> Path | None:
    """The `size` ("large" or "small") list of `lang`, named by its exact code, if wordfreq has it."""
    path = data_dir() / f"{size}_{lang}.msgpack.gz"
    return path if path.is_file() else None


def read_pack(path: Path) -> list[list[str]]:
    """A cBpack file as wordfreq.read_cBpack reads it: the words of each centibel of frequency."""
    with gzip.open(path, "rb") as handle:
        data: list[Any] = msgpack.load(handle, raw=False)
    header = data[0]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"unexpected header in {path}: {header!r}")
    return data[1:]


@functools.cache
def frequencies(lang: str) -> dict[str, float]:
    """Word → frequency, equal to wordfreq.get_frequency_dict(lang, "best"): the large list where
    wordfreq has one, else the small one. Read once per process and shared by every caller."""
    path = wordlist(lang, "large") or wordlist(lang, "small")
    if path is None:  # a code wordfreq maps to a neighbour (langcodes' closest match): ask it
        import wordfreq

        table: dict[str, float] = wordfreq.get_frequency_dict(lang, "best")
        return table
    table = {}
    for index, words in enumerate(read_pack(path)):
        table.update(dict.fromkeys(words, 10 ** (-index / 100)))  # wordfreq.cB_to_freq(-index); later wins
    return table


def zipf(word: str, lang: str = "en") -> float:
    """wordfreq.zipf_frequency(word, lang), without importing wordfreq for a word its table holds
    as written or a plain lower-case ASCII word."""
    frequency = frequencies(lang).get(word)
    if frequency:
        return round(math.log10(frequency) + 9.0, 2)
    if word.isascii() and word.isalpha() and word.islower():
        return 0.0
    return round(math.log(_word_frequency(word, lang), 10) + 9, 2)  # wordfreq.freq_to_zipf, as it rounds


def _word_frequency(word: str, lang: str) -> float:
    """wordfreq.word_frequency(word, lang, "best", MINIMUM) over this module's table (wordfreq's own
    _word_frequency, which would build a second copy of the table)."""
    import wordfreq
    from wordfreq.language_info import get_language_info
    from wordfreq.numbers import digit_freq, smash_numbers
    from wordfreq.tokens import lossy_tokenize

    tokens = lossy_tokenize(word, lang)
    if not tokens:
        return MINIMUM
    table = frequencies(lang)
    one_over_result = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        if smashed not in table:
            return MINIMUM
        frequency = table[smashed]
        if smashed != token:
            frequency *= digit_freq(token)
        one_over_result += 1.0 / frequency
    frequency = 1.0 / one_over_result
    if get_language_info(lang)["tokenizer"] == "jieba":
        frequency *= wordfreq.INFERRED_SPACE_FACTOR ** -(len(tokens) - 1)
    unrounded = max(frequency, MINIMUM)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(unrounded, leading_zeroes + 3)
