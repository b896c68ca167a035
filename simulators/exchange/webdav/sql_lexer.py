"""Tokens of Exchange SQL: the lexical layer under the SEARCH parser.

Words (keywords are recognised case-insensitively by the parser), double-quoted
names ("DAV:href", doubled "" inside), single-quoted strings ('it''s'), integers with
an optional sign, decimals (recognised only to be refused clearly), the comparison
operators ``= <> != < > <= >=`` and the punctuation ``( ) , *``. Anything else is a
``SqlError`` at its column. Columns in messages are 1-based offsets into the statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from simulators.exchange.webdav.sql_ast import SqlError

TokenKind = Literal["word", "name", "string", "number", "decimal", "op", "punct", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # the value: unquoted and unescaped for names and strings
    raw: str  # as written, quotes included
    position: int  # 0-based offset

    @property
    def column(self) -> int:
        return self.position + 1

    def describe(self) -> str:
        """The token as messages show it."""
        if self.kind == "end":
            return "end of statement"
        shown = self.raw if len(self.raw) <= 40 else self.raw[:37] + "..."
        return f"token {shown!r}"

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(?P<frac>\.[0-9]+)?(?![A-Za-z0-9_])", re.ASCII)
_OPS = ("<>", "!=", "<=", ">=", "=", "<", ">")
_PUNCT = "(),*"


def _quoted(sql: str, start: int) -> tuple[str, int]:
    """The value of the quoted run at ``start`` (quote char doubled to escape) and the
    offset just past its closing quote."""
    quote = sql[start]
    parts: list[str] = []
    i = start + 1
    while True:
        end = sql.find(quote, i)
        if end < 0:
            kind = "name" if quote == '"' else "string"
            shown = sql[start : start + 40]
            raise SqlError(f"unterminated {kind} {shown!r} at column {start + 1}", shown, start)
        parts.append(sql[i:end])
        if sql.startswith(quote, end + 1):
            parts.append(quote)
            i = end + 2
            continue
        return "".join(parts), end + 1


def tokenize(sql: str) -> list[Token]:
    """All tokens of ``sql``, ending with an ``end`` token."""
    tokens: list[Token] = []
    i = 0
    n = len(sql)
    while True:
        space = _SPACE.match(sql, i)
        if space:
            i = space.end()
        if i >= n:
            tokens.append(Token("end", "", "", n))
            return tokens
        ch = sql[i]
        if ch in "\"'":
            value, end = _quoted(sql, i)
            kind: TokenKind = "name" if ch == '"' else "string"
            tokens.append(Token(kind, value, sql[i:end], i))
            i = end
            continue
        number = _NUMBER.match(sql, i)
        if number:
            kind = "decimal" if number.group("frac") else "number"
            tokens.append(Token(kind, number.group(), number.group(), i))
            i = number.end()
            continue
        word = _WORD.match(sql, i)
        if word:
            tokens.append(Token("word", word.group(), word.group(), i))
            i = word.end()
            continue
        op = next((o for o in _OPS if sql.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, op, i))
            i += len(op)
            continue
        if ch in _PUNCT:
            tokens.append(Token("punct", ch, ch, i))
            i += 1
            continue
        raise SqlError(f"unexpected character {ch!r} at column {i + 1}", ch, i)
