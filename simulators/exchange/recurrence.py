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

    def shortest_gap(self) -> timedelta:
        """The shortest time between two occurrences' starts, at most: an occurrence
        must be shorter than this (Exchange: ErrorCalendarDurationIsTooLong)."""
        days = {"daily": 1, "weekly": 7}.get(self.pattern)
        if days is None:
            days = 28 if self.pattern.endswith("monthly") else 365
        return timedelta(days=days * self.interval)

    def _weekdays(self) -> list[rrule.weekday]:
        names: list[str] = []
        for day in self.days_of_week:
            names.extend(DAY_GROUPS.get(day, (day,)))
        return [WEEKDAYS[n] for n in names]

    def rule(self, first_local_start: datetime, resume_at: datetime | None = None) -> rrule.rrule:
        """The rrule over naive local datetimes starting at the series' start, or at
        ``resume_at`` (a ``resume_point``: the occurrences from there on)."""
        kwargs: dict[str, object] = {
            "dtstart": resume_at or first_local_start,
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


_DAY = timedelta(days=1)


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    """The naive wall-clock time of ``moment`` in ``zone`` (what
    ``astimezone(zone).replace(tzinfo=None)`` gives, at a third of its cost: every
    poll converts each series' window)."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), local.time())


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant.

    ``fold=0`` reads a time in the spring-forward gap with the offset before the
    change, which moves it forward by the gap (02:30 becomes 03:30 CEST, as
    Outlook shows it); an ambiguous autumn time takes its first (summer) reading.
    """
    wall = naive.replace(fold=0) if naive.fold else naive
    # combine() is what replace(tzinfo=zone, fold=0) does, at half the cost (per row).
    return datetime.combine(wall.date(), wall.time(), zone).astimezone(UTC)


# Windowed expansion works in pages of local time: 4 weeks starting on a Sunday (the
# rule's week start), a few kept per series.
PAGE = timedelta(days=28)
_PAGE_EPOCH = datetime(2000, 1, 2)  # a Sunday
PAGES_KEPT = 4
_TICK = timedelta(microseconds=1)  # [lower, upper] is [lower, upper + _TICK)


def _whole_series(recurrence: Recurrence, first_local_start: datetime) -> tuple[datetime, ...]:
    """Every local start of a series up to the horizon, by walking the rule."""
    horizon_end = first_local_start + HORIZON
    starts: list[datetime] = []
    for local in recurrence.rule(first_local_start):
        if local > horizon_end:
            break
        starts.append(local)
    return tuple(starts)


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def resume_point(recurrence: Recurrence, first_local_start: datetime, target: datetime) -> datetime:
    """A start for the rule at or before ``target`` (and not before the series' start)
    from which it yields exactly the series' occurrences: the beginning of a period of
    the pattern (day, Sunday-based week, month, year) a whole number of intervals after
    the series' first period, one interval before the one holding ``target``.

    The pattern's own days (weekdays, day of month, set position) are explicit in the
    rule and chosen per period, so a rule started at a period's beginning yields that
    period and every later one as the rule started at the series' start does. A series
    ended by a count needs every occurrence before ``target`` and is never resumed.
    """
    if recurrence.count is not None or target <= first_local_start:
        return first_local_start
    step = recurrence.interval
    at = first_local_start.time()
    first_day = first_local_start.date()
    if recurrence.pattern == "daily":
        periods = (target.date() - first_day).days // step * step - step
        day = first_day + timedelta(days=periods)
    elif recurrence.pattern == "weekly":
        week0 = first_day - timedelta(days=(first_day.weekday() + 1) % 7)  # its Sunday
        periods = (target.date() - week0).days // 7 // step * step - step
        day = week0 + timedelta(weeks=periods)
    elif recurrence.pattern.endswith("_monthly"):
        months = (target.year - first_day.year) * 12 + target.month - first_day.month
        periods = months // step * step - step
        day = _add_months(first_day, periods)
    else:  # yearly
        periods = (target.year - first_day.year) // step * step - step
        day = date(first_day.year + periods, 1, 1)
    if periods <= 0:
        return first_local_start
    return datetime.combine(day, at)


class SeriesStarts:
    """The local starts of one series, expanded per page on demand and kept (a few pages).

    A calendar view asks for a few weeks of a series; walking its rule from the series'
    start each time (years of a long-running series) was the simulator's hot spot.
    A page is computed from ``resume_point`` instead, then reused by every poll until
    the window moves on. The owner keeps one per series and replaces it when the
    series' pattern or first start changes (``serves``). Not thread-safe: the store
    calls it under its lock.
    """

    def __init__(self, recurrence: Recurrence, first_local_start: datetime) -> None:
        self.recurrence = recurrence
        self.first = first_local_start
        self._pages: dict[int, tuple[datetime, ...]] = {}
        self._whole: tuple[datetime, ...] | None = None  # series ended by a count

    def serves(self, recurrence: Recurrence, first_local_start: datetime) -> bool:
        # Mostly the very same pattern: identity first, the field-wise comparison after.
        same = recurrence is self.recurrence or recurrence == self.recurrence
        return same and first_local_start == self.first

    def between(self, lower: datetime, upper: datetime) -> list[datetime]:
        """Local starts in ``[lower, upper]``, in order."""
        if upper < self.first or lower > upper:
            return []
        if self.recurrence.count is not None:
            if upper > self.first + HORIZON:  # past the kept horizon: walk, as before
                return [s for s in self._walk(self.first, upper + _TICK) if s >= lower]
            if self._whole is None:
                self._whole = _whole_series(self.recurrence, self.first)
            whole = self._whole
            return list(whole[bisect_left(whole, lower) : bisect_right(whole, upper)])
        first_page = (lower - _PAGE_EPOCH) // PAGE
        last_page = (upper - _PAGE_EPOCH) // PAGE
        if last_page - first_page >= PAGES_KEPT:  # a long span (a series' first and last)
            return self._walk(lower, upper + _TICK)
        found: list[datetime] = []
        for page in range(first_page, last_page + 1):
            found.extend(self._page(page))
        return found[bisect_left(found, lower) : bisect_right(found, upper)]

    def _walk(self, begin: datetime, end: datetime) -> list[datetime]:
        """Local starts in ``[begin, end)`` from the rule, resumed just before ``begin``."""
        if end <= self.first:
            return []
        rule = self.recurrence.rule(
            self.first, resume_at=resume_point(self.recurrence, self.first, begin)
        )
        starts: list[datetime] = []
        for local in rule:
            if local >= end:
                break
            if local >= begin:
                starts.append(local)
        return starts

    def _page(self, page: int) -> tuple[datetime, ...]:
        found = self._pages.get(page)
        if found is None:
            begin = _PAGE_EPOCH + page * PAGE
            found = tuple(self._walk(begin, begin + PAGE))
            if len(self._pages) >= PAGES_KEPT:
                self._pages.pop(next(iter(self._pages)), None)  # the oldest page asked for
            self._pages[page] = found
        return found


def occurrence_starts(
    recurrence: Recurrence,
    local_start: time,
    zone: tzinfo,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    series: SeriesStarts | None = None,
) -> Iterator[tuple[date, datetime]]:
    """(original local date, UTC start) of every occurrence, in order.

    With a window, only starts in ``[window_start, window_end)`` widened by the
    caller (and by a day here, for the zone); without one, every occurrence up to the
    horizon. ``series`` is the series' kept expansion (``SeriesStarts``), if any.
    """
    first = datetime.combine(recurrence.start_date, local_start)
    if window_end is None:
        lowest = None
        if window_start is not None:
            lowest = window_start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
        for local in _whole_series(recurrence, first):
            if lowest is None or local >= lowest:
                yield local.date(), localize(local, zone)
        return
    upper = _wall(window_end, zone) + _DAY
    lower = first
    if window_start is not None:
        lower = max(first, _wall(window_start, zone) - _DAY)
    if series is None or not series.serves(recurrence, first):
        series = SeriesStarts(recurrence, first)
    for local in series.between(lower, upper):
        yield local.date(), localize(local, zone)
