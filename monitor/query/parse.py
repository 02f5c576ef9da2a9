"""Query text → tree. Errors name the column (1-based) where the parser gave up.

Grammar, loosest first:
    query  := and ("OR" and)*
    and    := unary (["AND"] unary)*          juxtaposition means AND
    unary  := ("NOT" | "-") unary | near
    near   := primary ("NEAR/" n primary)*     operands: words, phrases, tags, groups of them
    primary:= "(" query ")" | '"' phrase '"' | "*" | field ":" value | #tag | @name | word | prefix*
Operators are upper-case; `and`, `or`, `not` in lower case are ordinary words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.query.normalize import words
from monitor.query.tree import FIELDS, And, Everything, Field, Near, Node, Not, Or, Phrase, Tag, Word

MAX_DEPTH = 64
_NEAR = re.compile(r"NEAR/(\d{1,4})")
_BREAK = frozenset('()"')


class QuerySyntaxError(ValueError):
    """What is wrong with a query and the column where it is."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ( ) phrase or and not near minus star field atom end
    text: str
    column: int
    value: str = ""


def parse(text: str) -> Node:
    """Parse a query; raise QuerySyntaxError naming the column of the first problem."""
    return _Parser(_tokens(text)).query()


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Token(c, c, i + 1))
            i += 1
        elif c == '"':
            end = _closing_quote(text, i)
            out.append(_Token("phrase", text[i + 1 : end], i + 1))
            i = end + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in ")-":
            out.append(_Token("minus", c, i + 1))
            i += 1
        else:
            i = _atom(text, i, out)
    out.append(_Token("end", "", n + 1))
    return out


def _closing_quote(text: str, start: int) -> int:
    end = text.find('"', start + 1)
    if end < 0:
        raise QuerySyntaxError("unclosed quote", start + 1)
    return end


def _atom(text: str, i: int, out: list[_Token]) -> int:
    start = i
    while i < len(text) and not text[i].isspace() and text[i] not in _BREAK:
        i += 1
    run = text[start:i]
    name, colon, value = run.partition(":")
    if colon and name.lower() in FIELDS:
        if not value and i < len(text) and text[i] == '"':
            end = _closing_quote(text, i)
            value, i = text[i + 1 : end], end + 1
        if not value.strip():
            raise QuerySyntaxError(f'"{name}:" needs a value', start + 1)
        out.append(_Token("field", run, start + 1, value))
        return i
    if run in ("AND", "OR", "NOT"):
        out.append(_Token(run.lower(), run, start + 1))
    elif run.startswith("NEAR"):
        near = _NEAR.fullmatch(run)
        if near is None:
            raise QuerySyntaxError("NEAR needs a distance in words, like NEAR/3", start + 1)
        out.append(_Token("near", run, start + 1, near.group(1)))
    elif run == "*":
        out.append(_Token("star", run, start + 1))
    elif run:
        out.append(_Token("atom", run, start + 1))
    else:
        raise QuerySyntaxError(f"unexpected {text[i]!r}", i + 1)
    return i


_STARTS_OPERAND = frozenset({"(", "phrase", "star", "field", "atom", "not", "minus"})


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def query(self) -> Node:
        if self.token.kind == "end":
            raise QuerySyntaxError("empty query", self.token.column)
        node = self.disjunction()
        if self.token.kind != "end":
            raise QuerySyntaxError(f"unexpected {self.token.text!r}", self.token.column)
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.token.kind == "or":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.token.kind == "and" or self.token.kind in _STARTS_OPERAND:
            if self.token.kind == "and":
                self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        if self.token.kind in ("not", "minus"):
            self.enter(self.take())
            child = self.unary()
            self.depth -= 1
            return Not(child)
        return self.near()

    def near(self) -> Node:
        left = self.primary()
        while self.token.kind == "near":
            op = self.take()
            right = self.primary()
            if not (_positional(left) and _positional(right)):
                raise QuerySyntaxError("NEAR joins words, phrases, tags or groups of them", op.column)
            left = Near(left, right, int(op.value))
        return left

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            self.enter(token)
            inner = self.disjunction()
            self.depth -= 1
            if self.token.kind != ")":
                raise QuerySyntaxError("missing ')'", self.token.column)
            self.take()
            return inner
        if token.kind == "star":
            return Everything()
        if token.kind == "field":
            return Field(token.text.partition(":")[0].lower(), token.value)
        if token.kind == "phrase":
            _needs_words(token.text, token.column)
            return Phrase(token.text)
        if token.kind == "atom":
            return _atom_node(token)
        what = "end of query" if token.kind == "end" else repr(token.text)
        raise QuerySyntaxError(f"expected a term, found {what}", token.column)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"nested more than {MAX_DEPTH} deep", token.column)


def _atom_node(token: _Token) -> Node:
    text = token.text
    if text[0] in "#@" and len(text) > 1:
        folded = words(text)
        if not folded or folded[0][0] != text[0] or len(folded[0]) < 2:
            raise QuerySyntaxError(f"{text!r} is not a hashtag or mention", token.column)
        return Tag(text[0], text[1:])
    prefix = text.endswith("*")
    stem = text[:-1] if prefix else text
    _needs_words(stem, token.column)
    return Word(stem, prefix)


def _needs_words(text: str, column: int) -> None:
    if not [w for w in words(text) if w.strip("#@")]:
        raise QuerySyntaxError(f"nothing to search for in {text!r}", column)


def _positional(node: Node) -> bool:
    if isinstance(node, Word | Phrase | Tag):
        return True
    if isinstance(node, Or):
        return all(_positional(c) for c in node.children)
    return isinstance(node, Near)
