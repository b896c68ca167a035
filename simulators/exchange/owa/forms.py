"""The OWA appointment form: its fields as typed, and their reading into store values.

Times are typed in the mailbox's time zone (``YYYY-MM-DD`` and ``HH:MM``) and stored
as UTC instants. An all-day appointment runs from local midnight of its start date to
local midnight after its end date (Exchange's exclusive end). A weekly recurrence takes
days of week and ends after a count, by a date, or never.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulators.exchange.model import CalendarItem, Occurrence
from simulators.exchange.recurrence import Recurrence, RecurrenceError, localize
from simulators.exchange.timerange import RANGE_TEXT, date_in_range

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BUSY_CHOICES = [("Free", "Free"), ("Tentative", "Tentative"), ("Busy", "Busy"), ("OOF", "Away")]


class FormError(ValueError):
    """A field the user must correct; ``field`` is its input id."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class AppointmentForm:
    """The form's values as text (what the page shows and the user typed)."""

    subject: str = ""
    location: str = ""
    start_date: str = ""
    start_time: str = "09:00"
    end_date: str = ""
    end_time: str = "09:30"
    all_day: bool = False
    busy_status: str = "Busy"
    recurs: bool = False
    days: list[str] = field(default_factory=list)
    count: str = ""
    until: str = ""

    @classmethod
    def from_fields(cls, form: dict[str, list[str]]) -> AppointmentForm:
        def one(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        return cls(
            subject=one("subject"),
            location=one("location"),
            start_date=one("start_date"),
            start_time=one("start_time"),
            end_date=one("end_date"),
            end_time=one("end_time"),
            all_day=bool(one("all_day")),
            busy_status=one("busy_status") or "Busy",
            recurs=bool(one("recurs")),
            days=[d for d in form.get("days", []) if d in WEEKDAYS],
            count=one("count"),
            until=one("until"),
        )

    @classmethod
    def from_item(cls, item: CalendarItem | Occurrence, zone: ZoneInfo) -> AppointmentForm:
        start = item.start.astimezone(zone)
        end = item.end.astimezone(zone)
        master = item.master if isinstance(item, Occurrence) else item
        if master.all_day:
            end = end - timedelta(days=1)
        rec = master.recurrence if isinstance(item, CalendarItem) else None
        return cls(
            subject=item.subject,
            location=item.location,
            start_date=start.date().isoformat(),
            start_time=start.strftime("%H:%M"),
            end_date=end.date().isoformat(),
            end_time=end.strftime("%H:%M"),
            all_day=master.all_day,
            busy_status=item.busy_status,
            recurs=rec is not None,
            days=list(rec.days_of_week) if rec else [],
            count=str(rec.count) if rec and rec.count else "",
            until=rec.end_date.isoformat() if rec and rec.end_date else "",
        )


def _date(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FormError(name, "Enter the date as YYYY-MM-DD.") from None
    # A day's margin each side: local midnight in any zone stays inside the range.
    if not date_in_range(day, margin_days=1):
        raise FormError(name, f"Enter a date from {RANGE_TEXT}.")
    return day


def check_day(value: str, name: str) -> None:
    """A page's ``?date=`` as the form reads it (``FormError`` with what to type)."""
    _date(value, name)


def _time(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise FormError(name, "Enter the time as HH:MM.") from None


@dataclass
class Appointment:
    """What the store gets: UTC instants and an optional weekly recurrence."""

    subject: str
    location: str
    start: datetime
    end: datetime
    all_day: bool
    busy_status: str
    recurrence: Recurrence | None


def read(form: AppointmentForm, zone: ZoneInfo, with_recurrence: bool = True) -> Appointment:
    """The form as store values, or the first ``FormError``."""
    if len(form.subject) > 255:
        raise FormError("subject", "The subject can have at most 255 characters.")
    start_day = _date(form.start_date, "start_date")
    end_day = _date(form.end_date, "end_date") if form.end_date else start_day
    if form.all_day:
        start = localize(datetime.combine(start_day, time()), zone)
        end = localize(datetime.combine(end_day + timedelta(days=1), time()), zone)
    else:
        start = localize(datetime.combine(start_day, _time(form.start_time, "start_time")), zone)
        end = localize(datetime.combine(end_day, _time(form.end_time, "end_time")), zone)
    if end < start:
        raise FormError("end_time", "The end time is before the start time.")
    if form.busy_status not in {k for k, _ in BUSY_CHOICES}:
        raise FormError("busy_status", "Choose how to show the time.")
    recurrence = None
    if with_recurrence and form.recurs:
        recurrence = _weekly(form, start_day)
    return Appointment(
        form.subject, form.location, start, end, form.all_day, form.busy_status, recurrence
    )


def _weekly(form: AppointmentForm, start_day: date) -> Recurrence:
    days = tuple(d for d in WEEKDAYS if d in form.days) or (WEEKDAYS[start_day.weekday()],)
    if form.count and form.until:
        raise FormError("count", "End the series after a number of occurrences or by a date.")
    count = None
    if form.count:
        if not form.count.isdigit() or not 1 <= int(form.count) <= 999:
            raise FormError("count", "Enter a number of occurrences from 1 to 999.")
        count = int(form.count)
    until = _date(form.until, "until") if form.until else None
    if until is not None and until < start_day:
        raise FormError("until", "The series cannot end before it starts.")
    try:
        return Recurrence("weekly", start_day, days_of_week=days, count=count, end_date=until)
    except RecurrenceError as exc:
        raise FormError("recurs", str(exc)) from None


__all__ = ["BUSY_CHOICES", "WEEKDAYS", "Appointment", "AppointmentForm", "FormError", "read"]
