"""The other spellings a keyword takes in short posts: inflections, demonyms, joined hashtags.

An article says "floods" and "Iran"; posts say "flooding", "Iranian" and "#BoulderFlood". Forms are
found when a topic is made (`forms_of`) and written into its weights, so what matches stays
visible in feeds.toml; hashtags are split when a post is matched (`split_hashtag`), against the
topic's own words and general English.
"""

from __future__ import annotations

import functools
import re

import Stemmer

from monitor.lexicon import zipf_english

# Number and tense only: a post that says "flooding" is about the "floods" an article reports, one
# that says "trainer" is not about a "train"; derivations (-ation, -or, -ance) change the meaning.
# The Snowball stemmer checks that a form made by the rules of spelling is the same word.
_STEMMER = Stemmer.Stemmer("english")
# Country → people and adjective: Iran → Iranian, Israel → Israeli, Italy → Italian, China → Chinese.
_DEMONYMS = (("", "n"), ("", "an"), ("", "ian"), ("", "i"), ("", "ese"), ("a", "an"), ("a", "ian"),
             ("a", "ese"), ("y", "ian"), ("e", "ean"))
KNOWN_WORD = 2.0  # a generated spelling must be at least this frequent in English to be a real word
RARER_FORM = 2.0  # and at most this much rarer (on the Zipf scale) than the word it is a form of


def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word.casefold()))


def inflections(word: str) -> set[str]:
    """'floods' → flood, floods, flooded, flooding: the word's number and tense, by the rules of English
    spelling, where wordfreq knows the form and it keeps the word's stem."""
    key = word.casefold()
    root = stem(key)
    least = max(KNOWN_WORD, zipf_english(key) - RARER_FORM)
    found = {key}
    for lemma in _lemmas(key):
        for form in _forms(lemma):
            if form not in found and stem(form) == root and zipf_english(form) >= least:
                found.add(form)
    return found


def _lemmas(word: str) -> set[str]:
    """What `word` may be an inflection of: floods → flood, evacuated → evacuate, studies → study."""
    found = {word}
    for ending, replacement in (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
                                ("ing", ""), ("ing", "e")):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            base = word[: -len(ending)]
            found.add(base + replacement)
            if base[-1] == base[-2]:  # stopped → stop
                found.add(base[:-1])
    known = {w for w in found if zipf_english(w) >= KNOWN_WORD}
    # mourning is mourn + ing, not Mourne + ing: where both are words, the commoner is the lemma
    return {w for w in known if not (w.endswith("e") and w[:-1] in known and zipf_english(w[:-1]) > zipf_english(w))}


def _forms(lemma: str) -> set[str]:
    """The regular plural or third person, past and -ing of a lemma."""
    sibilant = lemma.endswith(("s", "x", "z", "ch", "sh"))
    forms = {lemma, lemma + ("es" if sibilant else "s")}
    if lemma.endswith("e"):
        forms |= {lemma + "d", lemma[:-1] + "ing"}
    elif lemma.endswith("y") and lemma[-2:-1] not in "aeiou":
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing"}
    else:
        forms |= {lemma + "ed", lemma + "ing", lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}
    return forms


def demonyms(name: str) -> set[str]:
    """'Iran' → Iranian, 'Italy' → Italian: the adjective and people of a place, where English has one."""
    *first, last = name.casefold().split()
    found = set()
    for cut, ending in _DEMONYMS:
        if cut and not last.endswith(cut):
            continue
        word = last[: len(last) - len(cut)] + ending
        if word != last and zipf_english(word) >= KNOWN_WORD:
            found.add(" ".join([*first, word]))
            found.add(" ".join([*first, word + "s"]))  # Iranians, Italians
    return {f for f in found if zipf_english(f.split()[-1]) >= KNOWN_WORD}


_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]+|[a-z]+|\d+")
_LONGEST_WORD = 24
_TOPIC_WORD = 6.0  # a topic's own word is as likely, inside its hashtags, as a common English one


_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,})")


def expand_hashtags(text: str, vocabulary: frozenset[str]) -> str:
    """'Praying for #BoulderFlood victims' → 'Praying for #BoulderFlood boulder flood victims'."""
    return _HASHTAG.sub(lambda m: _with_parts(m.group(0), vocabulary), text)


def _with_parts(hashtag: str, vocabulary: frozenset[str]) -> str:
    parts = split_hashtag(hashtag[1:], vocabulary)
    return f"{hashtag} {' '.join(parts)}" if len(parts) > 1 else hashtag


def split_hashtag(tag: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """'BoulderFlood' → (boulder, flood); 'coflood' → (co, flood) where 'flood' is a topic word.

    Case marks the cuts when the writer used it; otherwise the most likely cut wins, each word as
    likely as wordfreq says (a topic word as likely as a common one), an unknown word less likely the
    longer it is (Norvig's segmenter, in "Natural Language Corpus Data")."""
    parts = _CAMEL.findall(tag)
    if len(parts) > 1:
        return tuple(p.lower() for p in parts)
    return _best_cut(tag.lower(), vocabulary)


@functools.lru_cache(maxsize=65536)
def _best_cut(text: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    best = [0.0] + [float("-inf")] * len(text)
    start = [0] * (len(text) + 1)
    for end in range(1, len(text) + 1):
        for begin in range(max(0, end - _LONGEST_WORD), end):
            score = best[begin] + _log_probability(text[begin:end], vocabulary)
            if score > best[end]:
                best[end], start[end] = score, begin
    words: list[str] = []
    end = len(text)
    while end > 0:
        words.append(text[start[end] : end])
        end = start[end]
    return tuple(reversed(words))


def _log_probability(word: str, vocabulary: frozenset[str]) -> float:
    """log10 of the chance of `word` at a given place: Zipf 9 is one in one."""
    zipf = zipf_english(word) if word.isalpha() else 0.0
    if word in vocabulary:
        zipf = max(zipf, _TOPIC_WORD)
    return zipf - 9.0 if zipf >= 1.0 else -8.0 - len(word)
