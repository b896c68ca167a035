"""Items as the MIME Exchange returns for ``GET`` with ``Translate: f``.

An appointment is a ``multipart/alternative`` message whose ``text/calendar`` part
holds a VCALENDAR: the VEVENT of a single in UTC; for a recurring master the VEVENT
in its own time zone (with a VTIMEZONE built from the IANA rules, or spelling out the
series' stored definition) carrying RRULE and
EXDATE, followed by one VEVENT with RECURRENCE-ID per modified occurrence. Exchange's
``X-MICROSOFT-CDO-*`` properties carry busy status, all-day flag and instance type.
Contacts and messages are plain RFC 822 messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from simulators.exchange.model import CalendarItem, Contact, Item, Message
from simulators.exchange.recurrence import Recurrence, localize
from simulators.exchange.tzrules import YearlyChange, ZoneRules, zone_label

_FREQ = {"daily": "DAILY", "weekly": "WEEKLY"}
_DAYS = {
    "Monday": "MO",
    "Tuesday": "TU",
    "Wednesday": "WE",
    "Thursday": "TH",
    "Friday": "FR",
    "Saturday": "SA",
    "Sunday": "SU",
}
_GROUPS = {
    "Day": ("SU", "MO", "TU", "WE", "TH", "FR", "SA"),
    "Weekday": ("MO", "TU", "WE", "TH", "FR"),
    "WeekendDay": ("SU", "SA"),
}
_SETPOS = {"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}
_BUSY = {"Free": "FREE", "Tentative": "TENTATIVE", "Busy": "BUSY", "OOF": "OUTOFOFFICE"}
BOUNDARY = "----_=_NextPart_001_01C8F2A3.5D2B7E40"


def appointment_rrule(item: CalendarItem) -> str:
    """The series' pattern as an iCalendar RRULE value (no 'RRULE:' prefix)."""
    rec = item.recurrence
    assert rec is not None
    return rrule_value(rec, item.zone, item.start)


def rrule_value(rec: Recurrence, zone: tzinfo, first_start: datetime) -> str:
    freq = _FREQ.get(rec.pattern) or ("MONTHLY" if "monthly" in rec.pattern else "YEARLY")
    parts = [f"FREQ={freq}", f"INTERVAL={rec.interval}"]
    if rec.days_of_week:
        days: list[str] = []
        for name in rec.days_of_week:
            days.extend(_GROUPS.get(name, (_DAYS.get(name, ""),)))
        parts.append("BYDAY=" + ",".join(d for d in days if d))
    if rec.day_of_month:
        parts.append(f"BYMONTHDAY={rec.day_of_month}")
    if rec.week_index:
        parts.append(f"BYSETPOS={_SETPOS[rec.week_index]}")
    if rec.month:
        parts.append(f"BYMONTH={rec.month}")
    if rec.count is not None:
        parts.append(f"COUNT={rec.count}")
    elif rec.end_date is not None:
        local_start = first_start.astimezone(zone).time()
        until = localize(datetime.combine(rec.end_date, local_start), zone)
        parts.append("UNTIL=" + until.strftime("%Y%m%dT%H%M%SZ"))
    parts.append("WKST=SU")
    return ";".join(parts)


def deleted_starts(item: CalendarItem) -> list[datetime]:
    """UTC original starts of the deleted occurrences of a series, in order."""
    zone = item.zone
    local_start = item.start.astimezone(zone).time()
    return [localize(datetime.combine(day, local_start), zone) for day in sorted(item.deleted)]


# ------------------------------------------------------------------ iCalendar text
def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    pieces: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = char, width, 74
        else:
            current += char
            size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def tzid(zone: tzinfo) -> str:
    """The TZID of a zone, quoted where RFC 5545 needs it (a definition's name like
    ``(GMT-05:00) Eastern Time`` holds a colon)."""
    label = zone_label(zone).replace('"', "'")
    return f'"{label}"' if any(c in label for c in ":;,") else label


def _change_lines(
    kind: str, change: YearlyChange, before: timedelta, after: timedelta
) -> list[str]:
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[change.weekday]
    week = "-1" if change.week == 5 else str(change.week)
    start = datetime(1601, change.month, 1, change.at.hour, change.at.minute, change.at.second)
    return [
        f"BEGIN:{kind}",
        "DTSTART:" + start.strftime("%Y%m%dT%H%M%S"),
        f"RRULE:FREQ=YEARLY;BYMONTH={change.month};BYDAY={week}{weekday}",
        f"TZOFFSETFROM:{_offset(before)}",
        f"TZOFFSETTO:{_offset(after)}",
        f"END:{kind}",
    ]


def vtimezone_rules(rules: ZoneRules) -> list[str]:
    """A VTIMEZONE spelling out a stored definition (its yearly rules as written)."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{_escape(rules.name)}"]  # a value: never quoted
    standard, daylight = rules.standard_offset, rules.daylight_offset
    if rules.daylight_starts is None or rules.daylight_ends is None or daylight is None:
        offset = _offset(standard)
        lines += ["BEGIN:STANDARD", "DTSTART:16010101T000000"]
        lines += [f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}", "END:STANDARD"]
    else:
        lines += _change_lines("STANDARD", rules.daylight_ends, daylight, standard)
        lines += _change_lines("DAYLIGHT", rules.daylight_starts, standard, daylight)
    return [*lines, "END:VTIMEZONE"]


def series_vtimezone(item: CalendarItem) -> list[str]:
    """The VTIMEZONE of an item's zone: its stored definition, else its IANA zone."""
    if item.time_zone_rules is not None:
        return vtimezone_rules(item.time_zone_rules)
    return vtimezone(ZoneInfo(item.time_zone), item.start.year)


def vtimezone(zone: ZoneInfo, year: int) -> list[str]:
    """A VTIMEZONE for ``zone`` from its transitions in ``year`` (yearly rules)."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]
    start = datetime(year, 1, 1, tzinfo=UTC)
    transitions: list[tuple[datetime, timedelta, timedelta, bool]] = []
    previous = start.astimezone(zone)
    for hour in range(1, 366 * 24):
        moment = (start + timedelta(hours=hour)).astimezone(zone)
        if moment.utcoffset() != previous.utcoffset():
            before = previous.utcoffset() or timedelta()
            after = moment.utcoffset() or timedelta()
            wall = (start + timedelta(hours=hour)).replace(tzinfo=None) + before
            transitions.append((wall, before, after, bool(moment.dst())))
        previous = moment
    if not transitions:
        offset = _offset(start.astimezone(zone).utcoffset())
        lines += ["BEGIN:STANDARD", "DTSTART:16010101T000000"]
        lines += [f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}", "END:STANDARD"]
    for wall, before, after, is_dst in transitions:
        kind = "DAYLIGHT" if is_dst else "STANDARD"
        week = (wall.day - 1) // 7 + 1
        last = (wall + timedelta(days=7)).month != wall.month
        weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[wall.weekday()]
        byday = f"{'-1' if last else week}{weekday}"
        lines += [
            f"BEGIN:{kind}",
            "DTSTART:1601" + wall.strftime("%m%dT%H%M%S"),
            f"RRULE:FREQ=YEARLY;BYMONTH={wall.month};BYDAY={byday}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after)}",
            f"END:{kind}",
        ]
    return [*lines, "END:VTIMEZONE"]


def _event_lines(item: CalendarItem) -> list[str]:
    stamp = _utc(item.modified)
    common = [
        f"UID:{item.uid}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{_utc(item.created)}",
        f"LAST-MODIFIED:{stamp}",
        "CLASS:PUBLIC",
        "PRIORITY:5",
        "SEQUENCE:0",
        f"X-MICROSOFT-CDO-ALLDAYEVENT:{'TRUE' if item.all_day else 'FALSE'}",
    ]
    if item.organizer:
        common.append(f"ORGANIZER:MAILTO:{item.organizer}")
    if item.recurrence is None:
        busy = _BUSY.get(item.busy_status, "BUSY")
        return [
            "BEGIN:VEVENT",
            *common,
            f"DTSTART:{_utc(item.start)}",
            f"DTEND:{_utc(item.end)}",
            f"SUMMARY:{_escape(item.subject)}",
            f"LOCATION:{_escape(item.location)}",
            f"TRANSP:{'TRANSPARENT' if busy == 'FREE' else 'OPAQUE'}",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{busy}",
            "X-MICROSOFT-CDO-INSTTYPE:0",
            "END:VEVENT",
        ]
    zone = item.zone
    tz = f"TZID={tzid(zone)}"
    busy = _BUSY.get(item.busy_status, "BUSY")
    lines = [
        "BEGIN:VEVENT",
        *common,
        f"DTSTART;{tz}:{_local(item.start, zone)}",
        f"DTEND;{tz}:{_local(item.end, zone)}",
        f"RRULE:{appointment_rrule(item)}",
    ]
    lines += [f"EXDATE;{tz}:{_local(s, zone)}" for s in deleted_starts(item)]
    lines += [
        f"SUMMARY:{_escape(item.subject)}",
        f"LOCATION:{_escape(item.location)}",
        f"TRANSP:{'TRANSPARENT' if busy == 'FREE' else 'OPAQUE'}",
        f"X-MICROSOFT-CDO-BUSYSTATUS:{busy}",
        "X-MICROSOFT-CDO-INSTTYPE:1",
        "END:VEVENT",
    ]
    local_start = item.start.astimezone(zone).time()
    duration = item.end - item.start
    for day, change in sorted(item.exceptions.items()):
        original = localize(datetime.combine(day, local_start), zone)
        start = change.start or original
        end = change.end or start + duration
        status = _BUSY.get(change.busy_status or item.busy_status, "BUSY")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.uid}",
            f"RECURRENCE-ID;{tz}:{_local(original, zone)}",
            f"DTSTAMP:{_utc(change.modified or item.modified)}",
            f"DTSTART;{tz}:{_local(start, zone)}",
            f"DTEND;{tz}:{_local(end, zone)}",
            f"SUMMARY:{_escape(change.subject if change.subject is not None else item.subject)}",
            f"LOCATION:{_escape(change.location if change.location is not None else item.location)}",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{status}",
            "X-MICROSOFT-CDO-INSTTYPE:3",
            "END:VEVENT",
        ]
    return lines


def calendar_text(item: CalendarItem) -> str:
    """The item as a VCALENDAR (CRLF line ends, folded)."""
    lines = ["BEGIN:VCALENDAR", "METHOD:PUBLISH", "PRODID:Microsoft CDO for Microsoft Exchange"]
    lines.append("VERSION:2.0")
    # Exchange writes the item's time zone even for a single (whose times are UTC
    # here); a series' is its stored definition when it has one.
    lines += series_vtimezone(item)
    lines += _event_lines(item)
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _headers(subject: str, sender: str, stamp: datetime, content_class: str) -> list[str]:
    return [
        f"From: {sender}" if sender else "From: <>",
        f"Subject: {subject}".replace("\r", " ").replace("\n", " "),
        f"Date: {format_datetime(stamp.astimezone(UTC), usegmt=True)}",
        f"Content-Class: {content_class}",
        "MIME-Version: 1.0",
    ]


def item_mime(item: Item) -> bytes:
    """The raw item as ``GET`` with ``Translate: f`` returns it."""
    if isinstance(item, Message) and item.mime:
        return item.mime
    if isinstance(item, CalendarItem):
        head = _headers(
            item.subject, item.organizer, item.created, "urn:content-classes:appointment"
        )
        parts = [
            *head,
            f'Content-Type: multipart/alternative; boundary="{BOUNDARY}"',
            "",
            "This is a multi-part message in MIME format.",
            "",
            f"--{BOUNDARY}",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit",
            "",
            item.body,
            "",
            f"--{BOUNDARY}",
            'Content-Type: text/calendar; method=PUBLISH; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit",
            "",
            calendar_text(item).rstrip("\r\n"),
            "",
            f"--{BOUNDARY}--",
            "",
        ]
        return "\r\n".join(parts).encode("utf-8")
    if isinstance(item, Contact):
        head = _headers(item.display_name, "", item.created, "urn:content-classes:person")
        body = [item.display_name, item.company, *item.emails, *item.phones.values()]
        text = "\r\n".join(b for b in body if b)
    else:
        head = _headers(item.subject, item.sender, item.created, "urn:content-classes:message")
        text = ""
    parts = [*head, 'Content-Type: text/plain; charset="utf-8"', "", text, ""]
    return "\r\n".join(parts).encode("utf-8")


__all__ = [
    "appointment_rrule",
    "calendar_text",
    "deleted_starts",
    "item_mime",
    "rrule_value",
    "series_vtimezone",
    "tzid",
    "vtimezone",
    "vtimezone_rules",
]
