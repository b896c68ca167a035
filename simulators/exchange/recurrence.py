"""Exchange recurrence patterns and their expansion into occurrences.

A series keeps its start as a local wall-clock time in its own time zone (an IANA
zone, or the definition its client stored: ``tzrules``);
occurrences are computed in local time with dateutil's rrule and only then turned
into UTC instants, so a 09:00 weekly meeting stays at 09:00 across a DST change
(R10). Exchange's pattern families map onto rrule through the tables below.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

from dateutil import rrule

PatternKind = Literal[
    "daily",
    "weekly",
    "absolute_monthly",
    "relative_monthly",
    "absolute_yearly",
    "relative_yearly",
]

PATTERNS: dict[str, int] = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "absolute_monthly": rrule.MONTHLY,
    "relative_monthly": rrule.MONTHLY,
    "absolute_yearly": rrule.YEARLY,
    "relative_yearly": rrule.YEARLY,
}

WEEKDAYS: dict[str, rrule.weekday] = {
    "Monday": rrule.MO,
    "Tuesday": rrule.TU,
    "Wednesday": rrule.WE,
    "Thursday": rrule.TH,
    "Friday": rrule.FR,
    "Saturday": rrule.SA,
    "Sunday": rrule.SU,
}
# Exchange's pseudo-days for relative patterns ("the last weekday of the month").
DAY_GROUPS: dict[str, tuple[str, ...]] = {
    "Day": tuple(WEEKDAYS),
    "Weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "WeekendDay": ("Saturday", "Sunday"),
}
WEEK_INDEX: dict[str, int] = {"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}
MONTHS: tuple[str, ...] = (
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
)

# Infinite series are cut here: nothing looks further ahead than this.
HORIZON = timedelta(days=366 * 5)


class RecurrenceError(ValueError):
    """A pattern that Exchange would refuse (bad interval, missing day, ...)."""


@dataclass(frozen=True)
class Recurrence:
    """One Exchange pattern plus one range.

    ``days_of_week`` holds English day names ("Monday") or, for relative
    patterns, one of Day/Weekday/WeekendDay. ``week_index`` is First..Last.
    ``month`` is 1..12. Exactly one of ``end_date``/``count`` or neither (no end).
    """

    pattern: PatternKind
    start_date: date
    interval: int = 1
    days_of_week: tuple[str, ...] = ()
    day_of_month: int | None = None
    week_index: str | None = None
    month: int | None = None
    end_date: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise RecurrenceError(f"unknown recurrence pattern {self.pattern!r}")
        if self.interval < 1 or self.interval > 999:
            raise RecurrenceError("recurrence interval must be between 1 and 999")
        if self.end_date is not None and self.count is not None:
            raise RecurrenceError("a recurrence ends by date or by count, not both")
        if self.count is not None and self.count < 1:
            raise RecurrenceError("number of occurrences must be at least 1")
        for day in self.days_of_week:
            if day not in WEEKDAYS and day not in DAY_GROUPS:
                raise RecurrenceError(f"unknown day of week {day!r}")
        needs_days = self.pattern in ("weekly", "relative_monthly", "relative_yearly")
        if needs_days and not self.days_of_week:
            raise RecurrenceError(f"a {self.pattern} recurrence needs days of week")
        if self.pattern in ("absolute_monthly", "absolute_yearly") and not self.day_of_month:
            raise RecurrenceError(f"a {self.pattern} recurrence needs a day of month")
        if self.pattern.startswith("relative_") and self.week_index not in WEEK_INDEX:
            raise RecurrenceError(f"a {self.pattern} recurrence needs a week index")
        if self.pattern.endswith("_yearly") and not (self.month and 1 <= self.month <= 12):
            raise RecurrenceError(f"a {self.pattern} recurrence needs a month")
        if self.day_of_month is not None and not 1 <= self.day_of_month <= 31:
            raise RecurrenceError("day of month must be between 1 and 31")

    def _weekdays(self) -> list[rrule.weekday]:
        names: list[str] = []
        for day in self.days_of_week:
            names.extend(DAY_GROUPS.get(day, (day,)))
        return [WEEKDAYS[n] for n in names]

    def rule(self, first_local_start: datetime) -> rrule.rrule:
        """The rrule over naive local datetimes starting at the series' start."""
        kwargs: dict[str, object] = {
            "dtstart": first_local_start,
            "interval": self.interval,
            "wkst": rrule.SU,  # Exchange 2007's default FirstDayOfWeek
        }
        if self.pattern == "weekly":
            kwargs["byweekday"] = self._weekdays()
        elif self.pattern in ("absolute_monthly", "absolute_yearly"):
            # Exchange puts "day 31" on the last day of shorter months: of day d and
            # the month's last day, the earlier one.
            kwargs["bymonthday"] = (self.day_of_month, -1)
            kwargs["bysetpos"] = 1
        elif self.pattern in ("relative_monthly", "relative_yearly"):
            kwargs["byweekday"] = self._weekdays()
            kwargs["bysetpos"] = WEEK_INDEX[self.week_index or "First"]
        if self.pattern.endswith("_yearly"):
            kwargs["bymonth"] = self.month
        if self.count is not None:
            kwargs["count"] = self.count
        elif self.end_date is not None:
            kwargs["until"] = datetime.combine(self.end_date, time(23, 59, 59))
        return rrule.rrule(PATTERNS[self.pattern], **kwargs)  # type: ignore[arg-type]


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant.

    ``fold=0`` reads a time in the spring-forward gap with the offset before the
    change, which moves it forward by the gap (02:30 becomes 03:30 CEST, as
    Outlook shows it); an ambiguous autumn time takes its first (summer) reading.
    """
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


@lru_cache(maxsize=256)
def _local_starts(recurrence: Recurrence, first_local_start: datetime) -> tuple[datetime, ...]:
    """Every local start of a series up to the horizon, computed once per series.

    Calendar views expand the same series on every poll; walking the rrule from
    the series start each time dominated a FindItem (profiled), a bisect does not.
    """
    horizon_end = first_local_start + HORIZON
    starts: list[datetime] = []
    for local in recurrence.rule(first_local_start):
        if local > horizon_end:
            break
        starts.append(local)
    return tuple(starts)


def occurrence_starts(
    recurrence: Recurrence,
    local_start: time,
    zone: tzinfo,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> Iterator[tuple[date, datetime]]:
    """(original local date, UTC start) of every occurrence, in order.

    With a window, only starts in ``[window_start, window_end)`` widened by the
    caller; without one, every occurrence up to the horizon.
    """
    first = datetime.combine(recurrence.start_date, local_start)
    if window_end is None:
        horizon_end = first + HORIZON
    else:
        horizon_end = window_end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    lower = None
    if window_start is not None:
        lower = window_start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    if horizon_end <= first + HORIZON:
        starts = _local_starts(recurrence, first)
        begin = bisect_left(starts, lower) if lower is not None else 0
        for local in starts[begin : bisect_right(starts, horizon_end)]:
            yield local.date(), localize(local, zone)
        return
    for local in recurrence.rule(first):  # beyond the cached horizon: walk the rule
        if local > horizon_end:
            break
        if lower is not None and local < lower:
            continue
        yield local.date(), localize(local, zone)
