"""The instants Exchange keeps: from 1601-01-01 to 4500-12-31 (UTC), nothing outside.

Exchange stores times as FILETIME, which starts in 1601; Outlook and MAPI read
4501-01-01 as "no date". Every front end (EWS, WebDAV, OWA) refuses a time outside
this range with its own clear error before it reaches the store, so a series
starting near year 9999 can never be stored and overflow each later read, and the
store's arithmetic (a day's margin, a five-year recurrence horizon) stays in range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

EARLIEST = datetime(1601, 1, 1, tzinfo=UTC)
LATEST = datetime(4500, 12, 31, 23, 59, 59, tzinfo=UTC)
RANGE_TEXT = "1601-01-01 to 4500-12-31"


def date_in_range(value: date, margin_days: int = 0) -> bool:
    """Whether a calendar date lies within the range, ``margin_days`` inside each end
    (so that arithmetic around it, such as a week's view, cannot overflow)."""
    margin = timedelta(days=margin_days)
    return EARLIEST.date() + margin <= value <= LATEST.date() - margin


def year_in_range(year: int) -> bool:
    return EARLIEST.year <= year <= LATEST.year


def instant_in_range(value: datetime) -> bool:
    """Whether an aware instant lies within the range."""
    return EARLIEST <= value <= LATEST


def describe(value: str) -> str:
    """The message every front end words its refusal with."""
    return f"The date {value} is outside the range Exchange keeps ({RANGE_TEXT})."


__all__ = [
    "EARLIEST",
    "LATEST",
    "RANGE_TEXT",
    "date_in_range",
    "describe",
    "instant_in_range",
    "year_in_range",
]
