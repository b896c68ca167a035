"""Capture over EWS: read one mailbox's calendar as Exchange 2007 holds it, read-only.

Only FindItem and GetItem, through ExchangeImpersonation like the engine's polls:

1. FindItem with a CalendarView over the window (at most two years per request,
   as 2007 refuses more; a view cut at MaxEntriesReturned is split in halves):
   singles, occurrences and exceptions.
2. For each series seen, GetItem with a RecurringMasterItemId: the master with its
   Recurrence, ModifiedOccurrences, DeletedOccurrences, TimeZone and (where the
   server sends it) the MeetingTimeZone definition.
3. GetItem on the modified occurrences for their subject, location, busy status
   and last-modified stamp.

Answers are parsed with the engine's hardened parser (no DTD, no entities) and
failures classified as the engine's polls classify them (``SourceError``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Final

import httpx
from lxml import etree

from integration.capture.model import (
    DAY_NAMES,
    CapturedAppointment,
    CapturedException,
    CapturedMailbox,
    CapturedRecurrence,
    CapturedZone,
    CaptureError,
    YearlyChange,
    ZoneDefinition,
    busy_status,
)
from integration.http import exchange_client, transport_failure
from integration.sources.base import SourceProtocolError
from integration.sources.ews import (
    NS_M,
    NS_SOAP,
    NS_T,
    EwsCalendarSource,
    classify,
    ews_headers,
    fault_error,
    parse_time,
    parse_xml,
    soap_payload,
)

NS = {"m": NS_M, "t": NS_T}
MAX_VIEW: Final = timedelta(days=700)  # 2007: ErrorCalendarViewRangeTooBig beyond two years
MAX_ENTRIES: Final = 500
MIN_SPLIT: Final = timedelta(hours=1)
GET_BATCH: Final = 50
ROW_FIELDS: Final = (
    "item:Subject",
    "calendar:Start",
    "calendar:End",
    "calendar:IsAllDayEvent",
    "calendar:CalendarItemType",
    "calendar:LegacyFreeBusyStatus",
    "calendar:Location",
    "item:DateTimeCreated",
    "item:LastModifiedTime",
    "calendar:TimeZone",
    "item:Culture",
)
MASTER_FIELDS: Final = (
    *ROW_FIELDS,
    "calendar:Recurrence",
    "calendar:ModifiedOccurrences",
    "calendar:DeletedOccurrences",
    "calendar:MeetingTimeZone",
)
_DURATION = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?)?")
_DAYS = {name.capitalize(): name for name in DAY_NAMES} | {
    "Day": "day",
    "Weekday": "weekday",
    "WeekendDay": "weekend_day",
}
_INDEXES = {"First": "first", "Second": "second", "Third": "third", "Fourth": "fourth"}
_INDEXES["Last"] = "last"
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _q(local: str) -> str:
    return f"{{{NS_T}}}{local}"


def _esc(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _envelope(mailbox: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:m="{NS_M}" xmlns:t="{NS_T}"><s:Header>'
        '<t:RequestServerVersion Version="Exchange2007_SP1"/>'
        "<t:ExchangeImpersonation><t:ConnectingSID>"
        f"<t:PrimarySmtpAddress>{_esc(mailbox)}</t:PrimarySmtpAddress>"
        "</t:ConnectingSID></t:ExchangeImpersonation></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _shape(fields: Iterable[str]) -> str:
    paths = "".join(f'<t:FieldURI FieldURI="{f}"/>' for f in fields)
    return (
        "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        f"<t:AdditionalProperties>{paths}</t:AdditionalProperties></m:ItemShape>"
    )


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(item: etree._Element, name: str) -> str | None:
    found = item.find(_q(name))
    return None if found is None else (found.text or "")


def _duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise CaptureError(f"not a duration: {text!r}")
    sign, days, hours, minutes, seconds = match.groups()
    span = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    return -span if sign else span


class EwsCapture:
    """Reads calendars for a capture with one service account (impersonating)."""

    def __init__(self, source: EwsCalendarSource, client: httpx.AsyncClient) -> None:
        self.source = source
        self._client = client

    @classmethod
    def open(cls, server_url: str, username: str, password: str, **tls: object) -> EwsCapture:
        source = EwsCalendarSource(server_url, username, password, **tls)  # type: ignore[arg-type]
        client = exchange_client(
            headers=ews_headers(username, password),
            timeout=source.timeout,
            connections=4,
            verify=tls.get("verify", True),  # type: ignore[arg-type]
            ca_file=tls.get("ca_file"),  # type: ignore[arg-type]
        )
        return cls(source, client)

    async def aclose(self) -> None:
        await self._client.aclose()
        await self.source.aclose()

    # ------------------------------------------------------------------ HTTP
    async def _call(self, mailbox: str, body: str, response: str) -> list[etree._Element]:
        """The response messages of one request, errors raised as the engine's."""
        try:
            answer = await self._client.post(
                self.source.server_url, content=_envelope(mailbox, body)
            )
        except httpx.TransportError as exc:
            raise transport_failure(
                exc, self.source.server_url, self.source.timeout, mailbox
            ) from None
        if answer.status_code != 200:
            # The engine's reading of a refused or failed request (401, a SOAP Fault, ...).
            self.source._interpret(answer, mailbox)
            raise SourceProtocolError(f"HTTP {answer.status_code}", mailbox=mailbox)
        payload = soap_payload(parse_xml(answer.content, mailbox), mailbox)
        if payload.tag == f"{{{NS_SOAP}}}Fault":
            raise fault_error(payload, mailbox)
        if payload.tag != f"{{{NS_M}}}{response}":
            raise SourceProtocolError(f"unexpected answer <{payload.tag}>", mailbox=mailbox)
        messages = payload.findall("m:ResponseMessages/*", NS)
        for message in messages:
            if message.get("ResponseClass") == "Error":
                code = (message.findtext("m:ResponseCode", namespaces=NS) or "Error").strip()
                text = (message.findtext("m:MessageText", namespaces=NS) or code).strip()
                raise classify(code, text, mailbox, None)
        return messages

    # ------------------------------------------------------------------ reads
    async def _view(self, mailbox: str, start: datetime, end: datetime) -> list[etree._Element]:
        body = (
            f'<m:FindItem Traversal="Shallow">{_shape(ROW_FIELDS)}'
            f'<m:CalendarView MaxEntriesReturned="{MAX_ENTRIES}" StartDate="{_stamp(start)}" '
            f'EndDate="{_stamp(end)}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar">'
            f"<t:Mailbox><t:EmailAddress>{_esc(mailbox)}</t:EmailAddress></t:Mailbox>"
            "</t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"
        )
        [message] = await self._call(mailbox, body, "FindItemResponse")
        root = message.find("m:RootFolder", NS)
        if root is None:
            raise SourceProtocolError("FindItemResponse without a RootFolder", mailbox=mailbox)
        items = root.findall("t:Items/t:CalendarItem", NS)
        if root.get("IncludesLastItemInRange", "true") == "false":
            if end - start <= MIN_SPLIT:
                raise CaptureError(
                    f"{mailbox}: more than {MAX_ENTRIES} appointments within an hour at "
                    f"{_stamp(start)}; the calendar cannot be captured completely"
                )
            middle = start + (end - start) / 2
            return await self._view(mailbox, start, middle) + await self._view(mailbox, middle, end)
        return items

    async def _get(
        self, mailbox: str, ids: list[str], fields: Iterable[str]
    ) -> list[etree._Element]:
        items: list[etree._Element] = []
        for first in range(0, len(ids), GET_BATCH):
            batch = "".join(ids[first : first + GET_BATCH])
            body = f"<m:GetItem>{_shape(fields)}<m:ItemIds>{batch}</m:ItemIds></m:GetItem>"
            for message in await self._call(mailbox, body, "GetItemResponse"):
                items.extend(message.findall("m:Items/t:CalendarItem", NS))
        return items

    async def mailbox(self, mailbox: str, start: datetime, end: datetime) -> CapturedMailbox:
        """Everything of ``mailbox``'s calendar that shows in ``[start, end)``."""
        rows: list[etree._Element] = []
        cursor = start
        while cursor < end:
            upper = min(end, cursor + MAX_VIEW)
            rows.extend(await self._view(mailbox, cursor, upper))
            cursor = upper
        found = CapturedMailbox(address=mailbox)
        seen: set[str] = set()
        series: dict[str, str] = {}  # occurrence id of each series seen (one per master)
        for row in rows:
            item_id = row.find("t:ItemId", NS)
            if item_id is None:
                continue
            culture = _text(row, "Culture")
            if culture and found.language is None:
                found.language = culture.split("-")[0].lower()
            kind = (_text(row, "CalendarItemType") or "Single").strip()
            if kind == "Single":
                if item_id.get("Id") not in seen:
                    seen.add(item_id.get("Id") or "")
                    found.appointments.append(_single(row))
            elif kind in ("Occurrence", "Exception"):
                series.setdefault(item_id.get("Id") or "", kind)
        masters: dict[str, etree._Element] = {}
        for occurrence in series:
            ref = f'<t:RecurringMasterItemId OccurrenceId="{_esc(occurrence)}"/>'
            for master in await self._get(mailbox, [ref], MASTER_FIELDS):
                master_id = master.find("t:ItemId", NS)
                key = master_id.get("Id") if master_id is not None else occurrence
                masters.setdefault(key or occurrence, master)
        for master in masters.values():
            found.appointments.append(await self._series(mailbox, master))
        found.appointments.sort(key=lambda a: (str(a.start), a.subject))
        return found

    async def _series(self, mailbox: str, master: etree._Element) -> CapturedAppointment:
        appointment = _single(master)
        recurrence = master.find("t:Recurrence", NS)
        if recurrence is None:
            raise CaptureError(f"{mailbox}: a recurring master without a Recurrence")
        appointment.recurrence = _recurrence(recurrence)
        appointment.zone = _zone(master)
        appointment.deleted = [
            parse_time(e.text or "")
            for e in master.iterfind("t:DeletedOccurrences/t:DeletedOccurrence/t:Start", NS)
        ]
        modified = master.findall("t:ModifiedOccurrences/t:Occurrence", NS)
        refs = [
            f'<t:ItemId Id="{_esc(ref.get("Id") or "")}"/>'
            for e in modified
            if (ref := e.find("t:ItemId", NS)) is not None
        ]
        details = {
            (ident.get("Id") if (ident := e.find("t:ItemId", NS)) is not None else ""): e
            for e in await self._get(mailbox, refs, ROW_FIELDS)
        }
        for entry in modified:
            ref = entry.find("t:ItemId", NS)
            detail = details.get(ref.get("Id") if ref is not None else "")
            appointment.exceptions.append(_exception(entry, detail, appointment))
        return appointment


def _single(row: etree._Element) -> CapturedAppointment:
    start, end = _text(row, "Start"), _text(row, "End")
    if not start or not end:
        raise CaptureError("a calendar item without Start or End")
    zone_name = _text(row, "TimeZone")
    created, modified = _text(row, "DateTimeCreated"), _text(row, "LastModifiedTime")
    item_id = row.find("t:ItemId", NS)
    return CapturedAppointment(
        subject=_text(row, "Subject") or "",
        start=parse_time(start),
        end=parse_time(end),
        all_day=(_text(row, "IsAllDayEvent") or "").strip() in ("true", "1"),
        busy_status=busy_status(_text(row, "LegacyFreeBusyStatus")),
        location=_text(row, "Location") or "",
        created=parse_time(created) if created else None,
        modified=parse_time(modified) if modified else None,
        zone=CapturedZone(zone_name) if zone_name else None,
        source=item_id.get("Id", "") if item_id is not None else "",
    )


def _exception(
    entry: etree._Element, detail: etree._Element | None, master: CapturedAppointment
) -> CapturedException:
    original = _text(entry, "OriginalStart") or _text(entry, "Start") or ""
    start, end = _text(entry, "Start"), _text(entry, "End")
    change = CapturedException(
        original_start=parse_time(original),
        start=parse_time(start) if start else None,
        end=parse_time(end) if end else None,
    )
    if detail is not None:
        subject = _text(detail, "Subject")
        location = _text(detail, "Location")
        busy = _text(detail, "LegacyFreeBusyStatus")
        stamp = _text(detail, "LastModifiedTime")
        change.subject = subject if subject is not None and subject != master.subject else None
        change.location = location if location is not None and location != master.location else None
        if busy is not None and busy_status(busy) != master.busy_status:
            change.busy_status = busy_status(busy)
        change.modified = parse_time(stamp) if stamp else None
    return change


def _recurrence(element: etree._Element) -> CapturedRecurrence:
    children = [c for c in element if isinstance(c.tag, str)]
    if len(children) != 2:
        raise CaptureError("a Recurrence is a pattern and a range")
    pattern, bounds = children
    name = etree.QName(pattern).localname
    kinds = {
        "DailyRecurrence": "daily",
        "WeeklyRecurrence": "weekly",
        "AbsoluteMonthlyRecurrence": "monthly",
        "RelativeMonthlyRecurrence": "monthly",
        "AbsoluteYearlyRecurrence": "yearly",
        "RelativeYearlyRecurrence": "yearly",
    }
    if name not in kinds:
        raise CaptureError(f"unknown recurrence pattern {name}")
    interval = _text(pattern, "Interval")
    days = (_text(pattern, "DaysOfWeek") or "").split()
    index = _text(pattern, "DayOfWeekIndex")
    day = _text(pattern, "DayOfMonth")
    month = _text(pattern, "Month")
    count = _text(bounds, "NumberOfOccurrences")
    until = _text(bounds, "EndDate")
    return CapturedRecurrence(
        pattern=kinds[name],
        interval=int(interval) if interval else 1,
        days=tuple(_DAYS[d] for d in days if d in _DAYS),
        day_of_month=int(day) if day else None,
        week_index=_INDEXES.get((index or "").strip()) if index else None,
        month=_MONTHS.index(month.strip()) + 1 if month and month.strip() in _MONTHS else None,
        count=int(count) if count else None,
        until=datetime.fromisoformat(until.strip()[:10]).date() if until else None,
    )


def _change(element: etree._Element | None) -> tuple[timedelta, YearlyChange | None]:
    if element is None:
        return timedelta(0), None
    offset = _duration(_text(element, "Offset") or "PT0M")
    rule = element.find("t:RelativeYearlyRecurrence", NS)
    clock = (_text(element, "Time") or "00:00:00").strip()[:8]
    if rule is None:
        return offset, None
    day = (_text(rule, "DaysOfWeek") or "").strip()
    index = (_text(rule, "DayOfWeekIndex") or "").strip()
    month = (_text(rule, "Month") or "").strip()
    if day not in _DAYS or index not in _INDEXES or month not in _MONTHS:
        return offset, None
    week = list(_INDEXES).index(index) + 1
    return offset, YearlyChange(
        _MONTHS.index(month) + 1, week, DAY_NAMES.index(_DAYS[day]), time.fromisoformat(clock)
    )


def _zone(master: etree._Element) -> CapturedZone | None:
    """The series' zone: the TimeZone name and, when sent, the MeetingTimeZone rules."""
    name = _text(master, "TimeZone")
    meeting = master.find("t:MeetingTimeZone", NS)
    if meeting is None or meeting.find("t:BaseOffset", NS) is None:
        return CapturedZone(name) if name else None
    bias = _duration(_text(meeting, "BaseOffset") or "PT0M")
    standard_bias, ends = _change(meeting.find("t:Standard", NS))
    daylight_bias, starts = _change(meeting.find("t:Daylight", NS))
    label = meeting.get("TimeZoneName") or name or ""
    if starts is None or ends is None or standard_bias == daylight_bias:
        return CapturedZone(label, ZoneDefinition(-(bias + standard_bias)))
    return CapturedZone(
        label,
        ZoneDefinition(-(bias + standard_bias), -(bias + daylight_bias), starts, ends),
    )


__all__ = ["EwsCapture"]
