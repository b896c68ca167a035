"""Extended (MAPI) properties of folders and items, as the one store keeps them.

Exchange stores every property of a folder or item as a MAPI property: a *tagged*
one (``PR_SUBJECT`` is tag 0x0037), or a *named* one in a property set, named by a
number (``PidLidImapDeleted`` is 0x8570 in PSETID_Common) or by a string
(WebDAV's dead properties are string names in PS_PUBLIC_STRINGS: the property
``urn:schemas:calendar:instancetype`` is exactly that named property). EWS reaches
them with ``t:ExtendedFieldURI``, WebDAV with ``mapi/proptag/x00370001f``-style
names; both front ends translate to a ``PropKey`` and ask the store.

A property is either *bound* to a field of the model (PR_SUBJECT is the item's
subject: reading and writing it reads and writes ``subject``), *computed* from the
model and read-only (PR_CONTENT_COUNT), or *stored* as the client set it in the
object's ``extended`` bag. ``mapi_props`` holds the table of bound and computed
properties; this module holds keys, value types and the read/write rules.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Property sets (lower-case GUIDs, as MS-OXPROPS lists them).
PS_PUBLIC_STRINGS = "00020329-0000-0000-c000-000000000046"
PSETID_COMMON = "00062008-0000-0000-c000-000000000046"
PSETID_ADDRESS = "00062004-0000-0000-c000-000000000046"
PSETID_APPOINTMENT = "00062002-0000-0000-c000-000000000046"
PSETID_TASK = "00062003-0000-0000-c000-000000000046"
PS_INTERNET_HEADERS = "00020386-0000-0000-c000-000000000046"
PSETID_MEETING = "6ed8da90-450b-101b-98da-00aa003f1305"
PSETID_CALENDAR_ASSISTANT = "11000e07-b51b-40d6-af21-caa85edab1d0"
PSETID_UNIFIED_MESSAGING = "4442858e-a9e3-4e80-b900-317a210cc15b"

# EWS t:DistinguishedPropertySetType -> property set.
DISTINGUISHED_SETS: dict[str, str] = {
    "Meeting": PSETID_MEETING,
    "Appointment": PSETID_APPOINTMENT,
    "Common": PSETID_COMMON,
    "PublicStrings": PS_PUBLIC_STRINGS,
    "Address": PSETID_ADDRESS,
    "InternetHeaders": PS_INTERNET_HEADERS,
    "CalendarAssistant": PSETID_CALENDAR_ASSISTANT,
    "UnifiedMessaging": PSETID_UNIFIED_MESSAGING,
    "Task": PSETID_TASK,
}

# MAPI property types: EWS t:MapiPropertyTypeType name <-> PT_* number (WebDAV proptags).
TYPE_CODES: dict[str, int] = {
    "Short": 0x0002,
    "Integer": 0x0003,
    "Float": 0x0004,
    "Double": 0x0005,
    "Currency": 0x0006,
    "ApplicationTime": 0x0007,
    "Error": 0x000A,
    "Boolean": 0x000B,
    "Object": 0x000D,
    "Long": 0x0014,
    "String": 0x001F,
    "SystemTime": 0x0040,
    "CLSID": 0x0048,
    "Binary": 0x0102,
    "ShortArray": 0x1002,
    "IntegerArray": 0x1003,
    "FloatArray": 0x1004,
    "DoubleArray": 0x1005,
    "CurrencyArray": 0x1006,
    "ApplicationTimeArray": 0x1007,
    "ObjectArray": 0x100D,
    "LongArray": 0x1014,
    "StringArray": 0x101F,
    "SystemTimeArray": 0x1040,
    "CLSIDArray": 0x1048,
    "BinaryArray": 0x1102,
    "Null": 0x0001,
}
TYPE_NAMES: dict[int, str] = {code: name for name, code in TYPE_CODES.items()}
TYPE_NAMES[0x001E] = "String"  # PT_STRING8 reads as a string
TYPE_NAMES[0x101E] = "StringArray"

_INTEGERS = frozenset({"Short", "Integer", "Long", "Currency"})
_FLOATS = frozenset({"Float", "Double", "ApplicationTime"})


class PropertyValueError(ValueError):
    """Text that is not a value of the property's type (EWS: ErrorInvalidValueForProperty)."""


@dataclass(frozen=True)
class PropKey:
    """Which property: ``tag`` for a tagged one, else ``set_id`` with ``lid`` or ``name``.

    InternetHeaders names are header names, matched without case (they are stored
    lower-case); other string names are case-sensitive, as in Exchange.
    """

    tag: int | None = None
    set_id: str | None = None
    lid: int | None = None
    name: str | None = None

    @classmethod
    def tagged(cls, tag: int) -> PropKey:
        return cls(tag=tag & 0xFFFF)

    @classmethod
    def numbered(cls, set_id: str, lid: int) -> PropKey:
        return cls(set_id=set_id.lower(), lid=lid)

    @classmethod
    def named(cls, set_id: str, name: str) -> PropKey:
        set_id = set_id.lower()
        return cls(set_id=set_id, name=name.lower() if set_id == PS_INTERNET_HEADERS else name)

    def __str__(self) -> str:
        if self.tag is not None:
            return f"0x{self.tag:04x}"
        what = f"0x{self.lid:04x}" if self.lid is not None else repr(self.name)
        return f"{{{self.set_id}}}/{what}"


def is_array(type_name: str) -> bool:
    return type_name.endswith("Array")


def element_type(type_name: str) -> str:
    return type_name[: -len("Array")] if is_array(type_name) else type_name


def parse_value(type_name: str, text: str) -> Any:
    """One value of a property of ``type_name`` from its EWS/WebDAV text form."""
    kind = element_type(type_name)
    raw = text.strip()
    try:
        if kind in _INTEGERS:
            return int(raw)
        if kind in _FLOATS:
            return float(raw)
        if kind == "Boolean":
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return lowered in ("true", "1")
        if kind == "SystemTime":
            return parse_instant(raw)
        if kind == "Binary":
            return base64.b64decode(raw, validate=True)
    except (ValueError, binascii.Error):
        raise PropertyValueError(f"{text!r} is not a {kind} value") from None
    return text


def parse_values(type_name: str, texts: list[str]) -> Any:
    """The value of a property from its text(s): a list for array types."""
    if is_array(type_name):
        return [parse_value(type_name, t) for t in texts]
    if len(texts) != 1:
        raise PropertyValueError(f"a {type_name} property takes one value")
    return parse_value(type_name, texts[0])


_INSTANT = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$"
)


def parse_instant(text: str) -> datetime:
    """xs:dateTime (no offset means UTC) as an aware UTC instant."""
    match = _INSTANT.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, UTC
    )
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        moment = moment - sign * (datetime(2000, 1, 1, hours, minutes) - datetime(2000, 1, 1))
    return moment


def format_value(type_name: str, value: Any) -> list[str]:
    """The text form(s) of a value, as EWS writes them (one entry unless an array)."""
    values = value if is_array(type_name) and isinstance(value, (list, tuple)) else [value]
    return [_format_one(element_type(type_name), v) for v in values]


def _format_one(kind: str, value: Any) -> str:
    if isinstance(value, bool) or kind == "Boolean":
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def coerce(type_name: str, value: Any) -> Any:
    """A Python value (from the model) in the form ``type_name`` stores it."""
    kind = element_type(type_name)
    if is_array(type_name):
        if value is None:
            return []
        return [coerce(kind, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if kind in _INTEGERS and isinstance(value, bool):
        return int(value)
    if kind == "String" and not isinstance(value, str):
        return "" if value is None else str(value)
    return value


__all__ = [
    "DISTINGUISHED_SETS",
    "PSETID_ADDRESS",
    "PSETID_APPOINTMENT",
    "PSETID_COMMON",
    "PSETID_MEETING",
    "PSETID_TASK",
    "PS_INTERNET_HEADERS",
    "PS_PUBLIC_STRINGS",
    "TYPE_CODES",
    "TYPE_NAMES",
    "PropKey",
    "PropertyValueError",
    "coerce",
    "element_type",
    "format_value",
    "is_array",
    "parse_instant",
    "parse_value",
    "parse_values",
]
