"""XML plumbing of the EWS front end: namespaces, the safe parser, readers that
check a request the way the 2007 server's schema validation does, and writers.

Requests are read with a parser that never resolves entities, never touches the
network and refuses any DOCTYPE (XXE, billion laughs). Every structural check
raises ``SchemaViolation`` with the wording .NET's validating reader uses, so a
client sees the same ErrorSchemaValidation text Exchange 2007 sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn, TypeAlias

from lxml import etree

from simulators.exchange.timerange import describe, year_in_range

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
XS = "http://www.w3.org/2001/XMLSchema"
NSMAP = {"m": M, "t": T}
PREFIXES = {"m": M, "t": T, "s": S}

# lxml ships no type information; elements are typed loosely on purpose.
Element: TypeAlias = Any


class DateOutOfRange(ValueError):
    """A well-formed xs:dateTime or xs:date outside what Exchange keeps
    (``simulators.exchange.timerange``): ErrorCalendarOutOfRange, not a schema error."""

    def __init__(self, value: str) -> None:
        super().__init__(describe(value))
        self.value = value


class SchemaViolation(Exception):
    """The request does not match the 2007 SP1 schema (ErrorSchemaValidation)."""

    def __init__(self, violation: str, line: int | None = None, position: int = 0) -> None:
        super().__init__(violation)
        self.violation = violation
        self.line = line
        self.position = position


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
)


def parse_document(body: bytes) -> Element:
    """The root element of a request body; any DOCTYPE is refused."""
    if not body.strip():
        raise SchemaViolation("Root element is missing.", 0, 0)
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        raise SchemaViolation(str(exc.msg), line, column) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SchemaViolation("For security reasons DTD is prohibited in this XML document.", 1, 1)
    return root


# ------------------------------------------------------------------ names
def qname(prefixed: str) -> str:
    """'t:Subject' -> '{types-ns}Subject'."""
    prefix, _, local = prefixed.partition(":")
    return f"{{{PREFIXES[prefix]}}}{local}"


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _described(tag: str) -> str:
    return f"'{local(tag)}' in namespace '{namespace(tag)}'"


def fail(violation: str, element: Element | None = None) -> NoReturn:
    raise SchemaViolation(violation, element.sourceline if element is not None else None)


# ------------------------------------------------------------ sequences
class Children:
    """An element's children grouped by qualified name, in document order."""

    def __init__(self, owner: Element, found: dict[str, list[Element]]) -> None:
        self.owner = owner
        self._found = found

    def all(self, prefixed: str) -> list[Element]:
        return self._found.get(qname(prefixed), [])

    def opt(self, prefixed: str) -> Element | None:
        hits = self.all(prefixed)
        return hits[0] if hits else None

    def one(self, prefixed: str) -> Element:
        hit = self.opt(prefixed)
        assert hit is not None, f"{prefixed} is required by the sequence spec"
        return hit

    def first_of(self, *prefixed: str) -> Element | None:
        for name in prefixed:
            hit = self.opt(name)
            if hit is not None:
                return hit
        return None


class Sequence_:
    """An xs:sequence of particles; each particle is a choice of names with bounds.

    ``Sequence_("m:FindItem", ("m:ItemShape", 1, 1), ("m:CalendarView|m:ContactsView", 0, 1))``
    ``lenient`` skips elements the spec does not name (for item bodies that newer
    clients fill with elements 2007 lacks), but still checks the order of known ones.
    """

    UNBOUNDED = -1

    def __init__(self, *particles: tuple[str, int, int], lenient: bool = False) -> None:
        self.particles = [
            (frozenset(qname(n) for n in names.split("|")), low, high)
            for names, low, high in particles
        ]
        self.known = (
            frozenset().union(*(p[0] for p in self.particles)) if particles else frozenset()
        )
        self.lenient = lenient

    def _expected(self, start: int) -> str:
        names: list[str] = []
        for allowed, low, _ in self.particles[start:]:
            names.extend(_described(n) for n in sorted(allowed))
            if low > 0:
                break
        return ", ".join(names)

    def read(self, owner: Element) -> Children:
        found: dict[str, list[Element]] = {}
        index = 0
        count = 0
        for child in owner:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag
            if self.lenient and tag not in self.known:
                continue
            while index < len(self.particles):
                allowed, low, high = self.particles[index]
                if tag in allowed and (high == self.UNBOUNDED or count < high):
                    break
                if count < low:
                    self._invalid_child(owner, child, index)
                index += 1
                count = 0
            else:
                self._invalid_child(owner, child, len(self.particles))
            count += 1
            found.setdefault(tag, []).append(child)
        while index < len(self.particles):
            if count < self.particles[index][1]:
                fail(
                    f"The element {_described(owner.tag)} has incomplete content. "
                    f"List of possible elements expected: {self._expected(index)}.",
                    owner,
                )
            index += 1
            count = 0
        return Children(owner, found)

    def _invalid_child(self, owner: Element, child: Element, index: int) -> NoReturn:
        expected = self._expected(index)
        tail = f" List of possible elements expected: {expected}." if expected else ""
        fail(
            f"The element {_described(owner.tag)} has invalid child element "
            f"{_described(child.tag)}.{tail}",
            child,
        )


# ------------------------------------------------------------- values
_DATETIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$")
_XS_TYPE = "http://www.w3.org/2001/XMLSchema:"


def _type_error(what: str, value: str, type_name: str, element: Element, why: str) -> NoReturn:
    fail(
        f"{what} is invalid - The value '{value}' is invalid according to its datatype "
        f"'{type_name}' - {why}",
        element,
    )


def parse_datetime(value: str) -> datetime | None:
    """xs:dateTime as an aware UTC instant; without an offset it is UTC (as 2007 reads it)."""
    match = _DATETIME.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not year_in_range(int(year)):
        raise DateOutOfRange(value.strip())
    try:
        micro = int((fraction or ".0")[1:7].ljust(6, "0"))
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro
        )
    except ValueError:
        return None
    offset = timedelta()
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return (moment - offset).replace(tzinfo=UTC)


def parse_date(value: str) -> date | None:
    match = _DATE.match(value.strip())
    if not match:
        return None
    if not year_in_range(int(match.group(1))):
        raise DateOutOfRange(value.strip())
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _attr_what(name: str) -> str:
    return f"The '{name}' attribute"


def _elem_what(element: Element) -> str:
    return f"The '{namespace(element.tag)}:{local(element.tag)}' element"


def attr(element: Element, name: str, required: bool = False) -> str | None:
    value = element.get(name)
    if value is None and required:
        fail(f"The required attribute '{name}' is missing.", element)
    return value


def attr_datetime(element: Element, name: str) -> datetime:
    raw = attr(element, name, required=True)
    assert raw is not None
    parsed = parse_datetime(raw)
    if parsed is None:
        _type_error(
            _attr_what(name),
            raw,
            _XS_TYPE + "dateTime",
            element,
            f"The string '{raw}' is not a valid AllXsd value.",
        )
    return parsed


def attr_int(element: Element, name: str, default: int | None = None) -> int | None:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        _type_error(
            _attr_what(name),
            raw,
            _XS_TYPE + "int",
            element,
            "The string '" + raw + "' is not a valid Int32 value.",
        )


def attr_required_int(element: Element, name: str) -> int:
    attr(element, name, required=True)
    value = attr_int(element, name)
    assert value is not None
    return value


def attr_enum(
    element: Element,
    name: str,
    allowed: Iterable[str],
    type_name: str,
    required: bool = False,
    default: str | None = None,
) -> str | None:
    raw = attr(element, name, required=required)
    if raw is None:
        return default
    if raw not in allowed:
        _type_error(
            _attr_what(name),
            raw,
            f"{T}:{type_name}",
            element,
            "The Enumeration constraint failed.",
        )
    return raw


def attr_bool(element: Element, name: str, required: bool = False, default: bool = False) -> bool:
    raw = attr(element, name, required=required)
    if raw is None:
        return default
    return _bool(raw, _attr_what(name), element)


def _bool(raw: str, what: str, element: Element) -> bool:
    value = raw.strip()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    _type_error(
        what,
        raw,
        _XS_TYPE + "boolean",
        element,
        f"The string '{raw}' is not a valid Boolean value.",
    )


def text(element: Element) -> str:
    return element.text or ""


def text_bool(element: Element) -> bool:
    return _bool(text(element), _elem_what(element), element)


def text_int(element: Element) -> int:
    raw = text(element)
    try:
        return int(raw.strip())
    except ValueError:
        _type_error(
            _elem_what(element),
            raw,
            _XS_TYPE + "int",
            element,
            f"The string '{raw}' is not a valid Int32 value.",
        )


def text_datetime(element: Element) -> datetime:
    raw = text(element)
    parsed = parse_datetime(raw)
    if parsed is None:
        _type_error(
            _elem_what(element),
            raw,
            _XS_TYPE + "dateTime",
            element,
            f"The string '{raw}' is not a valid AllXsd value.",
        )
    return parsed


def text_date(element: Element) -> date:
    raw = text(element)
    parsed = parse_date(raw)
    if parsed is None:
        _type_error(
            _elem_what(element),
            raw,
            _XS_TYPE + "date",
            element,
            f"The string '{raw}' is not a valid AllXsd value.",
        )
    return parsed


def text_enum(element: Element, allowed: Iterable[str], type_name: str) -> str:
    raw = text(element).strip()
    if raw not in allowed:
        _type_error(
            _elem_what(element),
            raw,
            f"{T}:{type_name}",
            element,
            "The Enumeration constraint failed.",
        )
    return raw


def text_enum_list(element: Element, allowed: Sequence[str], type_name: str) -> list[str]:
    raw = text(element)
    words = raw.split()
    if not words or any(w not in allowed for w in words):
        _type_error(
            _elem_what(element),
            raw,
            f"{T}:{type_name}",
            element,
            "The Enumeration constraint failed.",
        )
    return words


# ------------------------------------------------------------- writing
@lru_cache(maxsize=8192)
def fmt_datetime(moment: datetime) -> str:
    """An instant as EWS writes it: UTC with 'Z', whole seconds."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is C-fast; every written row has several of these (profiled).
    return moment.isoformat(timespec="seconds")[:19] + "Z"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(value: str) -> str:
    """Escape element text and (double-quoted) attribute values; drop what XML forbids."""
    # Printable ASCII holds nothing XML forbids: two C checks instead of the search
    # (most values: ids, stamps, enumerations; profiled).
    if not (value.isascii() and value.isprintable()) and _NOT_XML.search(value):
        value = _NOT_XML.sub("", value)
    if "&" in value or "<" in value or ">" in value or '"' in value:
        return (
            value.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
        )
    return value


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def fmt_duration(span: timedelta) -> str:
    """xs:duration, e.g. PT1H30M, P1D, -PT1H."""
    seconds = int(span.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    if hours or minutes or secs or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if secs or not (hours or minutes):
            out += f"{secs}S"
    return out


def sub(parent: Element, tag: str, value: str | None = None, **attrs: str) -> Element:
    """Append a child; ``tag`` is a Clark name (use the T_/M_ constants)."""
    child = etree.SubElement(parent, tag, attrs) if attrs else etree.SubElement(parent, tag)
    if value is not None:
        child.text = value
    return child


def t(name: str) -> str:
    return f"{{{T}}}{name}"


def m(name: str) -> str:
    return f"{{{M}}}{name}"


def new_element(tag: str, **attrs: str) -> Element:
    return etree.Element(tag, attrs, nsmap=NSMAP)  # type: ignore[arg-type]


def words(spaced: str) -> list[str]:
    """A whitespace-separated list written as one string (schema enumerations)."""
    return spaced.split()
