"""The parsed form of an Exchange SQL (WebDAV SEARCH) statement, and its literal values.

Owns the frozen AST a ``SELECT`` becomes (``SearchQuery``, ``Scope``, the ``Expr``
nodes), the ``SqlError`` every malformed or unsupported statement raises, and the
reading of literal text as typed values: date literals (``parse_date_literal``) and
``CAST(... AS 'type')`` (``cast_literal``).

Literal values are ``str``, ``int``, ``bool`` or an aware UTC ``datetime``. A plain
quoted string stays a ``str`` even when it looks like a date: Exchange gives a literal
the type of the property it is compared with, so the evaluator coerces it per row.
Property names are kept exactly as written: Exchange property names are namespace URI
plus local name, and XML names are case-sensitive ("urn:schemas:contacts:givenName").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from simulators.exchange.timerange import year_in_range

Value = str | int | bool | datetime
Traversal = Literal["shallow", "deep", "hierarchical"]
CompareOp = Literal["=", "<>", "<", ">", "<=", ">="]


class SqlError(ValueError):
    """A statement the fake cannot run; the message names the token and its column.

    ``token`` is the offending token as written ('' at the end of the statement),
    ``position`` its 0-based offset in the statement (-1 when unknown). The WebDAV
    front end answers 400 Bad Request with ``message``.
    """

    def __init__(self, message: str, token: str = "", position: int = -1) -> None:
        super().__init__(message)
        self.message = message
        self.token = token
        self.position = position


@dataclass(frozen=True)
class Scope:
    """One folder a search covers. ``url`` is as written: absolute, path-only or ''
    (K-9 Mail's ``FROM ""``, meaning the request URL)."""

    traversal: Traversal
    url: str

    @property
    def path(self) -> str:
        """The URL's path (still percent-encoded); '' for an empty URL."""
        if "://" in self.url:
            return urlsplit(self.url).path or "/"
        return self.url


@dataclass(frozen=True)
class SelectItem:
    """A selected property; ``alias`` is DavMail's ``"uri" as name`` response name."""

    prop: str
    alias: str | None = None


@dataclass(frozen=True)
class Compare:
    """``"prop" op literal``; ``prop_cast`` is ``CAST("prop" AS 'type')`` on the left."""

    prop: str
    op: CompareOp
    value: Value
    prop_cast: str | None = None
    position: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Like:
    """``"prop" [NOT] LIKE 'pattern'``: ``%`` any run, ``_`` one character, no case."""

    prop: str
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    """``"prop" IS [NOT] NULL``: whether the item has no value for the property."""

    prop: str
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Compare | Like | IsNull | Not | And | Or


@dataclass(frozen=True)
class SearchQuery:
    """A parsed ``SELECT``. ``select`` is empty exactly when ``select_all`` (``SELECT *``).
    ``order_by`` holds ``(prop, ascending)`` pairs, most significant first."""

    select: tuple[SelectItem, ...]
    scopes: tuple[Scope, ...]
    where: Expr | None = None
    order_by: tuple[tuple[str, bool], ...] = ()
    select_all: bool = False

    @property
    def properties(self) -> tuple[str, ...]:
        return tuple(item.prop for item in self.select)


# 'yyyy/MM/dd HH:mm:ss' (DavMail), 'yyyy-MM-dd HH:mm:ss', ISO 8601 with 'T', optional
# seconds, fraction and zone; a date alone is midnight. No zone means UTC, as Exchange
# reads SQL date literals.
_DATE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/])(?P<mo>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,7}))?)?)?"
    r" ?(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)


@lru_cache(maxsize=1024)  # a WHERE compares each row with the same few literals
def parse_date_literal(text: str) -> datetime | None:
    """``text`` as an aware UTC instant, or None if it is not a date literal or lies
    outside the range Exchange keeps (``simulators.exchange.timerange``)."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    g = match.groupdict()
    if not year_in_range(int(g["y"])):
        return None
    if g["h"] is None and g["z"] is not None:
        return None
    try:
        fraction = (g["f"] or "0").ljust(6, "0")[:6]
        zone: timezone = UTC
        if g["z"] and g["z"] != "Z":
            digits = g["z"][1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            zone = timezone(-offset if g["z"][0] == "-" else offset)
        local = datetime(
            int(g["y"]),
            int(g["mo"]),
            int(g["d"]),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            int(fraction),
            tzinfo=zone,
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_INT_TYPES = frozenset({"int", "i1", "i2", "i4", "i8", "ui1", "ui2", "ui4", "ui8"})
# Types whose values the fake keeps as text (binary and GUIDs are compared as written).
_TEXT_TYPES = frozenset({"string", "bin.base64", "bin.hex", "uuid"})
CAST_TYPES = frozenset({"dateTime", "dateTime.tz", "boolean", *_INT_TYPES, *_TEXT_TYPES})


def cast_literal(text: str, datatype: str) -> Value | None:
    """``CAST(text AS datatype)`` as a typed value, or None if ``text`` is not one.

    ``datatype`` is an XML data type name; like Exchange, names are case-sensitive.
    """
    if datatype in ("dateTime", "dateTime.tz"):
        return parse_date_literal(text)
    if datatype in _INT_TYPES:
        return int(text.strip()) if _INT.fullmatch(text.strip()) else None
    if datatype == "boolean":
        return {"1": True, "0": False, "true": True, "false": False}.get(text.strip().lower())
    if datatype in _TEXT_TYPES:
        return text
    raise KeyError(datatype)
