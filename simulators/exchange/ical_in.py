"""Reading the iCalendar clients hand Exchange: EWS CreateItem MimeContent of a
calendar item, and WebDAV PUT of an event (bare text/calendar or a message/rfc822
with a text/calendar part).

``read_event(content, default_zone)`` gives the store fields of the series or single
(``EventData.fields``), its modified occurrences (VEVENTs with RECURRENCE-ID) and its
deleted ones (EXDATE). A TZID that is an IANA name is taken as is; any other TZID is
matched by its VTIMEZONE's offsets against the IANA zones (the default zone first),
so Outlook's "W. Europe Standard Time" and a client's own definitions both work.
Floating times are in the default zone. ``apply_event`` writes the data into a
calendar folder, new or over an existing item. Bad content is ``IcalError``.
"""

from __future__ import annotations

import email
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.policy import default as default_policy
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import tz as dateutil_tz

from simulators.exchange.model import CalendarItem, Folder
from simulators.exchange.recurrence import Recurrence, RecurrenceError, localize
from simulators.exchange.store_errors import StoreError

if TYPE_CHECKING:
    from simulators.exchange.store import ExchangeStore

BUSY = {
    "FREE": "Free",
    "TENTATIVE": "Tentative",
    "BUSY": "Busy",
    "OOF": "OOF",
    "OUTOFOFFICE": "OOF",
}
DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
WEEKDAY_SET = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
SET_POSITIONS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}
MAX_CONTENT = 1024 * 1024


class IcalError(ValueError):
    """Content that is not an iCalendar event this store can keep."""


@dataclass
class Line:
    name: str
    params: dict[str, str]
    value: str


@dataclass
class Component:
    name: str
    lines: list[Line] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def first(self, name: str) -> Line | None:
        return next((line for line in self.lines if line.name == name), None)

    def all(self, name: str) -> list[Line]:
        return [line for line in self.lines if line.name == name]

    def text(self, name: str) -> str | None:
        line = self.first(name)
        return None if line is None else unescape(line.value)


@dataclass
class EventData:
    """What one VCALENDAR holds: the item, its exceptions and deleted occurrences."""

    fields: dict[str, Any]
    exceptions: list[tuple[date, dict[str, Any]]] = field(default_factory=list)
    deleted: list[date] = field(default_factory=list)


# ------------------------------------------------------------------ lines
_PARAM = re.compile(r';([A-Za-z0-9-]+)=("(?:[^"]*)"|[^;:]*)')


def unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt in ("n", "N") else nxt)
        else:
            out.append(char)
    return "".join(out)


def parse_calendar(text: str) -> Component:
    """The VCALENDAR of ``text`` (content lines unfolded, components nested)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    root = Component("ROOT")
    stack = [root]
    for raw in unfolded.split("\n"):
        if not raw.strip():
            continue
        line = _line(raw)
        if line.name == "BEGIN":
            component = Component(line.value.strip().upper())
            stack[-1].children.append(component)
            stack.append(component)
        elif line.name == "END":
            if len(stack) == 1 or stack[-1].name != line.value.strip().upper():
                raise IcalError(f"END:{line.value} does not close BEGIN:{stack[-1].name}")
            stack.pop()
        else:
            stack[-1].lines.append(line)
    calendars = [c for c in root.children if c.name == "VCALENDAR"]
    if len(stack) != 1 or len(calendars) != 1:
        raise IcalError("the content is not one complete VCALENDAR")
    return calendars[0]


def _line(raw: str) -> Line:
    head_end = _value_start(raw)
    if head_end < 0:
        raise IcalError(f"not an iCalendar content line: {raw[:60]!r}")
    head, value = raw[:head_end], raw[head_end + 1 :]
    name, _, rest = head.partition(";")
    params = {k.upper(): v.strip('"') for k, v in _PARAM.findall(";" + rest)} if rest else {}
    return Line(name.strip().upper(), params, value)


def _value_start(raw: str) -> int:
    quoted = False
    for index, char in enumerate(raw):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return -1


# ------------------------------------------------------------------ time zones
@lru_cache(maxsize=64)
def _zone_named(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _samples(year: int) -> list[datetime]:
    return [datetime(year, month, day, 12, tzinfo=UTC) for month in range(1, 13) for day in (1, 15)]


def _matching_zone(definition: tzinfo, year: int, preferred: str) -> str | None:
    points = _samples(year)
    wanted = [definition.utcoffset(p.astimezone(definition).replace(tzinfo=None)) for p in points]
    # Zones of the big regions first, so CET reads as Europe/Amsterdam, not Africa/Ceuta.
    regions = ("Europe/", "America/", "Asia/", "Australia/")
    ordered = sorted(available_timezones(), key=lambda n: (not n.startswith(regions), n))
    candidates = [preferred, "UTC", *ordered]
    for name in candidates:
        zone = _zone_named(name)
        if zone is not None and [p.astimezone(zone).utcoffset() for p in points] == wanted:
            return name
    return None


class Zones:
    """The VTIMEZONEs of one calendar, resolved to IANA zone names."""

    def __init__(self, calendar: Component, text: str, default_zone: str) -> None:
        self.default = default_zone
        self._text = text if any(c.name == "VTIMEZONE" for c in calendar.children) else ""
        self._definitions: dict[str, tzinfo] | None = None
        self._names: dict[str | None, str] = {}

    def _defined(self) -> dict[str, tzinfo]:
        """The calendar's own VTIMEZONEs, read only when a TZID is not an IANA name."""
        if self._definitions is None:
            self._definitions = {}
            if self._text:
                try:
                    parsed = dateutil_tz.tzical(io.StringIO(_only_timezones(self._text)))
                    for key in parsed.keys():  # noqa: SIM118 (tzical is not a dict)
                        definition = parsed.get(key)
                        if definition is not None:
                            self._definitions[key] = definition
                except Exception as exc:  # dateutil raises many kinds on bad rules
                    raise IcalError(f"unreadable VTIMEZONE: {exc}") from None
        return self._definitions

    def name(self, tzid: str | None, year: int) -> str:
        if tzid is None:
            return self.default
        found = self._names.get(tzid)
        if found is None:
            windows = _windows_zone(tzid)
            if _zone_named(tzid) is not None:
                found = tzid
            elif windows is not None:
                found = windows
            elif tzid in self._defined():
                found = _matching_zone(self._defined()[tzid], year, self.default) or self.default
            else:
                found = self.default
            self._names[tzid] = found
        return found


def _windows_zone(tzid: str) -> str | None:
    """The IANA zone of an Exchange/Outlook (Windows) time zone name, if it is one."""
    from simulators.exchange.ews.timezones import iana_for  # the one table of the names

    return iana_for(tzid)


def _only_timezones(text: str) -> str:
    """The VTIMEZONE blocks of a calendar, for dateutil's tzical."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    blocks = re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", unfolded, re.S | re.I)
    return "\n".join(blocks) + "\n"


# ------------------------------------------------------------------ values
_DATE_TIME = re.compile(r"^(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)?(Z)?)?$")


def _moment(line: Line, zones: Zones) -> tuple[datetime, bool, str]:
    """(UTC instant, is a date, IANA zone) of a DTSTART-like property."""
    value = line.value.strip()
    match = _DATE_TIME.match(value)
    if not match:
        raise IcalError(f"{line.name}: {value!r} is not a date or date-time")
    year, month, day, hour, minute, second, utc = match.groups()
    zone_name = zones.name(line.params.get("TZID"), int(year))
    try:
        if hour is None or line.params.get("VALUE", "").upper() == "DATE":
            local = datetime(int(year), int(month), int(day))
            return localize(local, ZoneInfo(zone_name)), True, zone_name
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        raise IcalError(f"{line.name}: {value!r} is not a valid date") from None
    if utc:
        return local.replace(tzinfo=UTC), False, zone_name
    return localize(local, ZoneInfo(zone_name)), False, zone_name


_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise IcalError(f"DURATION: {value!r} is not a duration")
    sign, weeks, days, hours, minutes, seconds = match.groups()
    span = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    return -span if sign == "-" else span


def _busy(event: Component) -> str:
    cdo = (event.text("X-MICROSOFT-CDO-BUSYSTATUS") or "").strip().upper()
    if cdo in BUSY:
        return BUSY[cdo]
    if (event.text("TRANSP") or "").strip().upper() == "TRANSPARENT":
        return "Free"
    if (event.text("STATUS") or "").strip().upper() == "TENTATIVE":
        return "Tentative"
    return "Busy"


def _times(event: Component, zones: Zones) -> tuple[datetime, datetime, bool, str]:
    start_line = event.first("DTSTART")
    if start_line is None:
        raise IcalError("the VEVENT has no DTSTART")
    start, is_date, zone = _moment(start_line, zones)
    end_line = event.first("DTEND")
    if end_line is not None:
        end = _moment(end_line, zones)[0]
    elif event.first("DURATION") is not None:
        end = start + _duration(event.text("DURATION") or "")
    else:
        end = start + (timedelta(days=1) if is_date else timedelta())
    cdo_all_day = (event.text("X-MICROSOFT-CDO-ALLDAYEVENT") or "").strip().upper() == "TRUE"
    return start, end, is_date or cdo_all_day, zone


# ------------------------------------------------------------------ recurrence
def _rrule(value: str, start: datetime, zone: str) -> Recurrence:
    parts = dict(p.split("=", 1) for p in value.strip().split(";") if "=" in p)
    freq = parts.get("FREQ", "").upper()
    local = start.astimezone(ZoneInfo(zone))
    kwargs: dict[str, Any] = {
        "start_date": local.date(),
        "interval": int(parts.get("INTERVAL", "1")),
    }
    byday = [d.strip().upper() for d in parts.get("BYDAY", "").split(",") if d.strip()]
    setpos = parts.get("BYSETPOS")
    days: list[str] = []
    position: int | None = int(setpos) if setpos else None
    for entry in byday:
        match = re.match(r"^([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)$", entry)
        if not match:
            raise IcalError(f"RRULE BYDAY {entry!r} is not a day")
        if match.group(1):
            position = int(match.group(1))
        days.append(DAYS[match.group(2)])
    weekday = local.strftime("%A")
    if freq == "DAILY":
        if days:
            kwargs.update(pattern="weekly", days_of_week=tuple(days))
        else:
            kwargs.update(pattern="daily")
    elif freq == "WEEKLY":
        kwargs.update(pattern="weekly", days_of_week=tuple(days or [weekday]))
    elif freq in ("MONTHLY", "YEARLY"):
        yearly = freq == "YEARLY"
        if yearly:
            kwargs["month"] = int(parts.get("BYMONTH", str(local.month)))
        if days:
            if position not in SET_POSITIONS:
                raise IcalError(f"RRULE position {position} has no Exchange equivalent")
            group = "Weekday" if set(days) == WEEKDAY_SET else ("Day" if len(days) == 7 else None)
            kwargs.update(
                pattern="relative_yearly" if yearly else "relative_monthly",
                days_of_week=(group,) if group else tuple(days[:1]),
                week_index=SET_POSITIONS[position],
            )
        else:
            day = int(parts.get("BYMONTHDAY", str(local.day)))
            kwargs.update(
                pattern="absolute_yearly" if yearly else "absolute_monthly",
                day_of_month=31 if day == -1 else day,
            )
    else:
        raise IcalError(f"RRULE FREQ={freq or '?'} has no Exchange equivalent")
    if "COUNT" in parts:
        kwargs["count"] = int(parts["COUNT"])
    elif "UNTIL" in parts:
        until = parts["UNTIL"].strip()
        match = _DATE_TIME.match(until)
        if not match:
            raise IcalError(f"RRULE UNTIL {until!r} is not a date")
        y, mo, d, h, mi, s, utc = match.groups()
        if h is not None and utc:
            moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=UTC)
            kwargs["end_date"] = moment.astimezone(ZoneInfo(zone)).date()
        else:
            kwargs["end_date"] = date(int(y), int(mo), int(d))
    try:
        return Recurrence(**kwargs)
    except (RecurrenceError, TypeError, ValueError) as exc:
        raise IcalError(f"RRULE {value!r}: {exc}") from None


# ------------------------------------------------------------------ events
def calendar_text_of(content: bytes) -> str:
    """The iCalendar text of a bare calendar or of a MIME message carrying one."""
    if len(content) > MAX_CONTENT:
        raise IcalError("the content is larger than 1 MiB")
    text = content.decode("utf-8", "replace")
    if text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        return text
    message = email.message_from_bytes(content, policy=default_policy)
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    raise IcalError("the content holds no text/calendar part")


def read_event(content: bytes, default_zone: str) -> EventData:
    text = calendar_text_of(content)
    calendar = parse_calendar(text)
    zones = Zones(calendar, text, default_zone)
    events = [c for c in calendar.children if c.name == "VEVENT"]
    masters = [e for e in events if e.first("RECURRENCE-ID") is None]
    if len(masters) != 1:
        raise IcalError("the calendar must hold exactly one VEVENT without RECURRENCE-ID")
    master = masters[0]
    start, end, all_day, zone = _times(master, zones)
    if end < start:
        raise IcalError("DTEND is before DTSTART")
    fields: dict[str, Any] = {
        "subject": master.text("SUMMARY") or "",
        "start": start,
        "end": end,
        "all_day": all_day,
        "busy_status": _busy(master),
        "location": master.text("LOCATION") or "",
        "body": master.text("DESCRIPTION") or "",
        "time_zone": zone,
        "recurrence": None,
    }
    uid = master.text("UID")
    if uid:
        fields["uid"] = uid.strip()
    data = EventData(fields)
    rule = master.first("RRULE")
    if rule is None:
        return data
    fields["recurrence"] = _rrule(rule.value, start, zone)
    series_zone = ZoneInfo(zone)
    for line in master.all("EXDATE"):
        for value in line.value.split(","):
            single = Line("EXDATE", line.params, value)
            data.deleted.append(_moment(single, zones)[0].astimezone(series_zone).date())
    for event in events:
        recurrence_id = event.first("RECURRENCE-ID")
        if recurrence_id is None:
            continue
        original = _moment(recurrence_id, zones)[0].astimezone(series_zone).date()
        ex_start, ex_end, _, _ = _times(event, zones)
        changes: dict[str, Any] = {"start": ex_start, "end": ex_end}
        for key, name in (("subject", "SUMMARY"), ("location", "LOCATION")):
            given = event.text(name)
            if given is not None and given != fields[key]:
                changes[key] = given
        busy = _busy(event)
        if busy != fields["busy_status"]:
            changes["busy_status"] = busy
        data.exceptions.append((original, changes))
    return data


def default_times(now: datetime) -> tuple[datetime, datetime]:
    """Start and end Exchange gives an appointment created without them: the next
    half hour, for half an hour (what Outlook and OWA offer for a new appointment)."""
    base = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = base + timedelta(minutes=30 - base.minute % 30)
    return start, start + timedelta(minutes=30)


def apply_event(
    store: ExchangeStore, folder: Folder, data: EventData, existing: CalendarItem | None = None
) -> CalendarItem:
    """Create the event in ``folder``, or make ``existing`` what the data says."""
    fields = dict(data.fields)
    with store._lock:
        if existing is None:
            subject = fields.pop("subject")
            start, end = fields.pop("start"), fields.pop("end")
            item = store.create_calendar_item(
                folder, subject=subject, start=start, end=end, **fields
            )
        else:
            fields.pop("uid", None)  # an item keeps its UID
            fields.update(exceptions={}, deleted=set())
            item = store.update_item(existing.id, **fields)  # type: ignore[assignment]
        for original, changes in data.exceptions:
            try:
                store.modify_occurrence(item, original, **changes)
            except (StoreError, RecurrenceError, ValueError) as exc:
                raise IcalError(f"RECURRENCE-ID {original}: {exc}") from None
        for day in data.deleted:
            if day in item.deleted:
                continue
            try:
                store.delete_occurrence(item, day)
            except (StoreError, RecurrenceError, ValueError) as exc:
                raise IcalError(f"EXDATE {day}: {exc}") from None
        return item


__all__ = [
    "EventData",
    "IcalError",
    "apply_event",
    "calendar_text_of",
    "default_times",
    "parse_calendar",
    "read_event",
]
