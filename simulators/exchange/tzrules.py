"""A series' own time-zone definition, as Exchange 2007 keeps it with each item.

The client that creates a recurring series (Outlook, OWA, a phone) writes with it
the zone it was made in, as a bias and two yearly transition rules (MAPI's
PidLidTimeZoneStruct; EWS shows it as ``t:MeetingTimeZone``, WebDAV as the item's
VTIMEZONE). Exchange expands the series with *that* definition, not with a zone
database, so a definition with outdated rules (the US rules before 2007: first
Sunday in April to last Sunday in October) puts occurrences an hour off for the
weeks where the old and the new rules disagree.

``ZoneRules`` is such a definition as a ``tzinfo``, so the expansion code and
``astimezone`` use it like any zone. ``rules_from_zone`` gives the definition an
up-to-date client writes for an IANA zone in a given year (for a year before a
rule change, the outdated one).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

LAST_WEEK = 5  # Windows' SYSTEMTIME wDay: 1..4, or 5 for "the last"
WEEK_NAMES = ("first", "second", "third", "fourth", "last")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_OFFSET = timedelta(hours=14)
ZERO = timedelta(0)


class ZoneRulesError(ValueError):
    """A definition no client could have written (offsets out of range, half rules)."""


@dataclass(frozen=True)
class YearlyChange:
    """One yearly clock change: the ``week``-th ``weekday`` of ``month`` at ``at``.

    ``week`` is 1..4 or 5 (the last in the month); ``weekday`` 0 (Monday) .. 6;
    ``at`` is the local wall time in force *before* the change, as Windows states it.
    """

    month: int
    week: int
    weekday: int
    at: time = time(2, 0)

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ZoneRulesError(f"month must be 1..12, not {self.month}")
        if not 1 <= self.week <= LAST_WEEK:
            raise ZoneRulesError(f"week must be 1..5 (5: the last), not {self.week}")
        if not 0 <= self.weekday <= 6:
            raise ZoneRulesError(f"weekday must be 0..6, not {self.weekday}")

    def on(self, year: int) -> datetime:
        """The naive local moment of the change in ``year``."""
        first_weekday, days = calendar.monthrange(year, self.month)
        first = 1 + (self.weekday - first_weekday) % 7
        day = first + 7 * (self.week - 1)
        while day > days:  # "the last", or a fifth that this month lacks
            day -= 7
        return datetime(year, self.month, day, self.at.hour, self.at.minute, self.at.second)

    def describe(self) -> str:
        """``last sunday of october at 03:00``."""
        month = calendar.month_name[self.month].lower()
        return (
            f"{WEEK_NAMES[self.week - 1]} {DAY_NAMES[self.weekday]} of {month} "
            f"at {self.at.strftime('%H:%M')}"
        )


@dataclass(frozen=True)
class ZoneRules(tzinfo):
    """A stored time-zone definition: a standard offset and, optionally, daylight time.

    Offsets are UTC offsets (Berlin: +1h standard, +2h daylight); Exchange's bias is
    their negation. Daylight time runs from ``daylight_starts`` (stated in standard
    time) to ``daylight_ends`` (stated in daylight time), every year; in the southern
    hemisphere it spans the new year. Equal definitions compare equal and hash alike,
    so caches keyed by the zone stay correct.
    """

    name: str
    standard_offset: timedelta
    daylight_offset: timedelta | None = None
    daylight_starts: YearlyChange | None = None
    daylight_ends: YearlyChange | None = None

    def __post_init__(self) -> None:
        parts = (self.daylight_offset, self.daylight_starts, self.daylight_ends)
        if any(p is None for p in parts) and any(p is not None for p in parts):
            raise ZoneRulesError(
                "daylight time needs its offset, its start and its end (or none of them)"
            )
        for offset in (self.standard_offset, self.daylight_offset):
            if offset is None:
                continue
            if abs(offset) > MAX_OFFSET or offset % timedelta(minutes=1):
                raise ZoneRulesError(f"UTC offset {offset} is not whole minutes within ±14 h")
        if self.daylight_offset is not None and self.daylight_offset == self.standard_offset:
            raise ZoneRulesError("the daylight offset equals the standard offset")

    @property
    def key(self) -> str:
        """The name, as a VTIMEZONE's TZID (ZoneInfo's ``key`` for IANA zones)."""
        return self.name

    @property
    def has_daylight(self) -> bool:
        return self.daylight_starts is not None

    # ------------------------------------------------------------------ tzinfo
    def _delta(self) -> timedelta:
        return (self.daylight_offset or self.standard_offset) - self.standard_offset

    def _in_daylight(self, local: datetime, fold: int) -> bool:
        if self.daylight_starts is None or self.daylight_ends is None:
            return False
        naive = local.replace(tzinfo=None, fold=0)
        delta = self._delta()
        start = self.daylight_starts.on(naive.year)
        end = self.daylight_ends.on(naive.year)
        # The hour skipped at the start and the hour repeated at the end (a negative
        # delta, as some zones have, swaps the two; handled by their bounds).
        gap = (start, start + delta) if delta > ZERO else (start + delta, start)
        repeat = (end - delta, end) if delta > ZERO else (end, end - delta)
        if gap[0] <= naive < gap[1]:
            return fold == 1
        if repeat[0] <= naive < repeat[1]:
            return fold == 0
        if start < end:
            return start <= naive < end
        return naive >= start or naive < end

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return self.standard_offset
        if self._in_daylight(dt, dt.fold):
            assert self.daylight_offset is not None
            return self.daylight_offset
        return self.standard_offset

    def dst(self, dt: datetime | None) -> timedelta:
        if dt is None or not self._in_daylight(dt, dt.fold):
            return ZERO
        return self._delta()

    def tzname(self, dt: datetime | None) -> str:
        return self.name

    def fromutc(self, dt: datetime) -> datetime:
        naive = dt.replace(tzinfo=None)
        local = naive + self.standard_offset
        if self.daylight_offset is not None and self.daylight_starts and self.daylight_ends:
            year = local.year
            start = self.daylight_starts.on(year) - self.standard_offset
            end = self.daylight_ends.on(year) - self.daylight_offset
            summer = start <= naive < end if start < end else (naive >= start or naive < end)
            if summer:
                local = naive + self.daylight_offset
            elif self._in_daylight(local, 0) and not self._in_daylight(local, 1):
                # Standard time inside the repeated hour: the second reading.
                return local.replace(tzinfo=self, fold=1)
        return local.replace(tzinfo=self)

    def __repr__(self) -> str:
        return f"ZoneRules({self.describe()})"

    def __reduce__(self) -> tuple[type[ZoneRules], tuple[object, ...]]:
        # tzinfo's own pickling calls the class with no arguments; a scenario (and its
        # result) crosses to ``harness run``'s worker processes and back.
        return (
            type(self),
            (
                self.name,
                self.standard_offset,
                self.daylight_offset,
                self.daylight_starts,
                self.daylight_ends,
            ),
        )

    def describe(self) -> str:
        """One line for people: ``'Eastern (old rules)' UTC-05:00, daylight UTC-04:00
        from first sunday of april at 02:00 to last sunday of october at 02:00``."""
        text = f"{self.name!r} UTC{format_offset(self.standard_offset)}"
        if self.daylight_starts is None or self.daylight_ends is None:
            return text + ", no daylight time"
        assert self.daylight_offset is not None
        return (
            f"{text}, daylight UTC{format_offset(self.daylight_offset)} from "
            f"{self.daylight_starts.describe()} to {self.daylight_ends.describe()}"
        )


def format_offset(offset: timedelta) -> str:
    """``+01:00``, ``-05:00``, ``+05:30``."""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def transitions(zone: tzinfo, year: int) -> list[datetime]:
    """UTC instants in ``year`` at which the zone's offset changes (to the minute)."""
    found: list[datetime] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    before = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + step
        after = following.astimezone(zone).utcoffset()
        if after != before:
            low, high = moment, following
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                if mid.astimezone(zone).utcoffset() == before:
                    low = mid
                else:
                    high = mid
            found.append(high.replace(second=0, microsecond=0))
            before = after
        moment = following
    return found


def _change(moment: datetime, before: timedelta) -> YearlyChange:
    local = (moment + before).replace(tzinfo=None)  # the wall time in force before it
    last_day = calendar.monthrange(local.year, local.month)[1]
    week = LAST_WEEK if local.day + 7 > last_day else (local.day - 1) // 7 + 1
    return YearlyChange(local.month, week, local.weekday(), local.time())


def rules_from_zone(iana: str, year: int, name: str | None = None) -> ZoneRules:
    """The definition a client writes for ``iana`` from its rules in ``year``.

    A year of a rule change (or with more than two changes) keeps the standard
    offset of mid-January and the last two changes of the year.
    """
    zone = ZoneInfo(iana)
    changes = transitions(zone, year)
    january = datetime(year, 1, 15, tzinfo=UTC).astimezone(zone).utcoffset() or ZERO
    label = name or iana
    if len(changes) < 2:
        return ZoneRules(label, january)
    offsets = [c.astimezone(zone).utcoffset() or ZERO for c in changes[-2:]]
    befores = [(c - timedelta(minutes=1)).astimezone(zone).utcoffset() or ZERO for c in changes]
    standard = min(january, *offsets)
    starts = ends = None
    daylight = None
    for moment, before, after in zip(changes[-2:], befores[-2:], offsets, strict=True):
        if after > standard:
            starts, daylight = _change(moment, before), after
        else:
            ends = _change(moment, before)
    if starts is None or ends is None or daylight is None:
        return ZoneRules(label, standard)
    return ZoneRules(label, standard, daylight, starts, ends)


def same_rules(a: ZoneRules, b: ZoneRules) -> bool:
    """Whether two definitions give the same clock (names aside)."""
    return (a.standard_offset, a.daylight_offset, a.daylight_starts, a.daylight_ends) == (
        b.standard_offset,
        b.daylight_offset,
        b.daylight_starts,
        b.daylight_ends,
    )


def zone_label(zone: tzinfo) -> str:
    """The name a zone goes by: an IANA key or a definition's name."""
    return str(getattr(zone, "key", None) or zone)


__all__ = [
    "LAST_WEEK",
    "YearlyChange",
    "ZoneRules",
    "ZoneRulesError",
    "format_offset",
    "rules_from_zone",
    "same_rules",
    "transitions",
    "zone_label",
]
