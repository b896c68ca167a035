"""XML in and out of the WebDAV front end, the way Exchange 2007 writes it.

In: ``parse_body`` reads a request body with lxml refusing any DOCTYPE (so no
external or internal entities, no XXE) and raises ``XmlBodyError`` (a 400) on
anything that is not well-formed XML.

Out: ``MultiStatusWriter`` writes a 207 body as text with Exchange's prefixes
(``a:`` DAV:, ``b:`` the datatypes namespace, ``c:`` xml:, ``d:`` calendar, ``e:``
httpmail, more letters on demand), typed values carrying ``b:dt`` (dateTime.tz with
milliseconds and 'Z', dateTime.rfc1123, int, boolean 0/1, mv.string with ``<c:v>``).
``typed_element`` builds the same typed value as an lxml element for wsgidav's PROPFIND.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

DAV = "DAV:"
DT = "urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"
XMLV = "xml:"
CALENDAR = "urn:schemas:calendar:"
HTTPMAIL = "urn:schemas:httpmail:"
CONTACTS = "urn:schemas:contacts:"
EXCHANGE = "http://schemas.microsoft.com/exchange/"
PROPTAG = "http://schemas.microsoft.com/mapi/proptag/"
MAPI = "http://schemas.microsoft.com/mapi/"
MAPI_ADDRESS = "http://schemas.microsoft.com/mapi/id/{00062004-0000-0000-c000-000000000046}/"
REPL = "http://schemas.microsoft.com/repl/"

_FIXED_PREFIXES = {DAV: "a", DT: "b", XMLV: "c", CALENDAR: "d", HTTPMAIL: "e"}
# Exchange writes every date as dateTime.tz with milliseconds, DAV:getlastmodified too:
# a captured Exchange PROPFIND answer has <a:getlastmodified b:dt="dateTime.tz">
# 2010-05-08T13:23:58.513Z</a:getlastmodified>, and DavMail's DavExchangeSession parses
# DAV:getlastmodified from SEARCH answers only as yyyy-MM-dd'T'HH:mm:ss.SSS'Z'.
_RFC1123_PROPS: frozenset[str] = frozenset()
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAME_START = re.compile(r"[A-Za-z_\u00c0-\uffff]")
_NAME_REST = re.compile(r"[^A-Za-z0-9._\-\u00b7-\uffff]")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# Exchange's MAPI namespaces hold braces ("mapi/id/{GUID}/"), which libxml2 calls invalid
# URIs; a body whose only complaint is that is read again with that check relaxed.
_NS_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
)
_NS_URI_WARNINGS = frozenset({"WAR_NS_URI", "WAR_NS_URI_RELATIVE"})


class XmlBodyError(ValueError):
    """A request body that is not acceptable XML (malformed, or with a DOCTYPE)."""


def parse_body(body: bytes) -> etree._Element:
    """The root element of ``body``; DOCTYPEs (entities, XXE) are refused."""
    if not body.strip():
        raise XmlBodyError("the request body is empty")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        if not exc.error_log or any(e.type_name not in _NS_URI_WARNINGS for e in exc.error_log):
            raise XmlBodyError(f"the request body is not well-formed XML: {exc}") from None
        root = etree.fromstring(body, _NS_PARSER)
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise XmlBodyError("DOCTYPE declarations are not allowed in request bodies")
    return root


def split_name(prop: str) -> tuple[str, str]:
    """A property name as (namespace, local name), Clark ``{ns}local`` or Exchange
    ``nslocal``: the local name follows the last ':', '/' or '#'."""
    if prop.startswith("{"):
        ns, _, local = prop[1:].rpartition("}")  # a namespace may hold "}"
        return ns, local
    cut = max(prop.rfind(":"), prop.rfind("/"), prop.rfind("#")) + 1
    return prop[:cut], prop[cut:]


@functools.lru_cache(maxsize=4096)
def xml_local_name(local: str) -> str:
    """``local`` as a legal XML name: Exchange escapes characters as ``_xHHHH_``."""
    if not local:
        return "_"
    out = [local[0] if _NAME_START.match(local[0]) else f"_x{ord(local[0]):04x}_"]
    out.extend(f"_x{ord(c):04x}_" if _NAME_REST.match(c) else c for c in local[1:])
    return "".join(out)


def clean_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold."""
    if value.isascii() and value.isprintable():
        return value  # the common case, without the regex (profiled)
    return _XML_ILLEGAL.sub("", value)


def escape(text: str) -> str:
    """Character data with ``&``, ``<`` and ``>`` escaped (``xml.sax.saxutils.escape``
    without its dictionary loop: every written value goes through here)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def format_tz(value: datetime) -> str:
    """Exchange's dateTime.tz: UTC with milliseconds, ``2026-01-05T11:00:00.000Z``."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    # Formatting costs a microsecond, a look-up a tenth (profiled: the writer's largest
    # cost); an item's dates are written again at every poll. Keyed by the UTC instant.
    text = _TZ_TEXTS.get(utc)
    if text is None:
        text = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        if len(_TZ_TEXTS) >= _TZ_TEXT_LIMIT:
            _TZ_TEXTS.clear()
        _TZ_TEXTS[utc] = text
    return text


_TZ_TEXT_LIMIT = 65536
_TZ_TEXTS: dict[datetime, str] = {}


def format_rfc1123(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def typed(prop: str, value: Any) -> tuple[str | list[str], str | None]:
    """(text or list of texts, b:dt datatype or None) of a property value."""
    if type(value) is str:  # the commonest, first
        return clean_text(value), None
    if isinstance(value, bool):
        return ("1" if value else "0"), "boolean"
    if isinstance(value, int):
        return str(value), "int"
    if isinstance(value, float):
        return repr(value), "float"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii"), "bin.base64"
    if isinstance(value, datetime):
        if prop in _RFC1123_PROPS:
            return format_rfc1123(value), "dateTime.rfc1123"
        return format_tz(value), "dateTime.tz"
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], datetime):
            return [format_tz(v) for v in value], "mv.dateTime.tz"
        return [clean_text(str(v)) for v in value], "mv.string"
    return clean_text(str(value)), None


def typed_element(prop: str, value: Any) -> etree._Element:
    """The property as an lxml element with ``b:dt`` (for wsgidav's PROPFIND)."""
    ns, local = split_name(prop)
    text, datatype = typed(ns + local, value)
    nsmap = {"b": DT} if datatype else {}
    if isinstance(text, list):
        nsmap["c"] = XMLV
    element = etree.Element(f"{{{ns}}}{xml_local_name(local)}", nsmap=nsmap or None)
    if datatype:
        element.set(f"{{{DT}}}dt", datatype)
    if isinstance(text, list):
        for item in text:
            etree.SubElement(element, f"{{{XMLV}}}v").text = item
    else:
        element.text = text
    return element


class MultiStatusWriter:
    """Builds an Exchange 207 body; namespaces are declared on the root element."""

    def __init__(self) -> None:
        self._prefixes: dict[str, str] = dict(_FIXED_PREFIXES)
        self._qnames: dict[str, str] = {}
        self._parts: list[str] = []

    def _qname(self, prop: str) -> str:
        found = self._qnames.get(prop)
        if found is None:
            found = self._qnames[prop] = self._new_qname(prop)
        return found

    def _new_qname(self, prop: str) -> str:
        ns, local = _xml_name(prop)
        if ns == "":
            return local
        prefix = self._prefixes.get(ns)
        if prefix is None:
            prefix = _letter(len(self._prefixes))
            self._prefixes[ns] = prefix
        return f"{prefix}:{local}"

    def response(
        self,
        href: str,
        found: Iterable[tuple[str, Any]],
        missing: Iterable[str] = (),
        status: str = "HTTP/1.1 200 OK",
    ) -> None:
        """One ``a:response``: a propstat with ``status`` holding ``found`` (name,
        value; a None value is written empty), and a 404 propstat for ``missing``."""
        qnames = self._qnames
        parts = [
            "<a:response><a:href>",
            escape(clean_text(href)),
            "</a:href><a:propstat><a:status>",
            status,
            "</a:status><a:prop>",
        ]
        for prop, value in found:
            name = qnames.get(prop) or self._qname(prop)
            if value is None:
                parts.append(f"<{name}/>")
                continue
            text, datatype = typed(prop, value)
            attr = _DATATYPE_ATTRS.get(datatype) if datatype else ""
            if attr is None:
                attr = f" b:dt={quoteattr(datatype)}"  # type: ignore[arg-type]
            if isinstance(text, list):
                inner = "".join(f"<c:v>{escape(v)}</c:v>" for v in text)
            else:
                inner = escape(text)
            parts.append(f"<{name}{attr}>{inner}</{name}>")
        parts.append("</a:prop></a:propstat>")
        names = [qnames.get(p) or self._qname(p) for p in missing]
        if names:
            parts.append("<a:propstat><a:status>HTTP/1.1 404 Resource Not Found</a:status>")
            parts.append("<a:prop>" + "".join(f"<{n}/>" for n in names) + "</a:prop></a:propstat>")
        parts.append("</a:response>")
        self._parts.append("".join(parts))

    def patch_response(
        self,
        href: str,
        ok: Iterable[str],
        failed: dict[str, str],
        response_status: str | None = None,
    ) -> None:
        """One PROPPATCH ``a:response``: empty property elements grouped by status."""
        parts = self._parts
        parts.append(f"<a:response><a:href>{escape(clean_text(href))}</a:href>")
        if response_status:
            parts.append(f"<a:status>{response_status}</a:status>")
        groups: dict[str, list[str]] = {}
        for name in ok:
            groups.setdefault("HTTP/1.1 200 OK", []).append(name)
        for name, status in failed.items():
            groups.setdefault(status, []).append(name)
        for status, names in groups.items():
            elements = "".join(f"<{self._qname(n)}/>" for n in dict.fromkeys(names))
            parts.append(
                f"<a:propstat><a:status>{status}</a:status><a:prop>{elements}</a:prop></a:propstat>"
            )
        parts.append("</a:response>")

    def body(self) -> bytes:
        head = _multistatus_head(tuple(self._prefixes.items()))
        return (head + "".join(self._parts) + "</a:multistatus>").encode("utf-8")


@functools.lru_cache(maxsize=256)
def _multistatus_head(prefixes: tuple[tuple[str, str], ...]) -> str:
    """The root's opening tag for these (namespace, prefix) pairs: a body of a
    kind of request declares the same ones each time."""
    declarations = " ".join(
        f"xmlns:{prefix}={quoteattr(ns)}"
        for ns, prefix in sorted(prefixes, key=lambda kv: kv[1], reverse=True)
    )
    return f'<?xml version="1.0"?><a:multistatus {declarations}>'


@functools.lru_cache(maxsize=4096)
def _xml_name(prop: str) -> tuple[str, str]:
    """(namespace, local name as a legal XML name) of a property: a writer per
    request asks the same few each time."""
    ns, local = split_name(prop)
    return ns, xml_local_name(local)


# b:dt attributes of the datatypes ``typed`` gives, written once.
_DATATYPE_ATTRS = {
    datatype: f" b:dt={quoteattr(datatype)}"
    for datatype in (
        "boolean",
        "int",
        "float",
        "bin.base64",
        "dateTime.tz",
        "dateTime.rfc1123",
        "mv.dateTime.tz",
        "mv.string",
    )
}


def _letter(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < len(letters) else f"n{index}"


__all__ = [
    "CALENDAR",
    "CONTACTS",
    "DAV",
    "DT",
    "EXCHANGE",
    "HTTPMAIL",
    "MAPI",
    "MAPI_ADDRESS",
    "PROPTAG",
    "MultiStatusWriter",
    "XmlBodyError",
    "format_rfc1123",
    "format_tz",
    "parse_body",
    "split_name",
    "typed",
    "typed_element",
    "xml_local_name",
]
