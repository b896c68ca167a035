"""iCalendar (RFC 5545) to captured appointments: Exchange's ``GET`` of a WebDAV
master and Outlook/OWA calendar exports (``harness import-ics``).

Parsed with the ``icalendar`` package; what it means for Exchange is read here:
RRULE (the patterns Exchange has: daily, weekly, absolute or relative monthly and
yearly, with COUNT or UNTIL), EXDATE (deleted occurrences), VEVENTs with a
RECURRENCE-ID (modified occurrences; STATUS:CANCELLED ones are deletions),
VTIMEZONE (the series' stored definition), all-day events (``VALUE=DATE`` or
``X-MICROSOFT-CDO-ALLDAYEVENT``), Exchange's busy status and the created and
last-modified stamps. Anything Exchange cannot hold (an hourly rule, BYWEEKNO,
two days of the month) is a ``CaptureError`` naming the line of the file.
Attendees, organisers, descriptions and alarms are not read at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from integration.capture.model import (
    DAY_NAMES,
    CapturedAppointment,
    CapturedException,
    CapturedRecurrence,
    CapturedZone,
    CaptureError,
    Moment,
    YearlyChange,
    ZoneDefinition,
    busy_status,
)

MAX_BYTES = 50 * 1024 * 1024  # an export of decades of a busy calendar is far less
_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_WEEK_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last", 5: "last"}
_SUPPORTED = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH"}
_SUPPORTED |= {"BYSETPOS", "WKST"}


@dataclass
class _Block:
    """The lines of one component in the file (1-based numbers, unfolded)."""

    line: int
    lines: list[tuple[int, str]]

    def line_of(self, name: str) -> int:
        for number, text in self.lines:
            head = text.split(":", 1)[0].split(";", 1)[0].upper()
            if head == name:
                return number
        return self.line


def _unfolded(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and lines:
            first, content = lines[-1]
            lines[-1] = (first, content + raw[1:])
        else:
            lines.append((number, raw))
    return lines


def _blocks(text: str, kind: str) -> list[_Block]:
    """Every ``BEGIN:kind`` .. ``END:kind`` in file order."""
    found: list[_Block] = []
    current: _Block | None = None
    for number, content in _unfolded(text):
        upper = content.strip().upper()
        if upper == f"BEGIN:{kind}":
            current = _Block(number, [])
        elif upper == f"END:{kind}" and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            current.lines.append((number, content))
    return found


class _Where:
    """FILE:LINE for problems."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int, message: str) -> CaptureError:
        return CaptureError(f"{self.path}:{line}: {message}")


def parse_calendar(text: str, path: str = "<icalendar>") -> list[CapturedAppointment]:
    """The appointments of one VCALENDAR text (series with their changes merged)."""
    where = _Where(path)
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise where.error(1, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if "BEGIN:VCALENDAR" not in text.upper():
        raise where.error(1, "not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise where.error(_bad_line(text), f"not a valid iCalendar file: {exc}") from None
    zones = {str(tz.get("TZID")): _definition(tz) for tz in calendar.walk("VTIMEZONE")}
    events = calendar.walk("VEVENT")
    blocks = _blocks(text, "VEVENT")
    masters: dict[str, CapturedAppointment] = {}
    overrides: list[tuple[str, CapturedException | None, Moment, _Block]] = []
    order: list[CapturedAppointment] = []
    for index, event in enumerate(events):
        block = blocks[index] if index < len(blocks) else _Block(1, [])
        for problem in getattr(event, "errors", []) or []:
            name = problem[0] if isinstance(problem, tuple) else ""
            raise where.error(block.line_of(str(name).upper()), f"unreadable property: {problem}")
        uid = str(event.get("UID") or f"(no UID, line {block.line})")
        if event.get("RECURRENCE-ID") is not None:
            original = _moment(event, "RECURRENCE-ID", block, where)
            cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
            change = None if cancelled else _override(event, original, block, where)
            overrides.append((uid, change, original, block))
            continue
        appointment = _event(event, block, where, zones)
        if uid in masters:
            raise where.error(block.line, f"a second VEVENT with UID {uid} and no RECURRENCE-ID")
        masters[uid] = appointment
        order.append(appointment)
    for uid, change, original, block in overrides:
        master = masters.get(uid)
        if master is None or master.recurrence is None:
            raise where.error(
                block.line_of("RECURRENCE-ID"),
                f"RECURRENCE-ID of UID {uid}, but no recurring VEVENT with that UID",
            )
        if change is None:
            master.deleted.append(original)
        else:
            master.exceptions.append(change)
    return order


def _bad_line(text: str) -> int:
    """The first line that is not ``NAME[;params]:value`` (icalendar does not say)."""
    for number, content in _unfolded(text):
        if content.strip() and ":" not in content:
            return number
    return 1


def _event(
    event: Any, block: _Block, where: _Where, zones: dict[str, CapturedZone]
) -> CapturedAppointment:
    if event.get("DTSTART") is None:
        raise where.error(block.line, "VEVENT without DTSTART")
    start = _moment(event, "DTSTART", block, where)
    end = _end(event, start, block, where)
    all_day = isinstance(start, date) and not isinstance(start, datetime)
    if str(event.get("X-MICROSOFT-CDO-ALLDAYEVENT", "")).upper() == "TRUE":
        all_day = True
    zone = None
    tzid = event["DTSTART"].params.get("TZID")
    if tzid:
        zone = zones.get(str(tzid)) or CapturedZone(str(tzid))
    appointment = CapturedAppointment(
        subject=str(event.get("SUMMARY", "")),
        start=start,
        end=end,
        all_day=all_day,
        busy_status=_busy(event),
        location=str(event.get("LOCATION", "")),
        created=_stamp(event, "CREATED"),
        # Not DTSTAMP: in an export that is when the file was written.
        modified=_stamp(event, "LAST-MODIFIED"),
        zone=zone,
        source=f"{where.path}:{block.line}",
    )
    rrules = event.get("RRULE")
    if rrules is not None:
        if isinstance(rrules, list):
            if len(rrules) > 1:
                raise where.error(block.line_of("RRULE"), "more than one RRULE in one VEVENT")
            rrules = rrules[0]
        appointment.recurrence = _recurrence(rrules, event["DTSTART"].dt, block, where)
        appointment.deleted = _exdates(event, block, where)
    elif event.get("EXDATE") is not None or event.get("RDATE") is not None:
        name = "EXDATE" if event.get("EXDATE") is not None else "RDATE"
        raise where.error(block.line_of(name), f"{name} without an RRULE")
    if event.get("RDATE") is not None:
        raise where.error(block.line_of("RDATE"), "RDATE (extra dates) has no Exchange form")
    return appointment


def _override(event: Any, original: Moment, block: _Block, where: _Where) -> CapturedException:
    start = _moment(event, "DTSTART", block, where) if event.get("DTSTART") else None
    end = _end(event, start, block, where) if start is not None else None
    return CapturedException(
        original_start=original,
        start=start,
        end=end,
        subject=str(event["SUMMARY"]) if event.get("SUMMARY") is not None else None,
        location=str(event["LOCATION"]) if event.get("LOCATION") is not None else None,
        busy_status=_busy(event) if _has_busy(event) else None,
        modified=_stamp(event, "LAST-MODIFIED") or _stamp(event, "DTSTAMP"),
    )


def _moment(event: Any, name: str, block: _Block, where: _Where) -> Moment:
    prop = event.get(name)
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        if prop.params.get("TZID"):
            return value.replace(tzinfo=None)  # local to the zone the TZID names
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value  # floating: local to whoever reads it
    if isinstance(value, date):
        return value
    raise where.error(block.line_of(name), f"{name} is not a date or date-time")


def _end(event: Any, start: Moment, block: _Block, where: _Where) -> Moment:
    if event.get("DTEND") is not None:
        end = _moment(event, "DTEND", block, where)
    elif event.get("DURATION") is not None:
        span = event["DURATION"].dt
        if not isinstance(span, timedelta):
            raise where.error(block.line_of("DURATION"), "DURATION is not a duration")
        end = start + span
    elif isinstance(start, datetime):
        end = start
    else:
        end = start + timedelta(days=1)  # a date alone lasts the day (RFC 5545 3.6.1)
    if type(end) is not type(start) or (
        isinstance(end, datetime)
        and isinstance(start, datetime)
        and (end.tzinfo is None) != (start.tzinfo is None)
    ):
        raise where.error(block.line_of("DTEND"), "DTEND is not of the same kind as DTSTART")
    if end < start:  # type: ignore[operator]
        raise where.error(block.line_of("DTEND"), "DTEND is before DTSTART")
    return end


def _stamp(event: Any, name: str) -> datetime | None:
    value = getattr(event.get(name), "dt", None)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _has_busy(event: Any) -> bool:
    return event.get("X-MICROSOFT-CDO-BUSYSTATUS") is not None or event.get("TRANSP") is not None


def _busy(event: Any) -> str:
    status = event.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if status is not None:
        return busy_status(str(status))
    return "free" if str(event.get("TRANSP", "")).upper() == "TRANSPARENT" else "busy"


def _exdates(event: Any, block: _Block, where: _Where) -> list[Moment]:
    found: list[Moment] = []
    raw = event.get("EXDATE")
    for entry in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        tzid = entry.params.get("TZID")
        for value in entry.dts:
            moment = value.dt
            if isinstance(moment, datetime):
                if tzid:
                    moment = moment.replace(tzinfo=None)
                elif moment.tzinfo is not None:
                    moment = moment.astimezone(UTC)
            found.append(moment)
    return found


def _day_set(days: list[str]) -> tuple[str, ...]:
    """Days as the format says them, with Exchange's groups for all/weekdays/weekend."""
    indexes = sorted({_DAYS[d] for d in days})
    if indexes == list(range(7)):
        return ("day",)
    if indexes == [0, 1, 2, 3, 4]:
        return ("weekday",)
    if indexes == [5, 6]:
        return ("weekend_day",)
    return tuple(DAY_NAMES[i] for i in indexes)


def _recurrence(rule: Any, first: Any, block: _Block, where: _Where) -> CapturedRecurrence:
    line = block.line_of("RRULE")
    unknown = sorted(set(rule) - _SUPPORTED)
    if unknown:
        raise where.error(line, f"RRULE {';'.join(unknown)} has no Exchange form")
    freq = str(rule["FREQ"][0]).upper() if rule.get("FREQ") else ""
    patterns = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}
    if freq not in patterns:
        raise where.error(line, f"RRULE FREQ={freq or '?'}: Exchange repeats daily to yearly only")
    pattern = patterns[freq]
    interval = int(rule.get("INTERVAL", [1])[0])
    if not 1 <= interval <= 999:
        raise where.error(line, f"RRULE INTERVAL={interval}: Exchange takes 1..999")
    count = int(rule["COUNT"][0]) if rule.get("COUNT") else None
    until = None
    if rule.get("UNTIL"):
        value = rule["UNTIL"][0]
        if isinstance(value, datetime):
            zone = first.tzinfo if isinstance(first, datetime) else None
            if value.tzinfo is not None and zone is not None:
                value = value.astimezone(zone)
            until = value.date()
        else:
            until = value
    if count is not None and until is not None:
        raise where.error(line, "RRULE with both COUNT and UNTIL")
    byday = [str(d).upper() for d in rule.get("BYDAY", [])]
    parsed = [_BYDAY.fullmatch(d) for d in byday]
    if any(p is None for p in parsed):
        raise where.error(line, f"RRULE BYDAY={','.join(byday)} is not a list of days")
    ordinals = {int(p[1]) for p in parsed if p is not None and p[1]}
    days = [p[2] for p in parsed if p is not None]
    setpos = [int(v) for v in rule.get("BYSETPOS", [])]
    monthdays = [int(v) for v in rule.get("BYMONTHDAY", [])]
    months = [int(v) for v in rule.get("BYMONTH", [])]
    fields: dict[str, Any] = {"pattern": pattern, "interval": interval, "count": count}
    fields["until"] = until
    if pattern == "daily":
        if byday or monthdays or months or setpos:
            raise where.error(line, "a DAILY RRULE takes no BYDAY/BYMONTHDAY/BYMONTH here")
    elif pattern == "weekly":
        if ordinals or monthdays or months or setpos:
            raise where.error(line, "a WEEKLY RRULE takes plain BYDAY days only")
        if days:
            fields["days"] = _day_set(days)
    else:
        if len(months) > 1 or (months and pattern == "monthly"):
            raise where.error(line, "BYMONTH: Exchange repeats in one month of the year")
        if pattern == "yearly":
            fields["month"] = months[0] if months else None
        if days:
            index = setpos[0] if len(setpos) == 1 and not ordinals else None
            if len(ordinals) == 1 and not setpos and len(days) == 1:
                index = ordinals.pop()
            if index not in _WEEK_WORDS or monthdays:
                raise where.error(
                    line, "BYDAY in a monthly or yearly RRULE needs one week (1..4 or -1)"
                )
            fields["week_index"] = _WEEK_WORDS[index]
            fields["days"] = _day_set(days)
        elif monthdays:
            if len(monthdays) != 1 or not (1 <= monthdays[0] <= 31 or monthdays[0] == -1):
                raise where.error(line, "BYMONTHDAY: Exchange takes one day of the month")
            fields["day_of_month"] = 31 if monthdays[0] == -1 else monthdays[0]
    return CapturedRecurrence(**fields)


def _change(component: Any) -> YearlyChange | None:
    """A STANDARD/DAYLIGHT's yearly rule, or None when it has none."""
    rule = component.get("RRULE")
    start = getattr(component.get("DTSTART"), "dt", None)
    if rule is None or not isinstance(start, datetime):
        return None
    months = rule.get("BYMONTH", [])
    byday = [str(d).upper() for d in rule.get("BYDAY", [])]
    if len(months) != 1 or len(byday) != 1:
        return None
    found = _BYDAY.fullmatch(byday[0])
    if found is None:
        return None
    week = int(found[1] or rule.get("BYSETPOS", [1])[0])
    if week not in (1, 2, 3, 4, -1, 5):
        return None
    return YearlyChange(int(months[0]), 5 if week == -1 else week, _DAYS[found[2]], start.time())


def _definition(tz: Any) -> CapturedZone:
    """A VTIMEZONE as a stored definition (its latest STANDARD and DAYLIGHT rules)."""
    name = str(tz.get("TZID"))
    latest: dict[str, Any] = {}
    for kind in ("STANDARD", "DAYLIGHT"):
        for component in tz.walk(kind):
            start = getattr(component.get("DTSTART"), "dt", datetime.min)
            if kind not in latest or start >= latest[kind][0]:
                latest[kind] = (start, component)
    standard = latest.get("STANDARD")
    if standard is None:
        return CapturedZone(name)
    standard_offset = standard[1]["TZOFFSETTO"].td
    daylight = latest.get("DAYLIGHT")
    if daylight is None:
        return CapturedZone(name, ZoneDefinition(standard_offset))
    starts, ends = _change(daylight[1]), _change(standard[1])
    if starts is None or ends is None:
        return CapturedZone(name)  # one-off changes (RDATE): only the name is kept
    return CapturedZone(
        name, ZoneDefinition(standard_offset, daylight[1]["TZOFFSETTO"].td, starts, ends)
    )


__all__ = ["MAX_BYTES", "parse_calendar"]
