"""Running a parsed Exchange SQL condition over rows: ``evaluate``, ``order`` and the
date window a calendar search asks for (``time_bounds``).

A row is anything with ``get(name)`` (a dict) or a callable from property name to a Python value (``str``,
``int``, ``bool``, ``datetime``; a list or tuple for a multi-valued property; None
when the item has no such property). Semantics, chosen to match the Exchange store,
whose SQL runs as MAPI restrictions:

* A literal takes the type of the row's value: '1' equals 1, 'true' and 1 equal True,
  '2026/01/05 12:00:00' and ISO forms compare as UTC instants. A literal that cannot
  take that type ('soon' against a date) is the query's fault: ``SqlError``. A string
  row value that cannot take the literal's type (a date literal against 'n/a') just
  does not match.
* Strings compare and LIKE-match ignoring case (Exchange's default collation).
* Missing values (None, or an empty multi-valued list): every comparison and LIKE is
  false, ``<>`` included. Logic is two-valued as in MAPI restrictions, so ``NOT`` (and
  ``NOT LIKE``) of such a test is true: ``NOT "x" = 1`` matches items without "x"
  while ``"x" <> 1`` does not. ``IS NULL`` is the explicit test.
* A multi-valued property matches when any of its values does.
* ORDER BY: missing values sort first ascending (last descending), strings ignoring
  case; the sort is stable, so ties keep the store's order.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar, assert_never

from simulators.exchange.timerange import RANGE_TEXT
from simulators.exchange.webdav.sql_ast import (
    And,
    Compare,
    Expr,
    IsNull,
    Like,
    Not,
    Or,
    SqlError,
    Value,
    cast_literal,
    parse_date_literal,
)

DTSTART = "urn:schemas:calendar:dtstart"
DTEND = "urn:schemas:calendar:dtend"


class PropertySource(Protocol):
    """Anything with ``get(name)``: a dict, a Mapping, a row object of the front end."""

    def get(self, key: str, /) -> Any: ...


Row = PropertySource | Callable[[str], Any]
R = TypeVar("R")

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_INT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_BOOLS = {"1": True, "0": False, "true": True, "false": False}


class _NoMatch(Exception):
    """The row's value cannot be read as the literal's type."""


def comparable(value: Any) -> Any:
    """A row value in comparable form: aware datetimes, dates as UTC midnight."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str | int | float):
        return value
    return str(value)


def _values(raw: Any) -> list[Any]:
    """The row's values for one property: [] when missing."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple | set | frozenset):
        return [comparable(v) for v in raw if v is not None]
    return [comparable(raw)]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "dateTime"
    return "string"


def _literal_as(literal: Value, target: Any) -> Any:
    """``literal`` in the type of the row value ``target``; None if it cannot be."""
    if isinstance(target, bool):
        if isinstance(literal, bool):
            return literal
        if isinstance(literal, int):
            return {1: True, 0: False}.get(literal)
        if isinstance(literal, str):
            return _BOOLS.get(literal.strip().lower())
        return None
    if isinstance(target, int | float):
        if isinstance(literal, int):  # bool included: True is 1
            return int(literal)
        if isinstance(literal, str) and _INT.fullmatch(literal):
            return int(literal)
        if isinstance(target, float) and isinstance(literal, str):
            try:
                return float(literal)
            except ValueError:
                return None
        return None
    if isinstance(target, datetime):
        if isinstance(literal, datetime):
            return literal
        return parse_date_literal(literal) if isinstance(literal, str) else None
    return literal


def _row_as(value: str, literal: Value) -> Any:
    """A string row value read as the non-string literal's type, else ``_NoMatch``."""
    if isinstance(literal, bool):
        result: Any = _BOOLS.get(value.strip().lower())
    elif isinstance(literal, int):
        result = int(value) if _INT.fullmatch(value) else None
    else:
        result = parse_date_literal(value)
    if result is None:
        raise _NoMatch
    return result


def _compare(node: Compare, raw: Any) -> bool:
    values = _values(raw)
    if node.prop_cast is not None:
        values = [_cast_row(v, node.prop_cast) for v in values]
        values = [v for v in values if v is not None]
    for value in values:
        literal: Any = node.value
        if isinstance(value, str) and not isinstance(literal, str):
            if isinstance(literal, int) and not isinstance(literal, bool):
                literal = str(literal)
            else:
                try:
                    value = _row_as(value, literal)
                except _NoMatch:
                    continue
        else:
            converted = _literal_as(literal, value)
            if converted is None:
                raise SqlError(
                    f"cannot compare {node.prop!r} (a {_kind(value)} property) with "
                    f"{node.value!r} at column {node.position + 1}",
                    str(node.value),
                    node.position,
                )
            literal = converted
        if isinstance(value, str):
            value, literal = value.casefold(), str(literal).casefold()
        if _OPS[node.op](value, literal):
            return True
    return False


def _cast_row(value: Any, datatype: str) -> Any:
    """A row value under ``CAST("prop" AS datatype)``; None if it is not of that type."""
    if isinstance(value, str):
        return cast_literal(value, datatype)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if isinstance(value, bool):
        text = "1" if value else "0"
    return cast_literal(text, datatype)


@functools.lru_cache(maxsize=256)
def _folded_pattern(pattern: str) -> tuple[str, ...]:
    return tuple(ch if ch in "%_" else ch.casefold() for ch in pattern)


def like_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches an Exchange LIKE pattern (``%`` any run, ``_`` one
    character), ignoring case.

    A regex (``.*a.*a.*b``) backtracks exponentially on a long subject and froze the
    whole site for 91 s; this walk keeps only the last ``%`` to resume from, so it
    takes at most len(pattern) * len(value) steps.
    """
    folded = _folded_pattern(pattern)
    text = [ch.casefold() for ch in value]
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(folded) and folded[p] == "%":
            star, resume = p, t
            p += 1
        elif p < len(folded) and (folded[p] == "_" or folded[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            resume += 1  # let the last % swallow one more character
            p, t = star + 1, resume
        else:
            return False
    while p < len(folded) and folded[p] == "%":
        p += 1
    return p == len(folded)


def _like(node: Like, raw: Any) -> bool:
    for value in _values(raw):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and like_match(node.pattern, value):
            return True
    return False


def evaluate(expr: Expr | None, row: Row) -> bool:
    """Whether ``row`` satisfies the WHERE condition ``expr`` (None: no condition)."""
    if expr is None:
        return True
    getter = getattr(row, "get", None)
    get: Callable[[str], Any] = getter if callable(getter) else row  # type: ignore[assignment]
    return _eval(expr, get)


def _eval(expr: Expr, get: Callable[[str], Any]) -> bool:
    if isinstance(expr, Compare):
        return _compare(expr, get(expr.prop))
    if isinstance(expr, Like):
        return _like(expr, get(expr.prop)) != expr.negated
    if isinstance(expr, IsNull):
        return (not _values(get(expr.prop))) != expr.negated
    if isinstance(expr, Not):
        return not _eval(expr.operand, get)
    if isinstance(expr, And):
        return all(_eval(e, get) for e in expr.operands)
    if isinstance(expr, Or):
        return any(_eval(e, get) for e in expr.operands)
    assert_never(expr)


def _sort_key(raw: Any) -> tuple[int, int, Any]:
    values = _values(raw)
    if not values:
        return (0, 0, 0)
    value = values[0]
    if isinstance(value, bool | int | float):
        return (1, 0, value)
    if isinstance(value, datetime):
        return (1, 1, value)
    if isinstance(value, str):
        return (1, 2, value.casefold())
    return (1, 3, repr(value))


def order(
    rows: Iterable[R],
    order_by: Sequence[tuple[str, bool]],
    get: Callable[[R, str], Any] | None = None,
) -> list[R]:
    """``rows`` sorted by ``(prop, ascending)`` keys, most significant first.

    ``get(row, prop)`` reads a value; without it rows are mappings.
    """
    result = list(rows)
    read: Callable[[Any, str], Any] = get if get is not None else _mapping_get
    for prop, ascending in reversed(order_by):

        def key(row: Any, prop: str = prop) -> tuple[int, int, Any]:
            return _sort_key(read(row, prop))

        result.sort(key=key, reverse=not ascending)
    return result


def _mapping_get(row: Any, prop: str) -> Any:
    return row.get(prop)


def _conjuncts(expr: Expr) -> Iterable[Expr]:
    if isinstance(expr, And):
        for operand in expr.operands:
            yield from _conjuncts(operand)
    else:
        yield expr


def _instant(node: Compare) -> datetime:
    value = node.value
    instant = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        instant = parse_date_literal(value)
    if instant is None:
        raise SqlError(
            f"{node.prop!r} needs a date from {RANGE_TEXT}, not {value!r}"
            f" (column {node.position + 1})",
            str(value),
            node.position,
        )
    return instant


def time_bounds(
    expr: Expr | None, start_prop: str = DTSTART, end_prop: str = DTEND
) -> tuple[datetime | None, datetime | None]:
    """``(start_lt, end_gt)``: the window a calendar search asks for.

    ``start_lt`` is the tightest ``"dtstart" < t`` (or ``<=``) and ``end_gt`` the
    tightest ``"dtend" > t`` (or ``>=``) among the top-level AND terms of ``expr``.
    Terms under OR or NOT do not bound the search (DavMail puts its range inside an
    OR with the recurring masters, and must not get expanded occurrences).
    """
    start_lt: datetime | None = None
    end_gt: datetime | None = None
    if expr is None:
        return None, None
    for term in _conjuncts(expr):
        if not isinstance(term, Compare) or term.prop_cast not in (None, "dateTime", "dateTime.tz"):
            continue
        if term.prop == start_prop and term.op in ("<", "<="):
            t = _instant(term)
            start_lt = t if start_lt is None else min(start_lt, t)
        elif term.prop == end_prop and term.op in (">", ">="):
            t = _instant(term)
            end_gt = t if end_gt is None else max(end_gt, t)
    return start_lt, end_gt
