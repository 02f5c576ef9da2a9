"""Article text → weighted keywords: entities, phrases, hashtags and salient terms.

Our own extractor over `wordfreq` rather than YAKE: YAKE scores n-grams by position and casing
inside the one document, so "Let's be clear" or "November" rank with the names, and it has no
notion of how common a word is in general. Here a candidate's weight is its count in the article
times how rare it is in general English (wordfreq's Zipf scale), with capitalised runs kept whole
as names ("Ismail Haniyeh") and a surname alone counted toward its full name. Offline, no model.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import ftfy
import wordfreq


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())



_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow tonight"
_STOP = set(
    f"""{_MONTHS} {_DAYS} a an the and or but nor so yet for of in on at to from by with as into onto
    about above after against along among around before behind below beneath beside between beyond
    during except inside near off outside over past since through throughout till toward under until
    up upon within without this that these those it its it's he she they them their his her we our
    you your i me my who whom whose which what when where why how all any both each few more most other
    some such no not only own same than too very can will just don't should now is are was were be been
    being have has had do does did having let let's lets also however while although though because if
    then there here said says say according mr mrs ms dr new one two three first last many much well
    way even still yet being could would might must shall may per via amid despite neither either
    clear made make makes himself herself themselves itself another""".split()
)
# A phrase the author put in quotes is a named idea ("axis of resistance"): weigh it like a name.
_BOOST = {"entity": 1.3, "phrase": 2.0, "hashtag": 1.0, "term": 0.6}
_TITLES = _wordset(
    """president prime minister ministers king queen prince general gen sheikh ayatollah pope chancellor
    secretary senator rep governor chairman leader spokesman spokeswoman mr mrs ms dr sir lord"""
)
_ALIASES = {
    "hezbollah": ("Hizbollah", "Hizballah"),
    "idf": ("Israel Defense Forces",),
    "israel defense forces": ("IDF",),
    "u.s": ("United States",),
    "united states": ("U.S.",),
    "un": ("United Nations",),
    "united nations": ("UN",),
    "eu": ("European Union",),
    "european union": ("EU",),
}
_URL = re.compile(r"\b(?:https?://|www\.|pic\.twitter\.com/|t\.co/)\S*", re.IGNORECASE)
# "— Bryan E. Leib (@BryanLeibFL) November 16, 2023": a quoted tweet's signature line.
_ATTRIBUTION = re.compile(r"(?m)^\s*[—–-]?\s*[^\n]{0,80}\(@\w{1,30}\)[^\n]{0,40}$")
_LONE_MOJIBAKE_DASH = re.compile(r"(?m)(?:^|(?<=\s))[āâ](?=\s)")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{3,60})[\"”]")
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,50})")
_TOKEN = re.compile(r"[^\W_](?:[\w’']*[^\W_])?(?:\.(?=[^\W\d_]\.))?(?:[^\W\d_]\.?)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\n\"“”]\s*$")


@dataclass(frozen=True, slots=True)
class Keyword:
    term: str
    weight: float
    kind: str
    aliases: tuple[str, ...] = ()
    count: int = 1

    def as_json(self) -> dict[str, object]:
        return {"term": self.term, "weight": self.weight, "kind": self.kind,
                "aliases": list(self.aliases), "count": self.count}


def article_prose(text: str) -> str:
    """Repair mojibake, then drop URLs and tweet signature lines."""
    text = _LONE_MOJIBAKE_DASH.sub("—", ftfy.fix_text(text))
    return _URL.sub(" ", _ATTRIBUTION.sub(" ", text))


def zipf(term: str) -> float:
    """General-English frequency on the Zipf scale (0 unknown … 7+ for 'the')."""
    return float(wordfreq.zipf_frequency(term, "en"))


def extract(text: str, top: int = 20) -> list[Keyword]:
    """The `top` keywords of an article, strongest first, weights in (0, 1]."""
    text = article_prose(text)
    found = _Candidates()
    for quoted in _QUOTED.findall(text):
        words = quoted.strip(" .,;:!?").split()
        if 2 <= len(words) <= 6 and not quoted[0].isupper():
            found.add(" ".join(words), "phrase")
    for tag in _HASHTAG.findall(text):
        found.add("#" + tag, "hashtag")
    _runs(_HASHTAG.sub(lambda m: m.group(1), text), found)
    return found.ranked(top)


@dataclass
class _Candidates:
    kinds: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    spelled: dict[str, str] = field(default_factory=dict)
    surnames: dict[str, str] = field(default_factory=dict)

    def add(self, term: str, kind: str) -> None:
        key = term.casefold()
        self.counts[key] += 1
        self.spelled.setdefault(key, term)
        if self.kinds.get(key) != "entity":  # an entity stays one even when also seen as a word
            self.kinds[key] = kind

    def ranked(self, top: int) -> list[Keyword]:
        self._fold_surnames()
        self._fold_hashtags()
        scored = sorted(((self._score(k), k) for k in self.counts), reverse=True)[:top]
        best = scored[0][0] if scored else 1.0
        return [
            Keyword(self.spelled[k], round(s / best, 3), self.kinds[k], self._aliases(k), self.counts[k])
            for s, k in scored if s > 0
        ]

    def _aliases(self, key: str) -> tuple[str, ...]:
        surname = (self.surnames[key],) if key in self.surnames else ()
        return surname + _ALIASES.get(key.rstrip("."), ())

    def _score(self, key: str) -> float:
        rarity = max(0.0, 7.0 - zipf(key.lstrip("#")))
        boost = _BOOST[self.kinds[key]]
        return (1.0 + math.log(self.counts[key])) * rarity * boost

    def _fold_surnames(self) -> None:
        """'Haniyeh' alone counts toward 'Ismail Haniyeh' when the article names him in full."""
        for key in [k for k in self.counts if self.kinds[k] == "entity" and " " in k]:
            last = key.rsplit(" ", 1)[1]
            if last in self.counts and self.kinds[last] == "entity" and zipf(last) < 3.5:
                self.counts[key] += self.counts.pop(last)
                self.surnames[key] = self.spelled[last]

    def _fold_hashtags(self) -> None:
        for key in [k for k in self.counts if k.startswith("#")]:
            if key[1:] in self.counts:
                self.counts[key[1:]] += self.counts.pop(key)


def _runs(text: str, found: _Candidates) -> None:
    """Capitalised runs (unbroken by punctuation) become entities; other uncommon words, terms."""
    tokens = list(_tokens(text))
    mid_sentence_caps = {t for t, start, _ in tokens if not start and _capital(t)}
    run: list[str] = []
    for word, start, joined in [*tokens, ("", True, False)]:
        name = _capital(word) and (not start or word in mid_sentence_caps or zipf(word) < 3.0)
        name = name and word.casefold() not in _STOP
        if name and run and joined:
            run.append(word)
            continue
        _add_name(run, found)
        run = [word] if name else []
        if not name and _salient(word):
            found.add(word.casefold(), "term")


def _tokens(text: str) -> Iterator[tuple[str, bool, bool]]:
    """(word, starts a sentence, joined to the previous word by one space)."""
    end = 0
    for m in _TOKEN.finditer(text):
        yield _bare(m.group()), _starts_sentence(text, m.start()), text[end : m.start()] == " "
        end = m.end()


def _add_name(run: list[str], found: _Candidates) -> None:
    """'Chinese President Xi Jinping' → 'Xi Jinping': a title and what precedes it go."""
    titled = [i for i, w in enumerate(run) if w.casefold() in _TITLES]
    if titled and titled[-1] < len(run) - 1:
        run = run[titled[-1] + 1 :]
    if run and not (len(run) == 1 and run[0].casefold() in _TITLES):
        found.add(" ".join(run[:4]), "entity")


def _bare(token: str) -> str:
    for suffix in ("’s", "'s", "’", "'"):
        if token.endswith(suffix):
            return token[: -len(suffix)]
    return token if token.count(".") >= 2 else token.rstrip(".")  # U.S. keeps its dots


def _capital(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _salient(word: str) -> bool:
    key = word.casefold()
    return len(key) > 3 and key not in _STOP and not any(c.isdigit() for c in key) and zipf(key) < 5.2


def _starts_sentence(text: str, at: int) -> bool:
    before = text[max(0, at - 4) : at]
    return at == 0 or bool(_SENTENCE_END.search(before))


# Relevance: what `init` writes into a topic. A post's score is the sum of the weights of the
# distinct keys it holds; THRESHOLD is what it must reach. Only a strong name (rare in general
# English, named in full, central to the article) or a phrase the author quoted reaches it
# alone; a common one like "Iran" holds a fraction, so a football score with "Iran" stays out
# while "Iran … Hamas … Hezbollah" gets in.
THRESHOLD = 1.0
STRONG_ZIPF = 3.0


def topic_weights(keywords: list[Keyword]) -> dict[str, float]:
    """Weight per key (a term, or an OR of its aliases) for a topic's `weights` table."""
    return {_key(k): _weight(k) for k in keywords}


def query_for(keywords: list[Keyword]) -> str:
    """Any of the keywords or their aliases, in the query language."""
    alternatives = dict.fromkeys(_quoted(a) for k in keywords for a in (k.term, *k.aliases))
    return " OR ".join(alternatives) or "*"


def topic_name(keywords: list[Keyword], most: int = 3) -> str:
    """A short slug from the strongest entities: 'hamas-ismail-haniyeh-hezbollah'."""
    names = [k.term for k in keywords if k.kind == "entity"][:most] or [k.term for k in keywords][:most]
    slug = "-".join(re.sub(r"[^\w]+", "-", n.casefold()).strip("-") for n in names)
    return slug or "topic"


def _weight(k: Keyword) -> float:
    rarity = zipf(k.term.lstrip("#"))
    full_name = k.kind == "entity" and " " in k.term and k.weight >= 0.5  # central, named in full
    if (full_name and rarity < STRONG_ZIPF) or (k.kind == "phrase" and " " in k.term):
        return THRESHOLD
    specific = min(0.8, max(0.1, (5.5 - rarity) / 3.5))
    return round(specific * (0.5 + 0.5 * k.weight), 2)


def _key(k: Keyword) -> str:
    if not k.aliases:
        return k.term
    return " OR ".join(_quoted(a) for a in (k.term, *k.aliases))


def _quoted(term: str) -> str:
    return f'"{term}"' if not re.fullmatch(r"#?[\w.]+", term) else term
