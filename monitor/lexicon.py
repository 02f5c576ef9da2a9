"""How common a word is in general language, on wordfreq's Zipf scale (0 unknown … 7+ for 'the').

Posts arrive in many languages, so "rare" must mean rare in all of them: "Nova" is a car to an
English reader and the word "new" to a Portuguese one, "Pablo" a typhoon and a first name.
English is known in full (the articles `init` reads are mostly English, and the clustering room
holds the same table); for other languages only their common words are kept — the ones that make
a word ambiguous — read once from wordfreq's small lists (~130k words, ~20 MB, ~0.07 s). The tables
are read from wordfreq's files by monitor/wordtables.py, which imports wordfreq only for words a
lookup cannot answer.
"""

from __future__ import annotations

import functools
import math

from monitor import wordtables

# The languages most posted in on the social web, where a Latin, Cyrillic or Arabic word can be
# everyday vocabulary; wordfreq has a small list for each.
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl", "id", "ms", "fil", "tr", "pl", "ru", "ar", "ja", "ko",
             "sv", "ro", "ca", "hi")
COMMON = 4.0  # a word at least this frequent in some language is everyday vocabulary there


def zipf_english(word: str) -> float:
    """Frequency of `word` (or a phrase) in general English."""
    frequency = wordtables.lookup("en").get(word)
    if frequency:  # a plain lookup; zipf_frequency tokenises first, which costs far more
        return round(math.log10(frequency) + 9.0, 2)
    if word.isalpha() and word.islower():
        return 0.0  # one plain word that is not in the table: unknown, no need to ask wordfreq
    return wordtables.zipf(word, "en")


def zipf_anywhere(word: str) -> float:
    """The highest frequency of `word` in English or among the common words of the other languages."""
    key = word.casefold()
    return max(zipf_english(key), _common().get(key, 0.0))


@functools.cache
def _common() -> dict[str, float]:
    """Each word common in some language → its highest frequency among them."""
    common: list[tuple[float, list[str]]] = []
    for lang in LANGUAGES:
        path = wordtables.wordlist(lang, "small")
        if path is None:
            raise FileNotFoundError(f"wordfreq has no small word list for {lang!r}")
        for centibels, words in enumerate(wordtables.buckets(path)):  # the common words only are decoded
            zipf = round(9 - centibels / 100, 2)
            if zipf < COMMON:
                break
            common.append((zipf, words))
    found: dict[str, float] = {}
    for zipf, words in sorted(common, key=lambda bucket: bucket[0]):  # rarest first: a word's highest wins
        found.update(dict.fromkeys(words, zipf))
    return found
