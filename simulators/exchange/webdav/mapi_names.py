"""WebDAV property names of MAPI properties, the way Exchange 2007 maps them.

- ``http://schemas.microsoft.com/mapi/proptag/x0e230003``: a tagged property (tag and
  type in hex);
- ``http://schemas.microsoft.com/mapi/id/{GUID}/0x8570`` (or a decimal id, as DavMail
  writes the Address set's ``32899``): a named property by number;
- ``http://schemas.microsoft.com/mapi/string/{GUID}/name``: a named property by name;
- ``urn:schemas:mailheader:name``: an InternetHeaders named property;
- any other name is itself a string-named property in PS_PUBLIC_STRINGS: that is where
  Exchange keeps WebDAV's dead properties, so a property set over WebDAV is the one
  EWS reads with ``DistinguishedPropertySetId="PublicStrings"`` and the same name.

Element names that are not XML names arrive escaped (``_x0030_x8570`` is ``0x8570``).
The ``b:dt`` datatype of a value gives its MAPI type.
"""

from __future__ import annotations

import re

from simulators.exchange.mapi import (
    PS_INTERNET_HEADERS,
    PS_PUBLIC_STRINGS,
    TYPE_NAMES,
    PropKey,
)

PROPTAG = "http://schemas.microsoft.com/mapi/proptag/"
MAPI_ID = "http://schemas.microsoft.com/mapi/id/"
MAPI_STRING = "http://schemas.microsoft.com/mapi/string/"
MAILHEADER = "urn:schemas:mailheader:"

_TAG = re.compile(r"^x([0-9a-f]{4})([0-9a-f]{4})$", re.I)
_SET = re.compile(r"^\{([0-9a-f-]{36})\}/(.+)$", re.I)
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")

# b:dt datatypes -> MAPI types.
DATATYPES = {
    "int": "Integer",
    "i2": "Short",
    "i4": "Integer",
    "i8": "Long",
    "boolean": "Boolean",
    "float": "Double",
    "r8": "Double",
    "dateTime.tz": "SystemTime",
    "dateTime": "SystemTime",
    "dateTime.rfc1123": "SystemTime",
    "bin.base64": "Binary",
    "mv.string": "StringArray",
    "mv.int": "IntegerArray",
    "string": "String",
}


def unescape_name(local: str) -> str:
    """An element's local name with Exchange's ``_xHHHH_`` escapes read back."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), local)


def key_of(name: str) -> tuple[PropKey, str | None] | None:
    """(property, its type if the name says) of a full property name; None for the
    names of DAV: itself (those are the front end's, never stored)."""
    if name.startswith("DAV:"):
        return None
    if name.startswith(PROPTAG):
        match = _TAG.match(name[len(PROPTAG) :])
        if match:
            return PropKey.tagged(int(match.group(1), 16)), TYPE_NAMES.get(int(match.group(2), 16))
        return None
    for prefix, numbered in ((MAPI_ID, True), (MAPI_STRING, False)):
        if name.startswith(prefix):
            match = _SET.match(name[len(prefix) :])
            if not match:
                return None
            guid, rest = match.group(1).lower(), unescape_name(match.group(2))
            if not numbered:
                return PropKey.named(guid, rest), None
            try:
                lid = int(rest, 16) if rest.lower().startswith("0x") else int(rest)
            except ValueError:
                return None
            return PropKey.numbered(guid, lid), None
    if name.startswith(MAILHEADER):
        return PropKey.named(PS_INTERNET_HEADERS, name[len(MAILHEADER) :]), "String"
    return PropKey.named(PS_PUBLIC_STRINGS, name), None


__all__ = ["DATATYPES", "key_of", "unescape_name"]
