"""Capture over WebDAV: read one mailbox's calendar as Exchange 2007 holds it, read-only.

Only PROPFIND, SEARCH and GET, with the service account's FullAccess and the engine's
log-in (Basic or OWA forms, ``WebDavCalendarSource``):

1. PROPFIND of the mailbox root for its calendar folder (localised: ``Kalender``
   tells a German mailbox).
2. SEARCH of the folder bounded by the window: singles (instancetype 0) and the
   instances of series (2, 3) with their UID.
3. SEARCH for the recurring masters (instancetype 1), and for each series seen in
   the window a GET with ``Translate: f`` of the master: its iCalendar holds the
   RRULE, EXDATE, the modified occurrences (RECURRENCE-ID) and the VTIMEZONE of
   the definition stored with the series (parsed by ``capture.ical``).
"""

from __future__ import annotations

import email
from datetime import datetime
from typing import Final
from urllib.parse import unquote, urlsplit

from integration.capture.ical import parse_calendar
from integration.capture.model import (
    CapturedAppointment,
    CapturedMailbox,
    CapturedZone,
    CaptureError,
    busy_status,
)
from integration.sources.base import SourceProtocolError
from integration.sources.webdav import WebDavCalendarSource
from integration.sources.webdav_xml import DavRow, parse_dav_time, parse_multistatus, sql_date

PAGE: Final = 500
MAX_PAGES: Final = 200
CALENDAR: Final = "urn:schemas:calendar:"
HTTPMAIL: Final = "urn:schemas:httpmail:"
PROPS: Final = (
    "DAV:href",
    f"{HTTPMAIL}subject",
    f"{CALENDAR}dtstart",
    f"{CALENDAR}dtend",
    f"{CALENDAR}instancetype",
    f"{CALENDAR}busystatus",
    f"{CALENDAR}alldayevent",
    f"{CALENDAR}location",
    f"{CALENDAR}uid",
    f"{CALENDAR}created",
    f"{CALENDAR}lastmodified",
    f"{CALENDAR}timezone",
)
GERMAN_CALENDAR = "kalender"


def _prop(row: DavRow, name: str) -> str | None:
    ns, local = (name[:4], name[4:]) if name.startswith("DAV:") else name.rsplit(":", 1)
    key = f"{{{ns}}}{local}" if name.startswith("DAV:") else f"{{{ns}:}}{local}"
    found = row.props.get(key)
    return None if found is None else found[0]


def _xml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _search_body(scope: str, where: str) -> bytes:
    columns = ", ".join(f'"{p}"' for p in PROPS)
    quoted = scope.replace("'", "''")  # inside a SQL string literal
    sql = (
        f"SELECT {columns} FROM Scope('SHALLOW TRAVERSAL OF \"{quoted}\"') "
        f"WHERE \"DAV:contentclass\" = 'urn:content-classes:appointment' AND {where}"
    )
    return (
        '<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:"><g:sql>'
        f"{_xml(sql)}</g:sql></g:searchrequest>"
    ).encode()


class WebDavCapture:
    """Reads calendars for a capture with the service account's FullAccess."""

    def __init__(self, source: WebDavCalendarSource) -> None:
        self.source = source

    async def aclose(self) -> None:
        await self.source.aclose()

    async def _search(self, mailbox: str, url: str, body: bytes) -> list[DavRow]:
        rows: list[DavRow] = []
        first = 0
        for _ in range(MAX_PAGES):
            headers = {
                "Content-Type": 'text/xml; charset="utf-8"',
                "Range": f"rows={first}-{first + PAGE - 1}",
            }
            response = await self.source._request("SEARCH", url, mailbox, body, headers)
            if response.status_code == 416 and first > 0:
                break
            if response.status_code not in (206, 207):
                raise self.source._mailbox_error(response, mailbox, f"SEARCH {url}")
            page = parse_multistatus(response.content, mailbox)
            rows.extend(page)
            if len(page) < PAGE:
                break
            first += PAGE
        else:
            raise CaptureError(f"{mailbox}: more than {PAGE * MAX_PAGES} rows in the window")
        return rows

    async def _master(self, mailbox: str, href: str) -> CapturedAppointment:
        url = href if "://" in href else self.source._origin + href
        response = await self.source._request("GET", url, mailbox, b"", {"Translate": "f"})
        if response.status_code != 200:
            raise self.source._mailbox_error(response, mailbox, f"GET {href}")
        message = email.message_from_bytes(response.content)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                if not isinstance(payload, bytes):
                    break
                charset = part.get_content_charset() or "utf-8"
                found = parse_calendar(payload.decode(charset, "replace"), href)
                series = [a for a in found if a.recurrence is not None]
                if series:
                    series[0].source = href
                    return series[0]
        raise SourceProtocolError(f"GET {href}: no recurring VEVENT in the item", mailbox=mailbox)

    async def mailbox(self, mailbox: str, start: datetime, end: datetime) -> CapturedMailbox:
        """Everything of ``mailbox``'s calendar that shows in ``[start, end)``."""
        folder = await self.source.calendar_folder(mailbox)
        scope = unquote(urlsplit(folder).path)
        name = scope.rstrip("/").rsplit("/", 1)[-1].lower()
        found = CapturedMailbox(address=mailbox, language="de" if name == GERMAN_CALENDAR else None)
        window = (
            f'NOT "{CALENDAR}instancetype" = 1 AND "{CALENDAR}dtstart" < '
            f"'{sql_date(end).decode()}' AND \"{CALENDAR}dtend\" > '{sql_date(start).decode()}'"
        )
        rows = await self._search(mailbox, folder, _search_body(scope, window))
        wanted: set[str] = set()
        for row in rows:
            kind = (_prop(row, f"{CALENDAR}instancetype") or "0").strip()
            if kind == "0":
                found.appointments.append(_single(row))
            elif kind in ("2", "3"):
                wanted.add((_prop(row, f"{CALENDAR}uid") or "").strip())
        if wanted:
            masters = await self._search(
                mailbox, folder, _search_body(scope, f'"{CALENDAR}instancetype" = 1')
            )
            for row in masters:
                if (_prop(row, f"{CALENDAR}uid") or "").strip() in wanted:
                    found.appointments.append(await self._master(mailbox, row.href))
        found.appointments.sort(key=lambda a: (str(a.start), a.subject))
        return found


def _time(row: DavRow, name: str) -> datetime | None:
    text = _prop(row, name)
    if not text:
        return None
    return parse_dav_time(text)


def _single(row: DavRow) -> CapturedAppointment:
    start, end = _time(row, f"{CALENDAR}dtstart"), _time(row, f"{CALENDAR}dtend")
    if start is None or end is None:
        raise SourceProtocolError(f"{row.href}: an appointment without dtstart or dtend")
    all_day = (_prop(row, f"{CALENDAR}alldayevent") or "0").strip().lower() in ("1", "true")
    return CapturedAppointment(
        subject=_prop(row, f"{HTTPMAIL}subject") or "",
        start=start,
        end=end,
        all_day=all_day,
        busy_status=busy_status(_prop(row, f"{CALENDAR}busystatus")),
        location=_prop(row, f"{CALENDAR}location") or "",
        created=_time(row, f"{CALENDAR}created"),
        modified=_time(row, f"{CALENDAR}lastmodified"),
        zone=_zone_name(row),
        source=row.href,
    )


def _zone_name(row: DavRow) -> CapturedZone | None:
    """The TZID of the item's VTIMEZONE (``urn:schemas:calendar:timezone``), if any."""
    for line in (_prop(row, f"{CALENDAR}timezone") or "").splitlines():
        if line.upper().startswith("TZID:") and line[5:].strip():
            return CapturedZone(line[5:].strip())
    return None


__all__ = ["WebDavCapture"]
