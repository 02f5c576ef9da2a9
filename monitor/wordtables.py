"""wordfreq's word frequencies, read straight from its data files, with wordfreq imported only for
the words its tables cannot answer by a plain lookup.

Importing wordfreq costs more than its tables: it compiles large tokenizer regexes, imports ftfy and
langcodes, and finds its own data directory with `inspect.stack()`, which reads the source of every
frame on the stack (in a daemon's writer thread, dozens). Building the pipeline paid all of it before
the first post. Here the tables are read from the same files as wordfreq reads them (gzipped msgpack,
"cBpack"), into the same values. An English word not in the table that is lower-case ASCII letters
and digits is one token to wordfreq's tokenizer, so its answer is worked out here (frequency 0 for
letters only; wordfreq's number rules where there are digits); only the rest (capitals, other scripts,
punctuation, other languages) goes through wordfreq's own tokenizer.
tests/test_wordtables.py keeps the answers equal to wordfreq's.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import re
import zlib
from collections.abc import Iterator
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import msgpack

from monitor.wordcache import WordLookup, cache_folder

GZIP = 16 + zlib.MAX_WBITS  # zlib.decompress reads a gzip file whole, faster than gzip.open's stream
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
    data: list[Any] = msgpack.unpackb(zlib.decompress(path.read_bytes(), GZIP), raw=False)
    _check_header(data[0], path)
    return data[1:]


def buckets(path: Path) -> Iterator[list[str]]:
    """The words of a cBpack file bucket by bucket, most frequent first, each decoded only when asked
    for: a reader that stops at some frequency spares decoding the long tail of rare words."""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(zlib.decompress(path.read_bytes(), GZIP))
    count = unpacker.read_array_header()
    _check_header(unpacker.unpack(), path)
    for _ in range(count - 1):
        yield unpacker.unpack()


def _check_header(header: Any, path: Path) -> None:
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"unexpected header in {path}: {header!r}")


@functools.cache
def frequencies(lang: str) -> dict[str, float]:
    """Word → frequency, equal to wordfreq.get_frequency_dict(lang, "best"): the large list where
    wordfreq has one, else the small one. Read once per process and shared by every caller."""
    path = wordlist(lang, "large") or wordlist(lang, "small")
    if path is None:  # a code wordfreq maps to a neighbour (langcodes' closest match): ask it
        import wordfreq

        table: dict[str, float] = wordfreq.get_frequency_dict(lang, "best")
        return table
    pack = read_pack(path)
    # wordfreq.cB_to_freq(-index) for each word of bucket `index`; one insertion per word, the later wins.
    values = chain.from_iterable(repeat(10 ** (-index / 100), len(words)) for index, words in enumerate(pack))
    return dict(zip(chain.from_iterable(pack), values, strict=True))


@functools.cache
def lookup(lang: str) -> WordLookup:
    """`frequencies(lang).get`, for a process that may ask only a few thousand words: those are
    looked up in a cache file (monitor/wordcache.py) and the table is read past that."""
    source = wordlist(lang, "large") or wordlist(lang, "small")
    return WordLookup(source, functools.partial(frequencies, lang), cache_folder())


# A forked child (monitor/parsing.py) makes its own: an SQLite connection must not cross a fork.
os.register_at_fork(after_in_child=lookup.cache_clear)


def zipf(word: str, lang: str = "en") -> float:
    """wordfreq.zipf_frequency(word, lang), without importing wordfreq for a word its table holds
    as written or a lower-case ASCII word of letters and digits (English)."""
    frequency = lookup(lang).get(word)
    if frequency:
        return round(math.log10(frequency) + 9.0, 2)
    if lang in REGEX_TOKENIZED and word.isascii() and word.isalnum() and word == word.lower():
        if word.isalpha():
            return 0.0
        frequency = _with_digits(word, lookup(lang))
    else:
        frequency = _word_frequency(word, lang)
    return round(math.log(frequency, 10) + 9, 2)  # wordfreq.freq_to_zipf, as it rounds


# Languages whose words wordfreq splits with its regex tokenizer, which leaves a lower-case ASCII
# word of letters and digits whole (tests/test_wordtables.py checks both).
REGEX_TOKENIZED = frozenset({"en"})
_DIGIT_RUN = re.compile(r"[0-9]{2,}")  # wordfreq.numbers' MULTI_DIGIT_RE where only [a-z0-9] can occur
_YEAR_LOG_PEAK, _NOT_YEAR, _REFERENCE_YEAR, _PLATEAU = -1.9185, 0.1, 2019, 20
_DIGIT_FREQS = (0.009, 0.300, 0.175, 0.124, 0.096, 0.078, 0.066, 0.057, 0.050, 0.045)


def _with_digits(word: str, table: WordLookup) -> float:
    """wordfreq's frequency of a lower-case ASCII word holding digits (its _word_frequency for one
    token): runs of two digits or more count as zeros in the table, times how likely that number is."""
    smashed = _DIGIT_RUN.sub(lambda run: "0" * len(run.group()), word)
    frequency = table.get(smashed)
    if frequency is None:
        return MINIMUM
    likely = 1.0  # wordfreq.numbers.digit_freq, multiplied in the same order
    for run in _DIGIT_RUN.findall(word):
        likely *= _year(run) if len(run) == 4 else _benford(run)
    return _rounded(1.0 / (1.0 / (frequency * likely)))


def _benford(digits: str) -> float:
    scale: int = 10 ** (len(digits) - 1)
    return _DIGIT_FREQS[int(digits[0])] / scale


def _year(digits: str) -> float:
    """wordfreq.numbers.year_freq: a four-digit number is most likely a recent year."""
    year = int(digits)
    if year <= _REFERENCE_YEAR:
        log_frequency = _YEAR_LOG_PEAK - 0.0083 * (_REFERENCE_YEAR - year)
    elif year <= _REFERENCE_YEAR + _PLATEAU:
        log_frequency = _YEAR_LOG_PEAK
    else:
        log_frequency = _YEAR_LOG_PEAK - 0.2 * (year - (_REFERENCE_YEAR + _PLATEAU))
    as_year: float = 10.0**log_frequency
    return as_year + _NOT_YEAR * _benford(digits)


def _rounded(frequency: float) -> float:
    """To three significant digits, at least MINIMUM: as wordfreq rounds what it returns."""
    unrounded = max(frequency, MINIMUM)
    return round(unrounded, math.floor(-math.log(unrounded, 10)) + 3)


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
    return _rounded(frequency)
