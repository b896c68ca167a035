"""``harness run -k PATTERN``: which runs to keep, by words of their path or name.

A word matches a run when it occurs, ignoring case, in the scenario file's path
or in its ``name:``. Words combine with ``and``, ``or``, ``not`` and parentheses,
as ``pytest -k`` does (``not`` binds tightest, then ``and``, then ``or``); a
phrase with spaces is quoted (``-k '"lunch keyword" and not webdav'``). A plain
word is a plain substring match. A pattern that does not parse is refused with
the reason, before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

OPERATORS = ("and", "or", "not")
# A quoted phrase, a parenthesis, or a run of anything else up to a space or parenthesis.
_TOKEN = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([()])|([^\s()"']+))""")

Match = Callable[[str], bool]  # given the lower-cased text of one run


class SelectionError(ValueError):
    """The pattern does not parse; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # word | op | ( | )
    text: str


def _tokens(pattern: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(pattern):
        if pattern[position:].strip() == "":
            break
        found = _TOKEN.match(pattern, position)
        if found is None:
            raise SelectionError(f"unclosed quote in {pattern!r}")
        quoted = found.group(1) if found.group(1) is not None else found.group(2)
        if quoted is not None:
            tokens.append(_Token("word", quoted))
        elif found.group(3):
            tokens.append(_Token(found.group(3), found.group(3)))
        else:
            word = found.group(4)
            tokens.append(_Token("op" if word.lower() in OPERATORS else "word", word.lower()))
        position = found.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens: or > and > not > word | ( ... )."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = _tokens(pattern)
        self.at = 0

    def parse(self) -> Match:
        if not self.tokens:
            raise SelectionError("the pattern is empty")
        match = self.either()
        if self.at < len(self.tokens):
            token = self.tokens[self.at]
            if token.kind == "word":
                raise SelectionError(
                    f"two words in a row at {token.text!r} in {self.pattern!r}: join them with "
                    "and/or, or quote a phrase"
                )
            raise SelectionError(f"unexpected {token.text!r} in {self.pattern!r}")
        return match

    def peek(self, text: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at].text == text

    def either(self) -> Match:
        parts = [self.both()]
        while self.peek("or"):
            self.at += 1
            parts.append(self.both())
        if len(parts) == 1:
            return parts[0]
        return lambda text: any(part(text) for part in parts)

    def both(self) -> Match:
        parts = [self.negation()]
        while self.peek("and"):
            self.at += 1
            parts.append(self.negation())
        if len(parts) == 1:
            return parts[0]
        return lambda text: all(part(text) for part in parts)

    def negation(self) -> Match:
        if self.peek("not"):
            self.at += 1
            inner = self.negation()
            return lambda text: not inner(text)
        return self.primary()

    def primary(self) -> Match:
        if self.at >= len(self.tokens):
            raise SelectionError(f"{self.pattern!r} ends where a word was expected")
        token = self.tokens[self.at]
        self.at += 1
        if token.kind == "(":
            inner = self.either()
            if not self.peek(")"):
                raise SelectionError(f"missing ')' in {self.pattern!r}")
            self.at += 1
            return inner
        if token.kind == "word":
            word = token.text.lower()
            return lambda text: word in text
        raise SelectionError(f"expected a word before {token.text!r} in {self.pattern!r}")


@dataclass(frozen=True)
class Selection:
    """A parsed ``-k`` pattern."""

    pattern: str
    match: Match

    def keeps(self, path: str, name: str) -> bool:
        return self.match(f"{path}\n{name}".lower())


def parse_selection(pattern: str) -> Selection:
    """The selection of ``pattern``; ``SelectionError`` when it does not parse."""
    return Selection(pattern, _Parser(pattern).parse())


__all__ = ["Selection", "SelectionError", "parse_selection"]
