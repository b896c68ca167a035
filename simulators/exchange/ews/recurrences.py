"""t:Recurrence in and out: the six 2007 patterns and three ranges, mapped onto
the store's ``Recurrence`` records."""

from __future__ import annotations

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    fail,
    local,
    sub,
    t,
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


def write_recurrence(parent: Element, rec: Recurrence) -> Element:
    node = sub(parent, t("Recurrence"))
    name = _ELEMENT_FOR.get(rec.pattern)
    if name is None:
        fail(f"unknown pattern {rec.pattern}")
    pattern = sub(node, t(name))
    if not rec.pattern.endswith("_yearly"):
        sub(pattern, t("Interval"), str(rec.interval))
    if rec.pattern == "weekly":
        sub(pattern, t("DaysOfWeek"), " ".join(rec.days_of_week))
    elif rec.pattern.startswith("relative_"):
        sub(pattern, t("DaysOfWeek"), rec.days_of_week[0])
        sub(pattern, t("DayOfWeekIndex"), rec.week_index or "First")
    if rec.pattern.startswith("absolute_") and rec.day_of_month is not None:
        sub(pattern, t("DayOfMonth"), str(rec.day_of_month))
    if rec.pattern.endswith("_yearly") and rec.month:
        sub(pattern, t("Month"), MONTHS[rec.month - 1])
    if rec.count is not None:
        rng = sub(node, t("NumberedRecurrence"))
        sub(rng, t("StartDate"), rec.start_date.isoformat())
        sub(rng, t("NumberOfOccurrences"), str(rec.count))
    elif rec.end_date is not None:
        rng = sub(node, t("EndDateRecurrence"))
        sub(rng, t("StartDate"), rec.start_date.isoformat())
        sub(rng, t("EndDate"), rec.end_date.isoformat())
    else:
        rng = sub(node, t("NoEndRecurrence"))
        sub(rng, t("StartDate"), rec.start_date.isoformat())
    return node
