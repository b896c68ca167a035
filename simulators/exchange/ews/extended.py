"""Extended properties in EWS: ``t:ExtendedFieldURI`` paths and ``t:ExtendedProperty``
values, translated to and from the store's MAPI properties (``simulators.exchange.mapi``).

A path names a tagged property (``PropertyTag="0x3613"``, hex or decimal) or a named
one (``DistinguishedPropertySetId`` or ``PropertySetId``, with ``PropertyName`` or
``PropertyId``); every path carries ``PropertyType``. Other combinations are
ErrorInvalidExtendedProperty, as on Exchange 2007. Answers echo the path the client
asked for, with the tag written as Exchange writes it (``0xe23``: lower case, no
leading zeros), which is how clients such as DavMail find the value again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.xmlkit import Element, attr, attr_enum, esc, local, qname
from simulators.exchange.mapi import (
    DISTINGUISHED_SETS,
    TYPE_CODES,
    PropertyValueError,
    PropKey,
    format_value,
    is_array,
    parse_values,
)

EXTENDED_FIELD_URI = qname("t:ExtendedFieldURI")
EXTENDED_PROPERTY = qname("t:ExtendedProperty")
_GUID = re.compile(
    r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$"
)
_TAG = re.compile(r"^(0[xX][0-9A-Fa-f]{1,4}|[0-9]{1,5})$")


@dataclass(frozen=True)
class ExtendedPath:
    """One ``t:ExtendedFieldURI``: the property, its type, and how to write it back."""

    key: PropKey
    type: str
    uri_text: str  # the ExtendedFieldURI element to echo in answers

    @property
    def array(self) -> bool:
        return is_array(self.type)


def _invalid(message: str) -> ResponseError:
    return ResponseError("ErrorInvalidExtendedProperty", message)


def read_extended_path(element: Element) -> ExtendedPath:
    """A ``t:ExtendedFieldURI`` element as an ``ExtendedPath``."""
    prop_type = attr_enum(
        element, "PropertyType", tuple(TYPE_CODES), "MapiPropertyTypeType", required=True
    )
    assert prop_type is not None
    tag = attr(element, "PropertyTag")
    distinguished = attr(element, "DistinguishedPropertySetId")
    set_id = attr(element, "PropertySetId")
    name = attr(element, "PropertyName")
    lid = attr(element, "PropertyId")
    if tag is not None:
        if distinguished or set_id or name is not None or lid is not None:
            raise _invalid("PropertyTag cannot be combined with a property set, name or id.")
        if not _TAG.match(tag.strip()):
            raise _invalid(f"The property tag '{tag}' is invalid.")
        number = int(tag, 16) if tag.lower().startswith("0x") else int(tag)
        if number > 0xFFFF:
            raise _invalid(f"The property tag '{tag}' is invalid.")
        key = PropKey.tagged(number)
        text = f'<t:ExtendedFieldURI PropertyTag="0x{number:x}" PropertyType="{prop_type}"/>'
        return ExtendedPath(key, prop_type, text)
    if (distinguished is None) == (set_id is None):
        raise _invalid("Give either DistinguishedPropertySetId or PropertySetId.")
    if (name is None) == (lid is None):
        raise _invalid("Give either PropertyName or PropertyId.")
    if distinguished is not None:
        guid = DISTINGUISHED_SETS.get(distinguished)
        if guid is None:
            attr_enum(
                element,
                "DistinguishedPropertySetId",
                tuple(DISTINGUISHED_SETS),
                "DistinguishedPropertySetType",
            )
            raise _invalid(f"Unknown property set {distinguished}.")
        set_text = f'DistinguishedPropertySetId="{distinguished}"'
    else:
        assert set_id is not None
        if not _GUID.match(set_id.strip()):
            raise _invalid(f"The property set id '{set_id}' is not a GUID.")
        guid = set_id.strip().strip("{}").lower()
        set_text = f'PropertySetId="{esc(set_id.strip())}"'
    if name is not None:
        key = PropKey.named(guid, name)
        what = f'PropertyName="{esc(name)}"'
    else:
        assert lid is not None
        try:
            number = int(lid)
        except ValueError:
            raise _invalid(f"The property id '{lid}' is not a number.") from None
        key = PropKey.numbered(guid, number)
        what = f'PropertyId="{number}"'
    text = f'<t:ExtendedFieldURI {set_text} {what} PropertyType="{prop_type}"/>'
    return ExtendedPath(key, prop_type, text)


def property_text(path: ExtendedPath, value: Any) -> str:
    """A ``t:ExtendedProperty`` element with the value (as text)."""
    texts = format_value(path.type, value)
    if path.array:
        if not texts:
            return ""  # an empty multi-valued property has no value to write
        inner = "".join(f"<t:Value>{esc(v)}</t:Value>" for v in texts)
        return (
            f"<t:ExtendedProperty>{path.uri_text}<t:Values>{inner}</t:Values></t:ExtendedProperty>"
        )
    return f"<t:ExtendedProperty>{path.uri_text}<t:Value>{esc(texts[0])}</t:Value></t:ExtendedProperty>"


def read_extended_property(element: Element) -> tuple[ExtendedPath, Any]:
    """A ``t:ExtendedProperty`` element of a request: (path, typed value)."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children or children[0].tag != EXTENDED_FIELD_URI:
        raise ResponseError(
            "ErrorInvalidExtendedProperty", "An ExtendedProperty starts with ExtendedFieldURI."
        )
    path = read_extended_path(children[0])
    values = children[1:]
    if len(values) != 1 or local(values[0].tag) not in ("Value", "Values"):
        raise ResponseError(
            "ErrorInvalidExtendedProperty", "An ExtendedProperty holds one Value or Values."
        )
    holder = values[0]
    if local(holder.tag) == "Values":
        texts = [
            (v.text or "") for v in holder if isinstance(v.tag, str) and v.tag == qname("t:Value")
        ]
    else:
        texts = [holder.text or ""]
    if path.array != (local(holder.tag) == "Values"):
        raise ResponseError(
            "ErrorInvalidExtendedPropertyValue",
            f"A {path.type} property takes {'Values' if path.array else 'one Value'}.",
        )
    try:
        return path, parse_values(path.type, texts)
    except PropertyValueError as exc:
        raise ResponseError("ErrorInvalidExtendedPropertyValue", str(exc)) from None


__all__ = [
    "EXTENDED_FIELD_URI",
    "EXTENDED_PROPERTY",
    "ExtendedPath",
    "property_text",
    "read_extended_path",
    "read_extended_property",
]
