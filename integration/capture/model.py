"""What a capture read from Exchange: calendars as Exchange holds them, as plain data.

The readers (``capture.ews``, ``capture.webdav``) and the iCalendar parser
(``capture.ical``, also used by ``harness import-ics``) fill these records; the
scenario writer turns them into a scenario file. Times are as Exchange gave them:
aware instants (EWS and WebDAV rows are UTC), or naive wall-clock times local to
the item's zone (an iCalendar ``DTSTART;TZID=..``), or dates for all-day events
read from iCalendar. A series' zone is its name as Exchange spelt it (a Windows
display name, a Windows id, an IANA key) plus, when the server gave it, the
definition (bias and yearly rules) stored with the series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

# As the scenario format spells them.
BUSY_STATUSES = ("free", "tentative", "busy", "oof")
PATTERNS = ("daily", "weekly", "monthly", "yearly")
WEEK_INDEXES = ("first", "second", "third", "fourth", "last")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_GROUPS = ("day", "weekday", "weekend_day")

Moment = datetime | date  # aware: an instant; naive: local to the zone; date: all-day


class CaptureError(ValueError):
    """Something Exchange (or a file) holds that a scenario cannot say."""


@dataclass(frozen=True)
class YearlyChange:
    """A yearly clock change: the ``week``-th (5: last) ``weekday`` (0 Monday) of
    ``month`` at ``at`` (the wall time in force before the change)."""

    month: int
    week: int
    weekday: int
    at: time


@dataclass(frozen=True)
class ZoneDefinition:
    """A stored definition: UTC offsets and, with daylight time, its two changes."""

    standard_offset: timedelta
    daylight_offset: timedelta | None = None
    daylight_starts: YearlyChange | None = None
    daylight_ends: YearlyChange | None = None


@dataclass(frozen=True)
class CapturedZone:
    """A series' zone: its name as written, and its definition when one was given."""

    name: str
    definition: ZoneDefinition | None = None


@dataclass(frozen=True)
class CapturedRecurrence:
    """A pattern in the scenario format's words (``monthly`` + ``week_index``...)."""

    pattern: str
    interval: int = 1
    days: tuple[str, ...] = ()
    day_of_month: int | None = None
    week_index: str | None = None
    month: int | None = None
    count: int | None = None
    until: date | None = None


@dataclass
class CapturedException:
    """A modified occurrence, named by its original start; None: as the series."""

    original_start: Moment
    start: Moment | None = None
    end: Moment | None = None
    subject: str | None = None
    location: str | None = None
    busy_status: str | None = None
    modified: datetime | None = None


@dataclass
class CapturedAppointment:
    """A single or a recurring master (``start``/``end``: its first occurrence)."""

    subject: str
    start: Moment
    end: Moment
    all_day: bool = False
    busy_status: str = "busy"
    location: str = ""
    created: datetime | None = None
    modified: datetime | None = None
    zone: CapturedZone | None = None
    recurrence: CapturedRecurrence | None = None
    exceptions: list[CapturedException] = field(default_factory=list)
    deleted: list[Moment] = field(default_factory=list)  # original starts
    source: str = ""  # where it came from, for messages (an item id, FILE:LINE)


@dataclass
class CapturedMailbox:
    address: str
    display_name: str = ""
    language: str | None = None  # en, de: guessed from the server (Culture, folder names)
    appointments: list[CapturedAppointment] = field(default_factory=list)


@dataclass
class Capture:
    """A whole capture: where from, which window, what each mailbox held."""

    variant: str  # ews | webdav | ics
    server: str
    start: datetime
    end: datetime
    mailboxes: list[CapturedMailbox] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the writer should tell the reader


BUSY_FROM_EXCHANGE = {
    "free": "free",
    "tentative": "tentative",
    "busy": "busy",
    "oof": "oof",
    "outofoffice": "oof",
    "nodata": "busy",
    "workingelsewhere": "busy",
}


def busy_status(text: str | None) -> str:
    """Exchange's free/busy word (EWS ``OOF``, WebDAV ``OUTOFOFFICE``) as the format's."""
    return BUSY_FROM_EXCHANGE.get((text or "busy").strip().lower(), "busy")


__all__ = [
    "BUSY_STATUSES",
    "DAY_GROUPS",
    "DAY_NAMES",
    "PATTERNS",
    "WEEK_INDEXES",
    "Capture",
    "CaptureError",
    "CapturedAppointment",
    "CapturedException",
    "CapturedMailbox",
    "CapturedRecurrence",
    "CapturedZone",
    "Moment",
    "YearlyChange",
    "ZoneDefinition",
    "busy_status",
]
