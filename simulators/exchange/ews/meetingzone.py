"""The 2007 ``t:TimeZoneType`` (MeetingTimeZone) from and to a stored definition.

Exchange 2007 describes a series' zone by its bias and two yearly rules:
``<t:MeetingTimeZone TimeZoneName=".."><t:BaseOffset>PT5H</t:BaseOffset>
<t:Standard><t:Offset>PT0M</t:Offset><t:RelativeYearlyRecurrence>..</t:Standard>
<t:Daylight><t:Offset>-PT1H</t:Offset>..</t:Daylight></t:MeetingTimeZone>``. The
bias is UTC minus local time (New York: PT5H); each rule's Offset is added to it
in that period; each rule's Time is the wall time in force before the change.
A client that sends such an element on CreateItem has that definition stored with
the series (``ZoneRules``), and the series is expanded with it.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    esc,
    fail,
    fmt_duration,
    local,
    text,
    text_enum,
)
from simulators.exchange.recurrence import MONTHS
from simulators.exchange.tzrules import LAST_WEEK, YearlyChange, ZoneRules, ZoneRulesError

TIME_ZONE = Sequence_(("t:BaseOffset", 0, 1), ("t:Standard", 0, 1), ("t:Daylight", 0, 1))
TIME_CHANGE = Sequence_(
    ("t:Offset", 1, 1), ("t:RelativeYearlyRecurrence|t:AbsoluteDate", 0, 1), ("t:Time", 1, 1)
)
RELATIVE_YEARLY = Sequence_(("t:DaysOfWeek", 1, 1), ("t:DayOfWeekIndex", 1, 1), ("t:Month", 1, 1))
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
INDEXES = ("First", "Second", "Third", "Fourth", "Last")

_DURATION = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def _duration(element: Element) -> timedelta:
    raw = text(element).strip()
    match = _DURATION.fullmatch(raw)
    if not match or raw in ("P", "-P") or raw.endswith("T"):
        fail(f"The value '{raw}' of {local(element.tag)} is not a valid duration.", element)
    sign, days, hours, minutes, seconds = match.groups()
    span = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -span if sign else span


def _time(element: Element) -> time:
    raw = text(element).strip()
    match = _TIME.fullmatch(raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        fail(f"The value '{raw}' of Time is not a valid time.", element)
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _change(element: Element) -> tuple[timedelta, YearlyChange]:
    kids = TIME_CHANGE.read(element)
    offset = _duration(kids.one("t:Offset"))
    at = _time(kids.one("t:Time"))
    pattern = kids.opt("t:RelativeYearlyRecurrence")
    if pattern is None:
        raise ResponseError(
            "ErrorCalendarInvalidTimeZone",
            f"{local(element.tag)} needs a RelativeYearlyRecurrence (a one-off AbsoluteDate "
            "is not kept by this server).",
        )
    rule = RELATIVE_YEARLY.read(pattern)
    day = text_enum(rule.one("t:DaysOfWeek"), DAYS, "DayOfWeekType")
    index = text_enum(rule.one("t:DayOfWeekIndex"), INDEXES, "DayOfWeekIndexType")
    month = text_enum(rule.one("t:Month"), MONTHS, "MonthNamesType")
    change = YearlyChange(MONTHS.index(month) + 1, INDEXES.index(index) + 1, DAYS.index(day), at)
    return offset, change


def read_definition(element: Element, fallback_name: str) -> ZoneRules | None:
    """The definition a MeetingTimeZone element spells out; None when it names a zone only
    (no BaseOffset), as clients of later versions send it."""
    kids = TIME_ZONE.read(element)
    base = kids.opt("t:BaseOffset")
    if base is None:
        return None
    bias = _duration(base)
    name = element.get("TimeZoneName") or fallback_name
    standard_el, daylight_el = kids.opt("t:Standard"), kids.opt("t:Daylight")
    try:
        if standard_el is None and daylight_el is None:
            return ZoneRules(name, -bias)
        if standard_el is None or daylight_el is None:
            raise ZoneRulesError("Standard and Daylight come together")
        standard_bias, ends = _change(standard_el)
        daylight_bias, starts = _change(daylight_el)
        standard = -(bias + standard_bias)
        daylight = -(bias + daylight_bias)
        if standard == daylight:
            return ZoneRules(name, standard)  # Windows' way of saying "no daylight time"
        return ZoneRules(name, standard, daylight, starts, ends)
    except ZoneRulesError as exc:
        raise ResponseError("ErrorCalendarInvalidTimeZone", f"MeetingTimeZone: {exc}") from None


def _change_text(tag: str, offset: timedelta, change: YearlyChange) -> str:
    return (
        f"<t:{tag}><t:Offset>{fmt_duration(offset)}</t:Offset><t:RelativeYearlyRecurrence>"
        f"<t:DaysOfWeek>{DAYS[change.weekday]}</t:DaysOfWeek>"
        f"<t:DayOfWeekIndex>{INDEXES[min(change.week, LAST_WEEK) - 1]}</t:DayOfWeekIndex>"
        f"<t:Month>{MONTHS[change.month - 1]}</t:Month></t:RelativeYearlyRecurrence>"
        f"<t:Time>{change.at.strftime('%H:%M:%S')}</t:Time></t:{tag}>"
    )


def definition_text(tag: str, rules: ZoneRules, name: str | None = None) -> str:
    """A TimeZoneType element (``tag``: MeetingTimeZone) for a stored definition."""
    parts = [f"<t:BaseOffset>{fmt_duration(-rules.standard_offset)}</t:BaseOffset>"]
    if rules.daylight_starts and rules.daylight_ends and rules.daylight_offset is not None:
        parts.append(_change_text("Standard", timedelta(0), rules.daylight_ends))
        delta = rules.standard_offset - rules.daylight_offset
        parts.append(_change_text("Daylight", delta, rules.daylight_starts))
    label = esc(name or rules.name)
    return f'<t:{tag} TimeZoneName="{label}">{"".join(parts)}</t:{tag}>'


__all__ = ["definition_text", "read_definition"]
