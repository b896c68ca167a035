"""Exchange SQL as WebDAV SEARCH clients send it: a recursive-descent parser, the
``Range: rows=`` header, and (re-exported from ``sql_eval``) row evaluation.

Grammar (keywords case-insensitive; ``"..."`` names, ``'...'`` strings)::

    query     := SELECT select FROM from [WHERE cond] [ORDER BY order] END
    select    := '*' | item (',' item)*          item := NAME [AS (WORD|NAME|STRING)]
    from      := NAME                                  -- shallow traversal of that URL
               | SCOPE '(' scope (',' scope)* ')'
    scope     := STRING  -- '[SHALLOW|DEEP|HIERARCHICAL TRAVERSAL OF] "url"'; no depth = deep
               | NAME                                  -- deep traversal of that URL
    cond      := conj (OR conj)*        conj := neg (AND neg)*      neg := NOT neg | atom
    atom      := '(' cond ')' | prop pred
    prop      := NAME | CAST '(' NAME AS type ')'
    pred      := cmp literal | [NOT] LIKE (STRING|NAME|WORD) | IS [NOT] NULL
    literal   := STRING | NAME | INTEGER | TRUE | FALSE | CAST '(' (STRING|NAME|INTEGER) AS type ')'
    order     := NAME [ASC|DESC] (',' NAME [ASC|DESC])*

So NOT binds tighter than AND, and AND tighter than OR. On the right of a comparison
a double-quoted token is a string, as in Microsoft's examples (``> "1998-02-01T10:00"``).
``FROM "url"`` is a shallow traversal and ``SCOPE('"url"')`` without a depth a deep one
(Exchange SDK, SELECT Statement / FROM Predicate). GROUP BY, CONTAINS, FREETEXT and
functions other than CAST are refused with a ``SqlError`` naming the token; so is every
other malformed statement, never another exception.
"""

from __future__ import annotations

import re
from typing import cast

from simulators.exchange.webdav.sql_ast import (
    CAST_TYPES,
    And,
    Compare,
    CompareOp,
    Expr,
    IsNull,
    Like,
    Not,
    Or,
    Scope,
    SearchQuery,
    SelectItem,
    SqlError,
    Traversal,
    Value,
    cast_literal,
    parse_date_literal,
)
from simulators.exchange.webdav.sql_eval import evaluate, order, time_bounds
from simulators.exchange.webdav.sql_lexer import Token, tokenize

__all__ = [
    "And",
    "Compare",
    "Expr",
    "IsNull",
    "Like",
    "Not",
    "Or",
    "RangeHeaderError",
    "Scope",
    "SearchQuery",
    "SelectItem",
    "SqlError",
    "Value",
    "evaluate",
    "order",
    "parse",
    "parse_date_literal",
    "parse_range",
    "time_bounds",
]

# Deeper nesting than this is refused rather than risking the interpreter's stack.
MAX_DEPTH = 64
# Exchange SQL this fake refuses, by the word that starts it.
_UNSUPPORTED = {
    "GROUP": "GROUP BY",
    "CONTAINS": "CONTAINS",
    "FREETEXT": "FREETEXT",
    "DATEADD": "DATEADD",
    "GETDATE": "GETDATE",
    "BETWEEN": "BETWEEN",
    "IN": "IN",
}
# Pieces of a scope string: a double-quoted URL (perhaps unterminated) or a word.
_SCOPE_PART = re.compile(r'\s*("[^"]*"?|[^\s"]+)')


def parse(sql: str) -> SearchQuery:
    """The ``SearchQuery`` of one Exchange SQL statement, or ``SqlError``."""
    return _Parser(tokenize(sql)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "end":
            self.i += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> SqlError:
        t = token or self.tok
        if t.is_word(*_UNSUPPORTED.keys()):
            what = f"{_UNSUPPORTED[t.text.upper()]} is not supported"
        else:
            what = f"expected {expected}"
        return SqlError(
            f"unexpected {t.describe()} at column {t.column}: {what}", t.raw, t.position
        )

    def word(self, *words: str) -> Token:
        if not self.tok.is_word(*words):
            raise self.fail(" or ".join(words))
        return self.advance()

    def accept_word(self, *words: str) -> Token | None:
        return self.advance() if self.tok.is_word(*words) else None

    def punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.fail(f"'{char}'")
        return self.advance()

    def accept_punct(self, char: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == char:
            self.advance()
            return True
        return False

    def name(self, what: str = "a double-quoted property name") -> Token:
        if self.tok.kind != "name":
            raise self.fail(what)
        if not self.tok.text.strip():
            raise self.fail("a property name, not an empty one")
        return self.advance()

    # ------------------------------------------------------------ clauses
    def query(self) -> SearchQuery:
        self.word("SELECT")
        select_all = self.accept_punct("*")
        items: list[SelectItem] = []
        if not select_all:
            items.append(self.select_item())
            while self.accept_punct(","):
                items.append(self.select_item())
        self.word("FROM")
        scopes = self.scopes()
        where = None
        if self.accept_word("WHERE"):
            where = self.condition()
        order_by: list[tuple[str, bool]] = []
        if self.accept_word("ORDER"):
            self.word("BY")
            order_by.append(self.order_key())
            while self.accept_punct(","):
                order_by.append(self.order_key())
        if self.tok.kind != "end":
            if order_by:
                raise self.fail("',' or end of statement")
            if where is not None:
                raise self.fail("AND, OR, ORDER BY or end of statement")
            raise self.fail("WHERE, ORDER BY or end of statement")
        return SearchQuery(tuple(items), tuple(scopes), where, tuple(order_by), select_all)

    def select_item(self) -> SelectItem:
        prop = self.name("a double-quoted property name or '*'")
        alias = None
        if self.accept_word("AS"):
            if self.tok.kind not in ("word", "name", "string"):
                raise self.fail("an alias")
            alias = self.advance().text
        return SelectItem(prop.text, alias)

    def scopes(self) -> list[Scope]:
        if self.tok.kind == "name":
            return [Scope("shallow", self.advance().text)]
        if not self.tok.is_word("SCOPE"):
            raise self.fail("SCOPE or a double-quoted folder URL")
        self.advance()
        self.punct("(")
        scopes = [self.scope()]
        while self.accept_punct(","):
            scopes.append(self.scope())
        self.punct(")")
        return scopes

    def scope(self) -> Scope:
        token = self.tok
        if token.kind == "name":
            self.advance()
            return Scope("deep", token.text)
        if token.kind != "string":
            raise self.fail("a quoted scope such as 'SHALLOW TRAVERSAL OF \"url\"'")
        self.advance()
        # The scope string has its own little grammar: [depth TRAVERSAL OF] "url".
        parts = [(m.group(1), m.start(1)) for m in _SCOPE_PART.finditer(token.text)]
        parts.append(("", len(token.text)))
        depth = "deep"
        if not parts[0][0].startswith('"'):
            expectations = (
                (
                    "SHALLOW, DEEP, HIERARCHICAL or a double-quoted URL",
                    ("SHALLOW", "DEEP", "HIERARCHICAL"),
                ),
                ("TRAVERSAL", ("TRAVERSAL",)),
                ("OF", ("OF",)),
            )
            for (expected, words), (text, at) in zip(expectations, parts, strict=False):
                if text.upper() not in words:
                    raise self._scope_error(token, text, at, expected)
            depth = parts[0][0].lower()
            parts = parts[3:]
        url, at = parts[0]
        if not url.startswith('"'):
            raise self._scope_error(token, url, at, "a double-quoted URL")
        if len(url) < 2 or not url.endswith('"'):
            raise self._scope_error(token, url, at, "a closing '\"' after the URL")
        if parts[1][0]:
            raise self._scope_error(token, parts[1][0], parts[1][1], "the end of the scope")
        return Scope(cast(Traversal, depth), url[1:-1])

    @staticmethod
    def _scope_error(token: Token, bad: str, at: int, expected: str) -> SqlError:
        # +1 for the opening quote; '' escapes inside the scope shift this a little.
        position = token.position + 1 + at
        what = f"token {bad!r}" if bad else "end of scope"
        return SqlError(
            f"unexpected {what} at column {position + 1}: expected {expected}", bad, position
        )

    def order_key(self) -> tuple[str, bool]:
        prop = self.name()
        ascending = True
        direction = self.accept_word("ASC", "DESC")
        if direction is not None:
            ascending = direction.text.upper() == "ASC"
        return prop.text, ascending

    # ------------------------------------------------------------ conditions
    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            t = self.tok
            raise SqlError(
                f"condition nested too deeply at column {t.column} (more than {MAX_DEPTH} levels)",
                t.raw,
                t.position,
            )

    def condition(self) -> Expr:
        self.nest()
        operands = [self.conjunction()]
        while self.accept_word("OR"):
            operands.append(self.conjunction())
        self.depth -= 1
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self) -> Expr:
        operands = [self.negation()]
        while self.accept_word("AND"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def negation(self) -> Expr:
        if self.accept_word("NOT"):
            self.nest()
            inner = self.negation()
            self.depth -= 1
            return Not(inner)
        return self.atom()

    def atom(self) -> Expr:
        if self.accept_punct("("):
            inner = self.condition()
            self.punct(")")
            return inner
        prop, prop_cast = self.property_ref()
        token = self.tok
        if token.kind == "op":
            self.advance()
            op = cast(CompareOp, "<>" if token.text == "!=" else token.text)
            at = self.tok.position
            return Compare(prop, op, self.literal(), prop_cast, at)
        negated = self.accept_word("NOT") is not None
        if self.accept_word("LIKE"):
            if self.tok.kind not in ("string", "name", "word"):
                raise self.fail("a quoted LIKE pattern")
            return Like(prop, self.advance().text, negated)
        if negated:
            raise self.fail("LIKE")
        if self.accept_word("IS"):
            negated = self.accept_word("NOT") is not None
            self.word("NULL")
            return IsNull(prop, negated)
        raise self.fail("a comparison operator, LIKE, NOT LIKE or IS [NOT] NULL")

    def property_ref(self) -> tuple[str, str | None]:
        if self.tok.is_word("CAST"):
            self.advance()
            self.punct("(")
            prop = self.name()
            datatype = self.cast_type()
            self.punct(")")
            return prop.text, datatype
        return self.name("a double-quoted property name, NOT or '('").text, None

    def cast_type(self) -> str:
        self.word("AS")
        token = self.tok
        if token.kind not in ("string", "name") or token.text not in CAST_TYPES:
            types = ", ".join(sorted(CAST_TYPES))
            raise self.fail(f"a quoted data type ({types})")
        self.advance()
        return token.text

    def literal(self) -> Value:
        token = self.advance()
        if token.kind in ("string", "name"):
            return token.text
        if token.kind == "number":
            return int(token.text)
        if token.is_word("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        if token.is_word("CAST"):
            self.punct("(")
            inner = self.advance()
            if inner.kind not in ("string", "name", "number"):
                raise self.fail("a quoted value to CAST", inner)
            datatype = self.cast_type()
            self.punct(")")
            value = cast_literal(inner.text, datatype)
            if value is None:
                raise SqlError(
                    f"cannot CAST {inner.raw!r} at column {inner.column} as {datatype!r}",
                    inner.raw,
                    inner.position,
                )
            return value
        if token.kind == "decimal":
            message = f"unexpected {token.describe()} at column {token.column}: "
            raise SqlError(
                message + "decimal literals are not supported", token.raw, token.position
            )
        raise self.fail("a literal (a quoted string, an integer, TRUE, FALSE or CAST)", token)


# ------------------------------------------------------------------ Range header
class RangeHeaderError(ValueError):
    """A ``Range`` header the fake does not understand; the message says why."""


MAX_ROW_DIGITS = 9
_ROWS = re.compile(r"\s*rows\s*=\s*([0-9]+)\s*-\s*([0-9]*)\s*", re.ASCII | re.IGNORECASE)


def parse_range(header: str) -> tuple[int, int | None]:
    """``Range: rows=first-last`` as ``(first, last)``; ``rows=first-`` gives last None.

    MS-WDVSE also allows several ranges and suffix ranges (``rows=-50``); clients of
    this fake send one ``first-last`` range (DavMail: ``rows=0-{max-1}``), so those
    forms are refused like garbage.
    """
    shown = header if len(header) <= 60 else header[:57] + "..."
    match = _ROWS.fullmatch(header)
    if match is None:
        if re.fullmatch(r"\s*rows\s*=.*[,].*", header, re.IGNORECASE | re.DOTALL):
            raise RangeHeaderError(f"several row ranges are not supported: {shown!r}")
        raise RangeHeaderError(f"not a row range (rows=first-last): {shown!r}")
    if max(len(match.group(1)), len(match.group(2))) > MAX_ROW_DIGITS:
        # int() of thousands of digits is refused by Python (and would be slow).
        raise RangeHeaderError(f"row numbers have at most {MAX_ROW_DIGITS} digits: {shown!r}")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else None
    if last is not None and last < first:
        raise RangeHeaderError(f"row range ends before it starts: {shown!r}")
    return first, last
