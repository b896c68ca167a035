"""The time notations of scenario files: durations, dates, times of day, date-times.

Pure functions over the text as written (the loader hands over the raw scalar,
never YAML's reading of it, so ``12:00`` is not the sexagesimal integer 720).
Each raises ``ValueError`` with a message fit for ``FILE:LINE: message``.
A wall-clock time is turned into an instant in the scenario's zone, and one that
does not exist (spring forward) or exists twice (fall back) is refused: a
scenario must say which instant it means. A time may name its own zone after it
(``09:00 America/New_York``): then it is that zone's wall-clock time.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

_DURATION = re.compile(r"(?P<sign>-?)(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_CLOCK = re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?")
_DATE = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})")
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<clock>\d{1,2}:\d{2}(?::\d{2})?)"
    r"[ \t]*(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?"
)

# A trailing IANA zone name: "Area/Location" (maybe deeper), or UTC.
_ZONE_SUFFIX = re.compile(r"(?P<moment>.*\S)\s+(?P<zone>UTC|[A-Za-z][\w+\-]*(?:/[\w+\-]+)+)")

DURATION_HINT = "a duration is a number with a unit: 30s, 3m, 1h30m, -40s"
MOMENT_HINT = "a time is HH:MM or HH:MM:SS (on the start date) or YYYY-MM-DD HH:MM[:SS][+HH:MM]"


def parse_duration(text: str) -> timedelta:
    """``30s``, ``3m``, ``1h30m``, ``-40s``, ``0s``; a bare number is refused."""
    match = _DURATION.fullmatch(text.strip())
    if not match or not any(match.group(k) for k in ("h", "m", "s")):
        raise ValueError(f"bad duration {text!r}: {DURATION_HINT}")
    value = timedelta(
        hours=int(match.group("h") or 0),
        minutes=int(match.group("m") or 0),
        seconds=int(match.group("s") or 0),
    )
    return -value if match.group("sign") else value


def parse_date(text: str) -> date:
    """``YYYY-MM-DD``."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"bad date {text!r}: a date is YYYY-MM-DD")
    try:
        return date(int(match["y"]), int(match["mo"]), int(match["d"]))
    except ValueError as exc:
        raise ValueError(f"bad date {text!r}: {exc}") from None


def parse_clock(text: str) -> time:
    """``HH:MM`` or ``HH:MM:SS`` (24-hour)."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"bad time {text!r}: {MOMENT_HINT}")
    try:
        return time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
    except ValueError as exc:
        raise ValueError(f"bad time {text!r}: {exc}") from None


def is_clock(text: str) -> bool:
    return _CLOCK.fullmatch(text.strip()) is not None


def is_date(text: str) -> bool:
    return _DATE.fullmatch(text.strip()) is not None


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"bad UTC offset {text!r} (hours 0..23, minutes 0..59)")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def zone_name(zone: tzinfo) -> str:
    """An IANA key, or the name of a stored definition."""
    return str(getattr(zone, "key", None) or zone)


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def named_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError with a did-you-mean otherwise."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        pass
    close = difflib.get_close_matches(name, _zone_names(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else "; use an IANA name like Europe/Berlin"
    raise ValueError(f"unknown time zone {name!r}{hint}")


def local_instant(naive: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time in ``zone``; gaps and repeats are refused."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    shown = naive.strftime("%Y-%m-%d %H:%M:%S")
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise ValueError(
            f"{shown} does not exist in {zone_name(zone)} (the clocks go forward then); "
            "pick another time or give a UTC offset"
        )
    raise ValueError(
        f"{shown} happens twice in {zone_name(zone)} (the clocks go back then); "
        f"give a UTC offset, e.g. {shown}{_fmt_offset(first)} or {shown}{_fmt_offset(second)}"
    )


def _fmt_offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_moment(text: str, zone: tzinfo, day: date) -> datetime:
    """An instant (aware UTC) from a time of day on ``day`` or a full date-time.

    Without an offset the wall-clock time is local to ``zone``, or to the zone named
    after it (``09:00 America/New_York``); with an offset it is taken as given.
    """
    raw = text.strip()
    suffix = _ZONE_SUFFIX.fullmatch(raw)
    if suffix and (_CLOCK.fullmatch(suffix["moment"]) or _DATETIME.fullmatch(suffix["moment"])):
        inner = _DATETIME.fullmatch(suffix["moment"])
        if inner and inner["offset"]:
            raise ValueError(f"bad time {text!r}: give a UTC offset or a zone, not both")
        try:
            named = named_zone(suffix["zone"])
        except ValueError as exc:
            raise ValueError(f"bad time {text!r}: {exc}") from None
        return parse_moment(suffix["moment"], named, day)
    if _CLOCK.fullmatch(raw):
        return local_instant(datetime.combine(day, parse_clock(raw)), zone)
    match = _DATETIME.fullmatch(raw)
    if not match:
        if _DATE.fullmatch(raw):
            raise ValueError(f"bad time {text!r}: a date alone is not a time here; {MOMENT_HINT}")
        raise ValueError(f"bad time {text!r}: {MOMENT_HINT}")
    naive = datetime.combine(parse_date(match["date"]), parse_clock(match["clock"]))
    if match["offset"]:
        try:
            zone_offset = _offset(match["offset"])
        except ValueError as exc:
            raise ValueError(f"bad time {text!r}: {exc}") from None
        return naive.replace(tzinfo=zone_offset).astimezone(UTC)
    return local_instant(naive, zone)


def describe(moment: datetime, zone: tzinfo) -> str:
    """A UTC instant as the scenario's wall-clock time, for messages."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


__all__ = [
    "DURATION_HINT",
    "MOMENT_HINT",
    "describe",
    "is_clock",
    "is_date",
    "local_instant",
    "named_zone",
    "parse_clock",
    "parse_date",
    "parse_duration",
    "parse_moment",
    "zone_name",
]
