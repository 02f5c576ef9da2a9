"""Article text → weighted keywords: names, quoted phrases, hashtags and telling words, with their forms.

Our own extractor over `wordfreq` rather than YAKE: YAKE scores n-grams by position and casing
inside the one document and has no notion of how common a word is in general. Here a keyword's
weight is its evidence (monitor/relevance.py): how much more often the article uses it than
general language does. Capitalised runs are kept whole as names ("Ismail Haniyeh"); a capital that
only starts a sentence ("Forecasters said …") does not make a name; a title splits a run ("Boulder
County Sheriff Joe Pelle" → Boulder County, Joe Pelle); a datelined place ("LYONS, Colo. —") is a
name; "Boulder County" counts as a mention of "Boulder" where the article also says "Boulder".
Each keyword carries the forms posts use for it (monitor/wordforms.py). Offline, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import ftfy

from monitor.lexicon import zipf_anywhere, zipf_english
from monitor.relevance import DEFAULT, THRESHOLD, Weighing, evidence, weight
from monitor.wordforms import demonyms, inflections, stem


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow tonight"
_STOP = _wordset(
    f"""{_MONTHS} {_DAYS} a an the and or but nor so yet for of in on at to from by with as into onto
    about above after against along among around before behind below beneath beside between beyond
    during except inside near off outside over past since through throughout till toward under until
    up upon within without this that these those it its it's he she they them their his her we our
    you your i me my who whom whose which what when where why how all any both each few more most other
    some such no not only own same than too very can will just don't should now is are was were be been
    being have has had do does did having let let's lets also however while although though because if
    then there here said says say according mr mrs ms dr new one two three first last many much well
    way even still yet being could would might must shall may per via amid despite neither either
    clear made make makes himself herself themselves itself another"""
)
# A title is not part of the name it precedes, and it ends the name before it.
_TITLES = _wordset(
    """president prime minister ministers king queen prince general gen sheikh ayatollah pope chancellor
    secretary senator rep governor chairman leader spokesman spokeswoman spokesperson mr mrs ms dr sir
    lord mayor sheriff chief officer commissioner inspector director premier deputy captain judge
    bishop archbishop cardinal ambassador"""
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
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?:;\n\"“”]\s*$")
# "LYONS, Colo. —", "SANTA MARIA, Brazil —": the place a news story was filed from, then the region.
_DATELINE = re.compile(r"^([A-Z][A-Z'’.\- ]*[A-Z]),[^—–\n]{0,40}[—–]\s*")
_HEADLINE_WORDS = 20
# A word of a name this rare stands for the whole name: "Hickenlooper" for "John Hickenlooper".
_RARE_PART = 3.0
_MOST = 60  # keys a topic keeps at most
# A capitalised word at the start of a sentence, never capitalised inside one, at least this common
# in English, is an ordinary word ("Forecasters said …"), not a name.
_ORDINARY = 2.5


@dataclass(frozen=True, slots=True)
class Keyword:
    term: str
    weight: float  # the keyword's share of the topic's threshold (monitor/relevance.py)
    kind: str  # entity, phrase, hashtag or term
    aliases: tuple[str, ...] = ()  # other forms that count as the same keyword
    count: int = 1

    def as_json(self) -> dict[str, object]:
        return {"term": self.term, "weight": self.weight, "kind": self.kind,
                "aliases": list(self.aliases), "count": self.count}


def article_prose(text: str) -> str:
    """Repair mojibake, then drop URLs and tweet signature lines."""
    text = _LONE_MOJIBAKE_DASH.sub("—", ftfy.fix_text(text))
    return _URL.sub(" ", _ATTRIBUTION.sub(" ", text))


def extract(text: str, top: int | None = None, weighing: Weighing = DEFAULT) -> list[Keyword]:
    """The article's keywords that weigh at least `weighing.least`, most salient first (at most `top`)."""
    text = article_prose(text)
    headline, body = _split_headline(text)
    dateline = _DATELINE.match(body.lstrip())
    body = body.lstrip()[dateline.end() :] if dateline else body
    found = _Candidates(_caps_mid_sentence(body), {w.casefold() for w in _WORD.findall(text) if w.islower()})
    if dateline:
        found.add(dateline.group(1).title(), "entity", headline=False)
    for quoted in _QUOTED.findall(text):
        words = quoted.strip(" .,;:!?").split()
        if 2 <= len(words) <= 6 and not quoted[0].isupper():
            found.add(" ".join(words), "phrase", headline=False)
    for part, in_headline in ((headline, True), (body, False)):
        for tag in _HASHTAG.findall(part):
            found.add("#" + tag, "hashtag", in_headline)
        found.read(_HASHTAG.sub(lambda m: m.group(1), part), in_headline)
    keywords = found.weighed(len(_WORD.findall(text)), weighing)
    return keywords[: top or _MOST]


def _caps_mid_sentence(text: str) -> frozenset[str]:
    return frozenset(t for t, start, _ in _tokens(text) if not start and _capital(t))


def _split_headline(text: str) -> tuple[str, str]:
    """A short first line followed by more text is the headline."""
    first, _, rest = text.strip().partition("\n")
    if rest.strip() and len(first.split()) <= _HEADLINE_WORDS:
        return first, rest
    return "", text


@dataclass
class _Candidate:
    term: str
    kind: str
    count: int = 0
    headline: bool = False
    forms: set[str] = field(default_factory=set)


@dataclass
class _Candidates:
    capitalised: frozenset[str]  # words the article capitalises mid-sentence
    lowercase: set[str]  # words it also writes in lower case
    found: dict[str, _Candidate] = field(default_factory=dict)

    def add(self, term: str, kind: str, headline: bool) -> None:
        key = stem(term) if kind == "term" else term.casefold()
        candidate = self.found.setdefault(key, _Candidate(term, kind))
        if kind == "entity" and candidate.kind != "entity":  # a name stays one when also seen as a word
            candidate.kind, candidate.term = kind, term
        candidate.count += 1
        candidate.headline |= headline
        candidate.forms.add(term)

    def read(self, text: str, headline: bool) -> None:
        """Capitalised runs become names, split at titles; other telling words become terms."""
        run: list[str] = []
        for word, _start, joined in [*_tokens(text), ("", True, False)]:
            # Headlines capitalise freely: there a capital makes a name only where the body agrees.
            name = _capital(word) and word.casefold() not in _STOP and (not headline or word in self.capitalised)
            if name and run and joined:
                run.append(word)
                continue
            self._name(run, headline)
            run = [word] if name else []
            if not name:
                self._term(word, headline)

    def _name(self, run: list[str], headline: bool) -> None:
        for part in _split_at_titles(run):
            if len(part) == 1 and self._ordinary(part[0]) and not headline:
                self._term(part[0], headline)  # "Forecasters said …": a sentence's first word
            else:
                self.add(" ".join(part[:4]), "entity", headline)

    def _ordinary(self, word: str) -> bool:
        key = word.casefold()
        return word not in self.capitalised and (key in self.lowercase or zipf_english(key) >= _ORDINARY)

    def _term(self, word: str, headline: bool) -> None:
        key = word.casefold()
        if len(key) > 2 and key not in _STOP and not any(c.isdigit() for c in key):
            self.add(key, "term", headline)

    def weighed(self, words: int, weighing: Weighing) -> list[Keyword]:
        self._fold_contained_names()
        self._fold_hashtags()
        keywords = [self._keyword(c, words, weighing) for c in self.found.values()]
        keywords = [k for k in keywords if k.weight >= weighing.least]
        return sorted(keywords, key=lambda k: (-_salience(k), k.term))

    def _keyword(self, c: _Candidate, words: int, weighing: Weighing) -> Keyword:
        if c.kind == "phrase":  # the author quoted it: a named idea ("axis of resistance")
            return Keyword(c.term, THRESHOLD, c.kind, (), c.count)
        # As common as its most common spelling: "floods" is as general as "flood".
        general = max(zipf_anywhere(f.lstrip("#").casefold()) for f in c.forms)
        full_name = c.kind == "entity" and " " in c.term and zipf_anywhere(c.term) < _RARE_PART
        strength = weight(evidence(c.count / max(words, 1), general), name=c.kind != "term",
                          full_name=full_name, headline=c.headline, weighing=weighing)
        if c.kind == "term":  # a word of the language, however telling, never matches alone
            strength = min(strength, weighing.word_ceiling)
        return Keyword(c.term, strength, c.kind, _aliases(c), c.count)

    def _fold_contained_names(self) -> None:
        """Where the article also writes a name in short, both count as one keyword: an ending joins
        the whole ('Haniyeh', 'Pérez Molina' → 'Otto Pérez Molina'), a place sheds what follows it
        ('Boulder County', 'Boulder Creek' → 'Boulder')."""
        names = sorted((k for k, c in self.found.items() if c.kind == "entity"), key=lambda k: -len(k.split()))
        for whole in names:
            for part in names:
                if whole not in self.found or part not in self.found or part == whole:
                    continue
                if whole.endswith(" " + part):
                    self._join(self.found.pop(part), into=self.found[whole])
                elif whole.startswith(part + " "):
                    self._join(self.found.pop(whole), into=self.found[part])

    @staticmethod
    def _join(candidate: _Candidate, into: _Candidate) -> None:
        into.count += candidate.count
        into.headline |= candidate.headline
        into.forms |= candidate.forms

    def _fold_hashtags(self) -> None:
        for key in [k for k in self.found if k.startswith("#")]:
            if key[1:] in self.found:
                self.found[key[1:]].count += self.found.pop(key).count


def _salience(k: Keyword) -> float:
    """How much of the article is about the keyword: its weight, as often as the article uses it."""
    return k.weight * k.count


def _aliases(c: _Candidate) -> tuple[str, ...]:
    """The other spellings that count for the keyword, as the article writes them where it does."""
    forms = set(c.forms)
    if c.kind == "term":
        forms = set().union(*(inflections(f) for f in forms))
    elif c.kind == "entity":
        words = c.term.split()
        forms |= {_like(c.term, d) for d in demonyms(c.term)} | {w for w in words[1:] if _rare(w)}
        if len(words) > 1 and _rare(words[0]):
            forms.add(words[0])
    forms |= set(_ALIASES.get(c.term.casefold().rstrip("."), ()))
    spelled = {f.casefold(): f for f in sorted(forms, reverse=True)}  # one spelling each, capitals first
    spelled.pop(c.term.casefold(), None)
    return tuple(sorted(spelled.values(), key=str.casefold))


def _like(model: str, word: str) -> str:
    """`word` capitalised the way `model` is: Iran → Iranian."""
    return " ".join(w.capitalize() for w in word.split()) if model[:1].isupper() else word


def _rare(word: str) -> bool:
    return len(word) > 3 and zipf_anywhere(word) < _RARE_PART


def _split_at_titles(run: list[str]) -> Iterator[list[str]]:
    part: list[str] = []
    for word in run:
        if word.casefold() in _TITLES:
            if part:
                yield part
            part = []
        else:
            part.append(word)
    if part:
        yield part


def _tokens(text: str) -> Iterator[tuple[str, bool, bool]]:
    """(word, starts a sentence, joined to the previous word by one space).

    A possessive ends a name: "Russia's Urals" is Russia and the Urals."""
    end, possessive = 0, False
    for m in _TOKEN.finditer(text):
        word = _bare(m.group())
        yield word, _starts_sentence(text, m.start()), text[end : m.start()] == " " and not possessive
        end, possessive = m.end(), word != m.group() and not m.group().endswith(".")


def _bare(token: str) -> str:
    for suffix in ("’s", "'s", "’", "'"):
        if token.endswith(suffix):
            return token[: -len(suffix)]
    return token if token.count(".") >= 2 else token.rstrip(".")  # U.S. keeps its dots


def _capital(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _starts_sentence(text: str, at: int) -> bool:
    before = text[max(0, at - 4) : at]
    return at == 0 or bool(_SENTENCE_END.search(before))


# What `init` writes into a topic: the query (any key) and a weight per key.


def topic_weights(keywords: list[Keyword]) -> dict[str, float]:
    """Weight per key (a term, or an OR of its forms) for a topic's `weights` table."""
    return {_key(k): k.weight for k in keywords}


def query_for(keywords: list[Keyword]) -> str:
    """Any of the keywords or their forms, in the query language."""
    alternatives = dict.fromkeys(_quoted(a) for k in keywords for a in (k.term, *k.aliases))
    return " OR ".join(alternatives) or "*"


def topic_name(keywords: list[Keyword], most: int = 3) -> str:
    """A short slug from the strongest names: 'hamas-haniyeh-hezbollah'."""
    names = [k.term for k in keywords if k.kind == "entity"][:most] or [k.term for k in keywords][:most]
    slug = "-".join(re.sub(r"[^\w]+", "-", n.casefold()).strip("-") for n in names)
    return slug or "topic"


def _key(k: Keyword) -> str:
    if not k.aliases:
        return k.term
    return " OR ".join(_quoted(a) for a in (k.term, *k.aliases))


def _quoted(term: str) -> str:
    return f'"{term}"' if not re.fullmatch(r"#?[\w.]+", term) else term


__all__ = ["THRESHOLD", "Keyword", "article_prose", "extract", "query_for", "topic_name", "topic_weights"]
