"""Render a query into a search API's own syntax, as a SUPERSET filter.

What an API cannot express is widened, never narrowed: a prefix or an unsupported field becomes
"anything", NEAR becomes AND, an OR the API lacks becomes "anything" (or several searches, see
`render_each`), and NOT is kept only over a part rendered exactly. Local matching still decides;
pushdown only spares bandwidth and rate limits. `None` means "no server-side filter possible".

Each source module declares its API's `Dialect` (monitor.sources: `TYPE.search`); this module only
knows how to render into one.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.query.parse import parse
from monitor.query.tree import And, Everything, Field, Near, Node, Not, Or, Phrase, Tag, Word


@dataclass(frozen=True, slots=True)
class Dialect:
    """What a search API can say."""

    has_or: bool
    negate: str | None  # "-" or "NOT " or None
    joiner: str  # how AND is written
    hashtags: bool
    fields: frozenset[str] = frozenset()


Rendered = tuple[str | None, bool]  # (text, or None for "anything"; whether it is exact)


def render(query: str | Node, dialect: Dialect) -> str | None:
    """The query in the dialect, matching at least every post the query matches."""
    text, _ = _render(_tree(query), dialect, top=True)
    return text


def render_each(query: str | Node, dialect: Dialect) -> list[str]:
    """Searches whose union is a superset: a top-level OR becomes one search per branch for APIs
    without OR. Empty when some branch cannot be narrowed (search everything instead)."""
    tree = _tree(query)
    branches = tree.children if isinstance(tree, Or) and not dialect.has_or else (tree,)
    out = [_render(b, dialect, top=True)[0] for b in branches]
    return [] if any(t is None for t in out) else list(dict.fromkeys(t for t in out if t is not None))


def search_text(query: str | Node, dialect: Dialect) -> str | None:
    """The one search a feed sends: the whole query where the API can say it, else its first branch.

    An API without OR searches the first branch of a topic's OR (its strongest term, as `init`
    writes them): a narrower search beats fetching everything and matching it here.
    """
    return render(query, dialect) or next(iter(render_each(query, dialect)), None)


def _tree(query: str | Node) -> Node:
    return parse(query) if isinstance(query, str) else query


def _render(node: Node, s: Dialect, top: bool = False) -> Rendered:
    match node:
        case Everything():
            return None, True
        case Word(text, prefix):
            return (None, False) if prefix else (_word(text), True)
        case Phrase(text):
            return f'"{" ".join(text.replace(chr(34), " ").split())}"', True
        case Tag(sigil, name):
            if s.hashtags:
                return sigil + name, True
            return name, False  # the bare word finds the tag and more: wider, still a superset
        case Field(name, value) if name in s.fields:
            return f'{name}:"{value}"' if " " in value else f"{name}:{value}", True
        case Field():
            return None, False
        case Not(child):
            inner, exact = _render(child, s)
            if inner is None or not exact or s.negate is None:
                return None, False
            return f"{s.negate}{_group(inner, child)}", True
        case And(children):
            return _and([_render(c, s) for c in children], [*children], s, top)
        case Near(left, right, _):
            both, _exact = _and([_render(left, s), _render(right, s)], [left, right], s, top)
            return both, False
        case Or(children):
            parts = [_render(c, s) for c in children]
            if not s.has_or or any(t is None for t, _ in parts):
                return None, False
            body = " OR ".join(_group(t, c) for (t, _), c in zip(parts, children, strict=True) if t)
            return (body if top else f"({body})"), all(e for _, e in parts)
    raise TypeError(node)


def _and(parts: list[Rendered], children: list[Node], s: Dialect, top: bool) -> Rendered:
    kept = [_group(t, c) for (t, _), c in zip(parts, children, strict=True) if t is not None]
    if not kept:
        return None, False
    body = s.joiner.join(kept)
    exact = all(e for _, e in parts) and len(kept) == len(parts)
    return (body if top or len(kept) == 1 else f"({body})"), exact


def _group(text: str | None, node: Node) -> str:
    body = text or ""
    return body if not isinstance(node, And | Near) or body.startswith("(") or " " not in body else f"({body})"


def _word(text: str) -> str:
    # Operators and punctuation inside a word would change the API's reading of it: quote it.
    plain = text.isalnum() and text not in ("AND", "OR", "NOT")
    return text if plain else f'"{text}"'
