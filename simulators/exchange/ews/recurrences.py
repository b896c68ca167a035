"""t:Recurrence in and out: the six 2007 patterns and three ranges, mapped onto
the store's ``Recurrence`` records."""

from __future__ import annotations

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    local,
    text_date,
    text_enum,
    text_enum_list,
    text_int,
    words,
)
from simulators.exchange.recurrence import MONTHS, Recurrence, RecurrenceError

DAY_OF_WEEK = words(
    "Sunday Monday Tuesday Wednesday Thursday Friday Saturday Day Weekday WeekendDay"
)
DAY_INDEX = ("First", "Second", "Third", "Fourth", "Last")

# element name -> (pattern kind, child sequence). exchangelib adds FirstDayOfWeek (2010)
# to weekly patterns: lenient sequences skip it instead of failing the request.
PATTERNS: dict[str, tuple[str, Sequence_]] = {
    "RelativeYearlyRecurrence": (
        "relative_yearly",
        Sequence_(
            ("t:DaysOfWeek", 1, 1), ("t:DayOfWeekIndex", 1, 1), ("t:Month", 1, 1), lenient=True
        ),
    ),
    "AbsoluteYearlyRecurrence": (
        "absolute_yearly",
        Sequence_(("t:DayOfMonth", 1, 1), ("t:Month", 1, 1), lenient=True),
    ),
    "RelativeMonthlyRecurrence": (
        "relative_monthly",
        Sequence_(
            ("t:Interval", 1, 1),
            ("t:DaysOfWeek", 1, 1),
            ("t:DayOfWeekIndex", 1, 1),
            lenient=True,
        ),
    ),
    "AbsoluteMonthlyRecurrence": (
        "absolute_monthly",
        Sequence_(("t:Interval", 1, 1), ("t:DayOfMonth", 1, 1), lenient=True),
    ),
    "WeeklyRecurrence": (
        "weekly",
        Sequence_(("t:Interval", 1, 1), ("t:DaysOfWeek", 1, 1), lenient=True),
    ),
    "DailyRecurrence": ("daily", Sequence_(("t:Interval", 1, 1), lenient=True)),
}
_ELEMENT_FOR = {kind: name for name, (kind, _) in PATTERNS.items()}
_RECURRENCE = Sequence_(
    ("|".join(f"t:{name}" for name in PATTERNS), 1, 1),
    ("t:NoEndRecurrence|t:EndDateRecurrence|t:NumberedRecurrence", 1, 1),
)
_RANGES = {
    "NoEndRecurrence": Sequence_(("t:StartDate", 1, 1)),
    "EndDateRecurrence": Sequence_(("t:StartDate", 1, 1), ("t:EndDate", 1, 1)),
    "NumberedRecurrence": Sequence_(("t:StartDate", 1, 1), ("t:NumberOfOccurrences", 1, 1)),
}


def read_recurrence(element: Element) -> Recurrence:
    """A t:Recurrence element as a store Recurrence (ErrorCalendarInvalidRecurrence if absurd)."""
    _RECURRENCE.read(element)
    children = [c for c in element if isinstance(c.tag, str)]
    pattern_el, range_el = children[0], children[1]
    kind, spec = PATTERNS[local(pattern_el.tag)]
    kids = spec.read(pattern_el)
    fields: dict[str, object] = {"pattern": kind}
    interval = kids.opt("t:Interval")
    if interval is not None:
        fields["interval"] = text_int(interval)
    days = kids.opt("t:DaysOfWeek")
    if days is not None:
        if kind == "weekly":
            fields["days_of_week"] = tuple(text_enum_list(days, DAY_OF_WEEK, "DaysOfWeekType"))
        else:
            fields["days_of_week"] = (text_enum(days, DAY_OF_WEEK, "DayOfWeekType"),)
    index = kids.opt("t:DayOfWeekIndex")
    if index is not None:
        fields["week_index"] = text_enum(index, DAY_INDEX, "DayOfWeekIndexType")
    day = kids.opt("t:DayOfMonth")
    if day is not None:
        fields["day_of_month"] = text_int(day)
    month = kids.opt("t:Month")
    if month is not None:
        fields["month"] = MONTHS.index(text_enum(month, MONTHS, "MonthNamesType")) + 1
    range_kids = _RANGES[local(range_el.tag)].read(range_el)
    fields["start_date"] = text_date(range_kids.one("t:StartDate"))
    end = range_kids.opt("t:EndDate")
    if end is not None:
        fields["end_date"] = text_date(end)
    count = range_kids.opt("t:NumberOfOccurrences")
    if count is not None:
        fields["count"] = text_int(count)
    try:
        return Recurrence(**fields)  # type: ignore[arg-type]
    except RecurrenceError as exc:
        raise ResponseError("ErrorCalendarInvalidRecurrence", str(exc)) from None


def recurrence_text(rec: Recurrence) -> str:
    """A store Recurrence as t:Recurrence text (pattern, then range)."""
    name = _ELEMENT_FOR[rec.pattern]
    pattern: list[str] = []
    if not rec.pattern.endswith("_yearly"):
        pattern.append(f"<t:Interval>{rec.interval}</t:Interval>")
    if rec.pattern == "weekly":
        pattern.append(f"<t:DaysOfWeek>{' '.join(rec.days_of_week)}</t:DaysOfWeek>")
    elif rec.pattern.startswith("relative_"):
        pattern.append(f"<t:DaysOfWeek>{rec.days_of_week[0]}</t:DaysOfWeek>")
        pattern.append(f"<t:DayOfWeekIndex>{rec.week_index or 'First'}</t:DayOfWeekIndex>")
    if rec.pattern.startswith("absolute_") and rec.day_of_month is not None:
        pattern.append(f"<t:DayOfMonth>{rec.day_of_month}</t:DayOfMonth>")
    if rec.pattern.endswith("_yearly") and rec.month:
        pattern.append(f"<t:Month>{MONTHS[rec.month - 1]}</t:Month>")
    start = f"<t:StartDate>{rec.start_date.isoformat()}</t:StartDate>"
    if rec.count is not None:
        bounds = (
            f"<t:NumberedRecurrence>{start}<t:NumberOfOccurrences>{rec.count}"
            "</t:NumberOfOccurrences></t:NumberedRecurrence>"
        )
    elif rec.end_date is not None:
        bounds = (
            f"<t:EndDateRecurrence>{start}<t:EndDate>{rec.end_date.isoformat()}</t:EndDate>"
            "</t:EndDateRecurrence>"
        )
    else:
        bounds = f"<t:NoEndRecurrence>{start}</t:NoEndRecurrence>"
    return f"<t:Recurrence><t:{name}>{''.join(pattern)}</t:{name}>{bounds}</t:Recurrence>"
