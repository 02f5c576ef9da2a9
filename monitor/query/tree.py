"""The query tree and its printer. `parse(to_text(tree)) == tree` for every tree `parse` builds."""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("author", "source", "lang", "url")


@dataclass(frozen=True, slots=True)
class Everything:
    """`*`: every post."""


@dataclass(frozen=True, slots=True)
class Word:
    """A whole word as written (`Hamas`), or every word starting with it (`Hezb*`)."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """`"axis of resistance"`: these words, in this order, next to each other."""

    text: str


@dataclass(frozen=True, slots=True)
class Tag:
    """`#Hamas` (hashtag) or `@BryanLeibFL` (mention)."""

    sigil: str
    name: str


@dataclass(frozen=True, slots=True)
class Field:
    """`author:`, `source:`, `lang:` or `url:` followed by a value."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """`a NEAR/n b`: both, at most n words apart, in either order."""

    left: Node
    right: Node
    distance: int


Leaf = Word | Phrase | Tag
Node = Everything | Word | Phrase | Tag | Field | Not | And | Or | Near


def to_text(node: Node) -> str:
    """The query as the parser reads it back (parenthesised where grouping matters)."""
    match node:
        case Everything():
            return "*"
        case Word(text, prefix):
            return text + ("*" if prefix else "")
        case Phrase(text):
            return f'"{text}"'
        case Tag(sigil, name):
            return sigil + name
        case Field(name, value):
            plain = value and not any(c.isspace() or c in '()"' for c in value)
            return f"{name}:{value}" if plain else f'{name}:"{value}"'
        case Not(child):
            return f"NOT {_grouped(child)}"
        case And(children):
            return " AND ".join(_grouped(c) for c in children)
        case Or(children):
            return " OR ".join(_grouped(c) for c in children)
        case Near(left, right, distance):
            return f"{_grouped(left)} NEAR/{distance} {_grouped(right)}"
    raise TypeError(node)


def _grouped(node: Node) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, And | Or | Near) else text


def leaves(node: Node, positive: bool = True) -> list[tuple[Leaf, bool]]:
    """Every word, phrase and tag in the tree with whether it counts for the post (not under NOT)."""
    match node:
        case Word() | Phrase() | Tag():
            return [(node, positive)]
        case Not(child):
            return leaves(child, not positive)
        case And(children) | Or(children):
            return [pair for c in children for pair in leaves(c, positive)]
        case Near(left, right, _):
            return leaves(left, positive) + leaves(right, positive)
    return []
