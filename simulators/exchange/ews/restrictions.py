"""FindItem restrictions: the t:SearchExpression tree compiled to a predicate over
item views, and SortOrder compiled to a sort key.

String comparisons in IsEqualTo & co ignore case as the store does; Contains
honours ContainmentMode (FullString, Prefixed, Substring, PrefixOnWords,
ExactPhrase) and ContainmentComparison (Exact, IgnoreCase, Loose, ...). A property
an item does not have never matches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.extended import ExtendedPath
from simulators.exchange.ews.shapes import PATH_TAGS, read_path
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    T,
    attr,
    attr_enum,
    fail,
    local,
    parse_datetime,
    qname,
    words,
)

Predicate = Callable[[Any], bool]
Getter = Callable[[Any], Any]

_MISSING = object()


def _get(name: str) -> Getter:
    def getter(v: Any) -> Any:
        return getattr(v, name, _MISSING)

    return getter


def _from_contact(name: str) -> Getter:
    def getter(v: Any) -> Any:
        contact = getattr(v, "contact", None)
        return getattr(contact, name, _MISSING) if contact is not None else _MISSING

    return getter


def _calendar(getter: Callable[[Any], Any]) -> Getter:
    def read(v: Any) -> Any:
        return getter(v) if hasattr(v, "master") else _MISSING

    return read


# FieldURI -> (value type, getter)
FIELDS: dict[str, tuple[str, Getter]] = {
    "item:Subject": ("string", _get("subject")),
    "item:DateTimeCreated": ("datetime", _get("created")),
    "item:DateTimeReceived": ("datetime", _get("created")),
    "item:LastModifiedTime": ("datetime", _get("modified")),
    "calendar:Start": ("datetime", _calendar(lambda v: v.start)),
    "calendar:End": ("datetime", _calendar(lambda v: v.end)),
    "calendar:Location": ("string", _calendar(lambda v: v.location)),
    "calendar:LegacyFreeBusyStatus": ("string", _calendar(lambda v: v.busy_status)),
    "calendar:CalendarItemType": ("string", _calendar(lambda v: v.item_type)),
    "calendar:IsAllDayEvent": ("bool", _calendar(lambda v: v.master.all_day)),
    "calendar:IsRecurring": ("bool", _calendar(lambda v: v.original_start is not None)),
    "calendar:UID": ("string", _calendar(lambda v: v.master.uid)),
    "folder:DisplayName": ("string", _get("display_name")),
    "folder:FolderClass": ("string", _get("folder_class")),
    "contacts:DisplayName": ("string", _from_contact("display_name")),
    "contacts:GivenName": ("string", _from_contact("given_name")),
    "contacts:Surname": ("string", _from_contact("surname")),
    "contacts:CompanyName": ("string", _from_contact("company")),
    "contacts:FileAs": ("string", _from_contact("file_as")),
}
EMAIL_INDEX = {"EmailAddress1": 0, "EmailAddress2": 1, "EmailAddress3": 2}


# Extended property types -> the value kind constants are read as.
_EXTENDED_KINDS = {
    "Boolean": "bool",
    "SystemTime": "datetime",
    "Integer": "int",
    "Short": "int",
    "Long": "int",
}


def _extended_getter(ext: ExtendedPath, store: Any) -> tuple[str, Getter]:
    if store is None:
        raise ResponseError("ErrorUnsupportedPathForQuery")

    def getter(v: Any) -> Any:
        model = getattr(v, "model", v)
        value = store.get_property(model, ext.key, ext.type)
        if value is None:
            return _MISSING
        if isinstance(value, list):  # a multi-valued property matches on any value
            return value[0] if len(value) == 1 else ",".join(str(x) for x in value)
        return value

    return _EXTENDED_KINDS.get(ext.type, "string"), getter


def field_getter(element: Element, store: Any = None) -> tuple[str, Getter]:
    path = read_path(element)
    if path.ext is not None:
        return _extended_getter(path.ext, store)
    if path.index is not None:
        if path.uri == "contacts:EmailAddress" and path.index in EMAIL_INDEX:
            position = EMAIL_INDEX[path.index]

            def email(v: Any) -> Any:
                contact = getattr(v, "contact", None)
                if contact is None or len(contact.emails) <= position:
                    return _MISSING
                return contact.emails[position]

            return "string", email
        if path.uri == "contacts:PhoneNumber":
            key = path.index

            def phone(v: Any) -> Any:
                contact = getattr(v, "contact", None)
                return contact.phones.get(key, _MISSING) if contact is not None else _MISSING

            return "string", phone
    elif path.uri in FIELDS:
        return FIELDS[path.uri]
    raise ResponseError("ErrorUnsupportedPathForQuery")


def _constant(kind: str, raw: str) -> Any:
    if kind == "datetime":
        value = parse_datetime(raw)
        if value is None:
            raise ResponseError("ErrorInvalidValueForProperty", "Invalid value for property.")
        return value
    if kind == "bool":
        if raw.strip().lower() not in ("true", "false", "1", "0"):
            raise ResponseError("ErrorInvalidValueForProperty", "Invalid value for property.")
        return raw.strip().lower() in ("true", "1")
    if kind == "int":
        try:
            return int(raw.strip())
        except ValueError:
            raise ResponseError(
                "ErrorInvalidValueForProperty", "Invalid value for property."
            ) from None
    return raw


def _comparable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


CONSTANT = qname("t:Constant")
FIELD_URI_OR_CONSTANT = qname("t:FieldURIOrConstant")
_TWO = Sequence_(
    ("t:FieldURI|t:IndexedFieldURI|t:ExtendedFieldURI", 1, 1), ("t:FieldURIOrConstant", 1, 1)
)
_CONTAINS = Sequence_(
    ("t:FieldURI|t:IndexedFieldURI|t:ExtendedFieldURI", 1, 1), ("t:Constant", 1, 1)
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}
MODES = ("FullString", "Prefixed", "Substring", "PrefixOnWords", "ExactPhrase")
COMPARISONS = words(
    "Exact IgnoreCase IgnoreNonSpacingCharacters Loose IgnoreCaseAndNonSpacingCharacters "
    "LooseAndIgnoreCase LooseAndIgnoreNonSpace LooseAndIgnoreCaseAndIgnoreNonSpace"
)
SEARCH_EXPRESSIONS = frozenset(
    qname(f"t:{n}") for n in [*_COMPARE, "Contains", "Not", "And", "Or", "Exists", "Excludes"]
)


def _children(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str)]


def _expressions(element: Element, low: int, high: int) -> list[Element]:
    kids = _children(element)
    for kid in kids:
        if kid.tag not in SEARCH_EXPRESSIONS:
            fail(
                f"The element '{local(element.tag)}' in namespace '{T}' has invalid child "
                f"element '{local(kid.tag)}'. List of possible elements expected: "
                f"'SearchExpression' in namespace '{T}'.",
                kid,
            )
    if not low <= len(kids) <= (high if high > 0 else len(kids)):
        fail(
            f"The element '{local(element.tag)}' in namespace '{T}' has incomplete content. "
            f"List of possible elements expected: 'SearchExpression' in namespace '{T}'.",
            element,
        )
    return kids


def _normaliser(comparison: str) -> Callable[[str], str]:
    fold_case = "IgnoreCase" in comparison or comparison.startswith("Loose")
    strip_marks = "NonSpac" in comparison or comparison.startswith("Loose")

    def normalise(value: str) -> str:
        if strip_marks:
            value = "".join(
                c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c)
            )
        return value.casefold() if fold_case else value

    return normalise


def _contains(element: Element, store: Any = None) -> Predicate:
    kids = _CONTAINS.read(element)
    kind, getter = field_getter(_children(element)[0], store)
    needle_raw = attr(kids.one("t:Constant"), "Value", required=True) or ""
    mode = attr_enum(element, "ContainmentMode", MODES, "ContainmentModeType") or "FullString"
    comparison = (
        attr_enum(element, "ContainmentComparison", COMPARISONS, "ContainmentComparisonType")
        or "Exact"
    )
    normalise = _normaliser(comparison)
    needle = normalise(needle_raw)

    def match(v: Any) -> bool:
        value = getter(v)
        if value is _MISSING or not isinstance(value, str):
            return False
        hay = normalise(value)
        if mode == "FullString":
            return hay == needle
        if mode == "Prefixed":
            return hay.startswith(needle)
        if mode == "Substring":
            return needle in hay
        if mode == "PrefixOnWords":
            return any(word.startswith(needle) for word in hay.split())
        words, phrase = hay.split(), needle.split()
        return any(words[i : i + len(phrase)] == phrase for i in range(len(words)))

    return match


def _two_operand(element: Element, name: str, store: Any = None) -> Predicate:
    _TWO.read(element)
    left, right_box = _children(element)
    kind, getter = field_getter(left, store)
    right = _children(right_box)
    if len(right) != 1 or (right[0].tag != CONSTANT and right[0].tag not in PATH_TAGS):
        fail("FieldURIOrConstant must contain one property path or one Constant.", right_box)
    compare = _COMPARE[name]
    if right[0].tag == CONSTANT:
        constant = _comparable(_constant(kind, attr(right[0], "Value", required=True) or ""))

        def against_constant(v: Any) -> bool:
            value = getter(v)
            if value is _MISSING:
                return False
            try:
                return compare(_comparable(value), constant)
            except TypeError:
                return False

        return against_constant
    _, other = field_getter(right[0], store)

    def against_field(v: Any) -> bool:
        a, b = getter(v), other(v)
        if a is _MISSING or b is _MISSING:
            return False
        try:
            return compare(_comparable(a), _comparable(b))
        except TypeError:
            return False

    return against_field


def compile_expression(element: Element, store: Any = None) -> Predicate:
    name = local(element.tag)
    if name in _COMPARE:
        return _two_operand(element, name, store)
    if name == "Contains":
        return _contains(element, store)
    if name == "Not":
        inner = compile_expression(_expressions(element, 1, 1)[0], store)
        return lambda v: not inner(v)
    if name in ("And", "Or"):
        parts = [compile_expression(e, store) for e in _expressions(element, 2, -1)]
        if name == "And":
            return lambda v: all(p(v) for p in parts)
        return lambda v: any(p(v) for p in parts)
    if name == "Exists":
        kids = _children(element)
        if len(kids) != 1 or kids[0].tag not in PATH_TAGS:
            fail("Exists must contain one property path.", element)
        _, getter = field_getter(kids[0], store)
        return lambda v: getter(v) not in (_MISSING, None, "")
    raise ResponseError("ErrorUnsupportedQueryFilter", "The restriction is not supported.")


def compile_restriction(element: Element, store: Any = None) -> Predicate:
    """A m:Restriction element (exactly one search expression) as a predicate; with
    the ``store``, extended properties can be compared too."""
    return compile_expression(_expressions(element, 1, 1)[0], store)


_FIELD_ORDER = Sequence_(("t:FieldURI|t:IndexedFieldURI|t:ExtendedFieldURI", 1, 1))


def compile_sort(element: Element, store: Any = None) -> list[tuple[Getter, bool]]:
    """m:SortOrder as [(getter, descending)], most significant first."""
    keys: list[tuple[Getter, bool]] = []
    for order in _children(element):
        if order.tag != qname("t:FieldOrder"):
            fail(f"The element 'SortOrder' has invalid child element '{local(order.tag)}'.", order)
        _FIELD_ORDER.read(order)
        direction = attr_enum(
            order, "Order", ("Ascending", "Descending"), "SortDirectionType", required=True
        )
        _, getter = field_getter(_children(order)[0], store)
        keys.append((getter, direction == "Descending"))
    if not keys:
        fail("The element 'SortOrder' has incomplete content.", element)
    return keys


def sort_rows(rows: list[Any], keys: list[tuple[Getter, bool]]) -> list[Any]:
    """Stable multi-key sort; missing values sort first, as Exchange puts empty first."""
    for getter, descending in reversed(keys):

        def key(v: Any, getter: Getter = getter) -> tuple[int, Any]:
            value = getter(v)
            if value is _MISSING or value is None:
                return (0, "")
            return (1, _comparable(value) if not isinstance(value, datetime) else value)

        rows = sorted(rows, key=key, reverse=descending)
    return rows
