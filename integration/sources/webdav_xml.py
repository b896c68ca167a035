"""The wire format of Exchange 2007 WebDAV calendar reads: request bodies and 207 parsing.

Owns the PROPFIND that finds a mailbox's calendar folder, the SEARCH (Exchange SQL in a
``DAV:searchrequest``) that reads it as a precomputed byte template, and turning a 207
Multi-Status into ``Appointment`` rows: only ``200 OK`` propstats count, ``b:dt``
datatypes are read (``dateTime.tz`` and ``dateTime.rfc1123`` to aware UTC), and
``instancetype`` (0 single, 2 instance, 3 exception) becomes ``Appointment.kind``.
Answers go through the EWS source's safe parser: no DTD, no entities, no network,
DOCTYPE refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from lxml import etree

from integration.appointments import Appointment, AppointmentKind
from integration.sources.base import SourceProtocolError
from integration.sources.ews import parse_xml

NS_DAV: Final = "DAV:"
NS_MAIL: Final = "urn:schemas:httpmail:"
NS_CAL: Final = "urn:schemas:calendar:"
NS_DT: Final = "urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"  # the b:dt datatypes


def _clark(name: str) -> str:
    # Exchange splits a property name after its last ':' or '/'.
    cut = max(name.rfind(":"), name.rfind("/")) + 1
    return f"{{{name[:cut]}}}{name[cut:]}"


# The properties the rules need; the first of a pair wins, the second is a fallback.
SELECTED: Final = (
    "DAV:href",
    "urn:schemas:httpmail:subject",
    "urn:schemas:calendar:dtstart",
    "urn:schemas:calendar:dtend",
    "urn:schemas:calendar:instancetype",
    "urn:schemas:calendar:recurrenceid",
    "urn:schemas:calendar:alldayevent",
    "urn:schemas:calendar:busystatus",
    "urn:schemas:calendar:created",
    "DAV:creationdate",
    "urn:schemas:calendar:lastmodified",
    "DAV:getlastmodified",
    "urn:schemas:calendar:meetingstatus",
    "http://schemas.microsoft.com/mapi/apptstateflags",
    "http://schemas.microsoft.com/mapi/responsestatus",
)

_MULTISTATUS = _clark("DAV:multistatus")
_RESPONSE = _clark("DAV:response")
_HREF = _clark("DAV:href")
_PROPSTAT = _clark("DAV:propstat")
_STATUS = _clark("DAV:status")
_PROP = _clark("DAV:prop")
_DT = f"{{{NS_DT}}}dt"
_CALENDAR_FOLDER = _clark("urn:schemas:httpmail:calendar")
_SUBJECT = _clark("urn:schemas:httpmail:subject")
_DTSTART = _clark("urn:schemas:calendar:dtstart")
_DTEND = _clark("urn:schemas:calendar:dtend")
_INSTANCETYPE = _clark("urn:schemas:calendar:instancetype")
_RECURRENCEID = _clark("urn:schemas:calendar:recurrenceid")
_ALLDAY = _clark("urn:schemas:calendar:alldayevent")
_BUSY = _clark("urn:schemas:calendar:busystatus")
_MEETING_STATUS = _clark("urn:schemas:calendar:meetingstatus")
_STATE_FLAGS = _clark("http://schemas.microsoft.com/mapi/apptstateflags")
_RESPONSE_STATUS = _clark("http://schemas.microsoft.com/mapi/responsestatus")
# PidLidAppointmentStateFlags bits; PidLidResponseStatus values as EWS spells them.
_ASF_MEETING, _ASF_CANCELED = 0x1, 0x4
_RESPONSES: Final[dict[int, str]] = {
    1: "Organizer",
    2: "Tentative",
    3: "Accept",
    4: "Decline",
    5: "NoResponseReceived",
}
_CREATED = (_clark("urn:schemas:calendar:created"), _clark("DAV:creationdate"))
_MODIFIED = (_clark("urn:schemas:calendar:lastmodified"), _clark("DAV:getlastmodified"))

# instancetype: 0 single, 1 recurring master (never a row of ours), 2 instance, 3 exception.
_KINDS: Final[dict[int, AppointmentKind]] = {0: "single", 2: "occurrence", 3: "exception"}
_MASTER: Final = 1

PROPFIND_CALENDAR: Final = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<a:propfind xmlns:a="DAV:" xmlns:e="urn:schemas:httpmail:">'
    b"<a:prop><e:calendar/></a:prop></a:propfind>"
)


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sql_date(value: datetime) -> bytes:
    """A date literal as Exchange SQL reads it: ``yyyy/MM/dd HH:mm:ss``, UTC."""
    return value.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S").encode("ascii")


class SearchTemplate:
    """The SEARCH body as bytes: a prefix per calendar folder, then holes for the
    window's end and start (in that order: ``dtstart < end AND dtend > start``)."""

    def __init__(self) -> None:
        select = ", ".join(f'"{name}"' for name in SELECTED)
        self._head = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<g:searchrequest xmlns:g="DAV:"><g:sql>'
            + _xml_text(f"SELECT {select} FROM SCOPE('SHALLOW TRAVERSAL OF \"")
        )
        self._where = _xml_text(
            '"\') WHERE NOT "urn:schemas:calendar:instancetype" = 1'
            " AND \"DAV:contentclass\" = 'urn:content-classes:appointment'"
            ' AND "urn:schemas:calendar:dtstart" < \''
        ).encode("utf-8")
        self._middle = _xml_text("' AND \"urn:schemas:calendar:dtend\" > '").encode("utf-8")
        self._tail = (
            _xml_text('\' ORDER BY "urn:schemas:calendar:dtstart" ASC')
            + "</g:sql></g:searchrequest>"
        ).encode("utf-8")

    def folder_prefix(self, scope: str) -> bytes:
        """Everything before the end-time hole, for the folder at path ``scope``."""
        # A quote in a folder name would end the SQL string: double it, as SQL does.
        return (self._head + _xml_text(scope.replace("'", "''"))).encode("utf-8") + self._where

    def render(self, prefix: bytes, start: datetime, end: datetime) -> bytes:
        return b"".join((prefix, sql_date(end), self._middle, sql_date(start), self._tail))


@dataclass(frozen=True)
class DavRow:
    """One ``<a:response>``: its href and the values of its 200 OK propstats, each
    ``(text, b:dt datatype)`` by Clark name."""

    href: str
    props: dict[str, tuple[str, str | None]]


def parse_multistatus(content: bytes, mailbox: str | None = None) -> list[DavRow]:
    """The rows of a 207 Multi-Status; SourceProtocolError for anything else."""
    root = parse_xml(content, mailbox)
    if root.tag != _MULTISTATUS:
        raise SourceProtocolError(f"answer is not a multistatus: <{root.tag}>", mailbox=mailbox)
    rows: list[DavRow] = []
    for response in root:
        if response.tag != _RESPONSE:
            continue
        href = ""
        props: dict[str, tuple[str, str | None]] = {}
        for child in response:
            if child.tag == _HREF:
                href = (child.text or "").strip()
            elif child.tag == _PROPSTAT and _is_ok(child.findtext(_STATUS)):
                prop = child.find(_PROP)
                for value in () if prop is None else prop:
                    props[value.tag] = (_value_text(value), value.get(_DT))
        rows.append(DavRow(href, props))
    return rows


def _is_ok(status: str | None) -> bool:
    # "HTTP/1.1 200 OK"; a missing property comes back in a 404 propstat: not a value.
    parts = (status or "").split()
    return len(parts) >= 2 and parts[1] == "200"


def _value_text(value: etree._Element) -> str:
    if len(value):  # mv.string: one <c:v> child per value
        return ", ".join((v.text or "").strip() for v in value)
    return value.text or ""


def parse_calendar_folder(content: bytes, mailbox: str | None = None) -> str | None:
    """The calendar folder URL a PROPFIND of the mailbox root answered, if any."""
    for row in parse_multistatus(content, mailbox):
        text, _ = row.props.get(_CALENDAR_FOLDER, ("", None))
        if text.strip():
            return text.strip()
    return None


def parse_dav_time(text: str, datatype: str | None = None) -> datetime:
    """A WebDAV date (``dateTime.tz`` ISO 8601, ``dateTime.rfc1123``) as aware UTC."""
    text = text.strip()
    if datatype != "dateTime.rfc1123":
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            if datatype is not None:
                raise ValueError(f"not a {datatype}: {text!r}") from None
        else:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a date: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class SearchPage:
    """One parsed SEARCH answer: its appointments and how many rows it held."""

    appointments: list[Appointment]
    rows: int


def parse_search(content: bytes, mailbox: str | None = None) -> SearchPage:
    """Appointments of a SEARCH answer; recurring masters are left out."""
    rows = parse_multistatus(content, mailbox)
    found: list[Appointment] = []
    for row in rows:
        try:
            appointment = appointment_from_row(row)
        except (ValueError, KeyError) as exc:
            label = row.href or "a row without href"
            raise SourceProtocolError(
                f"unreadable appointment {label}: {exc}", mailbox=mailbox
            ) from None
        if appointment is not None:
            found.append(appointment)
    return SearchPage(found, len(rows))


def appointment_from_row(row: DavRow) -> Appointment | None:
    """One SEARCH row as an Appointment; None for a recurring master.

    Instance rows get an id of their own: the href plus the occurrence's original
    start (``recurrenceid``, else its dtstart), so a moved occurrence keeps its id.
    """
    props = row.props
    if not row.href:
        raise ValueError("no href")
    kind_text = props.get(_INSTANCETYPE, ("0", None))[0].strip() or "0"
    if not kind_text.lstrip("-").isdigit():
        raise ValueError(f"instancetype {kind_text!r}")
    instancetype = int(kind_text)
    if instancetype == _MASTER:
        return None
    kind = _KINDS.get(instancetype)
    if kind is None:
        raise ValueError(f"instancetype {instancetype}")
    if _DTSTART not in props or _DTEND not in props:
        raise ValueError("no dtstart or dtend")
    start = parse_dav_time(*props[_DTSTART])
    end = parse_dav_time(*props[_DTEND])
    item_id = row.href
    if kind != "single":
        original = props.get(_RECURRENCEID)
        instant = parse_dav_time(*original) if original and original[0].strip() else start
        item_id = f"{row.href}#{instant:%Y%m%dT%H%M%SZ}"
    busy = props.get(_BUSY, ("", None))[0].strip()
    flags = _integer(props, _STATE_FLAGS)
    is_meeting = bool(flags & _ASF_MEETING)
    status = props.get(_MEETING_STATUS, ("", None))[0].strip().upper()
    return Appointment(
        id=item_id,
        subject=props.get(_SUBJECT, ("", None))[0],
        start=start,
        end=end,
        all_day=props.get(_ALLDAY, ("0", None))[0].strip().lower() in ("1", "true"),
        created=_first_time(props, _CREATED),
        modified=_first_time(props, _MODIFIED),
        kind=kind,
        busy_status=busy or None,  # as Exchange spells it: FREE, TENTATIVE, BUSY, OUTOFOFFICE
        is_meeting=is_meeting,
        response=_RESPONSES.get(_integer(props, _RESPONSE_STATUS)) if is_meeting else None,
        cancelled=bool(flags & _ASF_CANCELED) or status == "CANCELLED",
    )


def _integer(props: dict[str, tuple[str, str | None]], name: str) -> int:
    """An integer property; 0 when absent or not a number."""
    text = props.get(name, ("", None))[0].strip()
    return int(text) if text.lstrip("-").isdigit() else 0


def _first_time(
    props: dict[str, tuple[str, str | None]], names: tuple[str, ...]
) -> datetime | None:
    for name in names:
        value = props.get(name)
        if value is not None and value[0].strip():
            return parse_dav_time(*value)
    return None


_CONTENT_RANGE = re.compile(
    r"\s*rows\s+(\d+)\s*-\s*(\d+)\s*(?:;\s*total\s*=\s*(\d+)|/\s*(\d+|\*))?\s*", re.IGNORECASE
)


def parse_content_range(header: str | None) -> tuple[int, int, int | None] | None:
    """``Content-Range: rows 0-199; total=250`` as ``(first, last, total)``."""
    match = _CONTENT_RANGE.fullmatch(header or "")
    if match is None:
        return None
    total = match.group(3) or match.group(4)
    return (
        int(match.group(1)),
        int(match.group(2)),
        int(total) if total and total.isdigit() else None,
    )
