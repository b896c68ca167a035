"""Appointments of a scenario file: times, recurrence, exceptions -> ``SeedAppointment``.

Used for ``appointments:`` (already in Exchange at the start) and for the
``create_appointment`` / ``update_appointment`` steps. The file's friendly
recurrence (``monthly`` with ``week_index: last``) becomes the Exchange pattern
of ``simulators.exchange.recurrence`` (``relative_monthly``); the series lives
in its own zone (``timezone:``, else its mailbox owner's, else the scenario's),
so its wall-clock time survives DST (R10), and its times are read in that zone.
With ``timezone_rules`` the series carries the definition its client stored, and
Exchange expands it (and its times are read) with that definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import islice
from zoneinfo import ZoneInfo

from yaml.nodes import Node

from scenarios.format import clocks, times
from scenarios.format.meetings import read_meeting
from scenarios.format.model import BUSY_STATUSES, User
from scenarios.format.yamlnodes import Fields, Reader, line_of, suggest
from simulators.exchange.recurrence import (
    MONTHS,
    Recurrence,
    RecurrenceError,
    localize,
    occurrence_starts,
)
from simulators.exchange.seed import SeedAppointment, SeedOccurrenceChange
from simulators.exchange.tzrules import ZoneRules

APPOINTMENT_KEYS: tuple[str, ...] = (
    "id",
    "mailbox",
    "subject",
    "start",
    "end",
    "created",
    "all_day",
    "busy_status",
    "location",
    "recurrence",
    "exceptions",
    "deleted",
    "timezone",
    "timezone_rules",
    "modified",
    "meeting",
)
EXCEPTION_KEYS: tuple[str, ...] = (
    "date",
    "subject",
    "start",
    "end",
    "location",
    "busy_status",
    "modified",
)
_COMMON = ("pattern", "interval", "count", "until")
PATTERN_KEYS: dict[str, tuple[str, ...]] = {
    "daily": _COMMON,
    "weekly": (*_COMMON, "days"),
    "monthly": (*_COMMON, "days", "day_of_month", "week_index"),
    "yearly": (*_COMMON, "days", "day_of_month", "week_index", "month"),
}
RECURRENCE_KEYS: tuple[str, ...] = PATTERN_KEYS["yearly"]
DAY_NAMES: dict[str, str] = {
    "monday": "Monday",
    "tuesday": "Tuesday",
    "wednesday": "Wednesday",
    "thursday": "Thursday",
    "friday": "Friday",
    "saturday": "Saturday",
    "sunday": "Sunday",
    # Exchange's pseudo-days, mostly for `week_index` ("the last weekday of the month").
    "day": "Day",
    "weekday": "Weekday",
    "weekend_day": "WeekendDay",
}
WEEK_INDEXES: dict[str, str] = {
    "first": "First",
    "second": "Second",
    "third": "Third",
    "fourth": "Fourth",
    "last": "Last",
}
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Mailboxes:
    """Users by lower-cased e-mail address: who an appointment's ``mailbox`` may name."""

    by_email: Mapping[str, User]

    def resolve(self, reader: Reader, node: Node) -> str | None:
        raw = reader.nonempty(node, "mailbox")
        if raw is None:
            return None
        user = self.by_email.get(raw.strip().lower())
        if user is None:
            known = [u.email for u in self.by_email.values() if u.email and u.mailbox]
            hint = suggest(raw, known) if known else " (no user has a mailbox)"
            reader.error(node, f"no user has the mailbox {raw!r}{hint}")
            return None
        if not user.mailbox:
            reader.error(
                node, f"user {user.extension} has mailbox: false, so {raw!r} has no calendar"
            )
            return None
        return user.email


def all_day_bound(reader: Reader, node: Node, what: str, day: date) -> date | None:
    """A date, or a time that is a local midnight (a time of day is on ``day``)."""
    raw = reader.text(node, what)
    if raw is None:
        return None
    if times.is_date(raw):
        return reader.date(node, what)
    moment = reader.moment(node, what, day)
    if moment is None:
        return None
    local = moment.astimezone(reader.zone)
    if local.time() != time(0):
        reader.error(node, f"{what} of an all-day appointment must be a date or a midnight")
        return None
    return local.date()


def midnight(day: date, reader: Reader) -> datetime:
    # A midnight inside a DST gap (a few zones) moves forward as Outlook shows it.
    return localize(datetime.combine(day, time(0)), reader.zone)


def read_times(
    reader: Reader, fields: Fields, all_day: bool, day: date
) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a new appointment; ``end`` of an all-day one defaults to a day."""
    if not all_day:
        start = fields.moment("start", day, required=True)
        end = fields.moment("end", day, required=True)
        return start, end
    start_node, end_node = fields.require("start"), fields.get("end")
    first = None if start_node is None else all_day_bound(reader, start_node, "start", day)
    if first is None:
        return None, None
    last = first + ONE_DAY
    if end_node is not None:
        given = all_day_bound(reader, end_node, "end", day)
        if given is None:
            return None, None
        if given <= first:
            reader.error(
                end_node, "an all-day appointment ends (exclusive) at least a day after it starts"
            )
            return None, None
        last = given
    return midnight(first, reader), midnight(last, reader)


def check_order(reader: Reader, fields: Fields, start: datetime, end: datetime) -> bool:
    if end < start:
        reader.error(
            fields.key_line("end"),
            f"end {times.describe(end, reader.zone)} is before start "
            f"{times.describe(start, reader.zone)}",
        )
        return False
    return True


def appointment_zone(
    reader: Reader, fields: Fields, mailboxes: Mailboxes, mailbox: str | None
) -> tuple[ZoneInfo, ZoneRules | None]:
    """The appointment's IANA zone and its stored definition (or None): its own
    ``timezone``, else its mailbox owner's, else the scenario's."""
    zone: ZoneInfo = reader.zone if isinstance(reader.zone, ZoneInfo) else ZoneInfo("UTC")
    owner = mailboxes.by_email.get(mailbox.lower()) if mailbox else None
    if owner is not None and owner.timezone:
        zone = ZoneInfo(owner.timezone)
    if (zone_node := fields.get("timezone")) is not None:
        zone = clocks.read_zone(reader, zone_node) or zone
    rules = None
    if (rules_node := fields.get("timezone_rules")) is not None:
        rules = clocks.read_rules(reader, rules_node, zone, _start_year(reader, fields, zone))
    return zone, rules


def _start_year(reader: Reader, fields: Fields, zone: ZoneInfo) -> int:
    """The year the appointment starts in (quietly: its start is checked later)."""
    node = fields.get("start")
    raw = getattr(node, "value", None)
    if isinstance(raw, str):
        try:
            if times.is_date(raw):
                return times.parse_date(raw).year
            return times.parse_moment(raw, zone, reader.day).astimezone(zone).year
        except ValueError:
            pass
    return reader.day.year


def read_appointment(
    reader: Reader,
    node: Node,
    what: str,
    mailboxes: Mailboxes,
    scenario_start: datetime | None,
) -> tuple[str | None, SeedAppointment] | None:
    """(id, appointment); ``scenario_start`` is None in a step (no ``created`` or
    ``modified`` there). Its times are read in its own zone."""
    allowed = (
        APPOINTMENT_KEYS
        if scenario_start
        else tuple(k for k in APPOINTMENT_KEYS if k not in ("created", "modified"))
    )
    fields = reader.mapping(node, what, allowed)
    if fields is None:
        return None
    handle = None
    if (id_node := fields.get("id")) is not None:
        handle = reader.nonempty(id_node, "id")
    mailbox_node = fields.require("mailbox")
    mailbox = None if mailbox_node is None else mailboxes.resolve(reader, mailbox_node)
    problems = len(reader.problems)
    zone, rules = appointment_zone(reader, fields, mailboxes, mailbox)
    if len(reader.problems) > problems:
        return None
    with reader.zoned(rules or zone):
        return _read_in_zone(reader, fields, handle, mailbox, scenario_start, zone, rules)


def _read_in_zone(
    reader: Reader,
    fields: Fields,
    handle: str | None,
    mailbox: str | None,
    scenario_start: datetime | None,
    zone: ZoneInfo,
    rules: ZoneRules | None,
) -> tuple[str | None, SeedAppointment] | None:
    subject = fields.text("subject", default="")
    all_day = fields.flag("all_day", False)
    start, end = read_times(reader, fields, all_day, reader.day)
    busy = fields.choice("busy_status", tuple(BUSY_STATUSES), default="busy")
    location = fields.text("location", default="")
    if start is None or end is None or not check_order(reader, fields, start, end):
        return None
    created = modified = None
    if scenario_start is not None:
        # Already in Exchange at the start: made a day before its start, but no later
        # than the scenario start (a future appointment was not made in the future).
        created = fields.moment("created") or min(start - ONE_DAY, scenario_start)
        if created > scenario_start:
            reader.error(
                fields.key_line("created"),
                "created is after the scenario start; an appointment that appears later "
                "is a create_appointment step",
            )
        modified = fields.moment("modified")
        if modified is not None and not created <= modified <= scenario_start:
            reader.error(
                fields.key_line("modified"),
                "modified must be between created and the scenario start",
            )
    appointment = SeedAppointment(
        mailbox=mailbox or "",
        subject=subject or "",
        start=start,
        end=end,
        handle=handle,
        created=created,
        all_day=all_day,
        busy_status=BUSY_STATUSES[busy or "busy"],
        location=location or "",
        time_zone=zone.key,
        time_zone_rules=rules,
        modified=modified,
    )
    if (rec_node := fields.get("recurrence")) is not None:
        appointment.recurrence = read_recurrence(reader, rec_node, start)
    if (meeting_node := fields.get("meeting")) is not None:
        appointment.meeting = read_meeting(reader, meeting_node, mailbox)
    read_changes(reader, fields, appointment)
    if mailbox is None or busy is None:
        return None
    return handle, appointment


def series_zone(appointment: SeedAppointment) -> tzinfo:
    """The zone an appointment's times are read and expanded in."""
    return appointment.time_zone_rules or ZoneInfo(appointment.time_zone)


def _day_name(reader: Reader, node: Node) -> str | None:
    raw = reader.text(node, "day")
    if raw is None:
        return None
    name = DAY_NAMES.get(raw.strip().lower())
    if name is None:
        reader.error(node, f"unknown day {raw!r}{suggest(raw.lower(), DAY_NAMES)}")
    return name


def _month(reader: Reader, node: Node) -> int | None:
    raw = reader.text(node, "recurrence month")
    if raw is None:
        return None
    if raw.strip().isdigit():
        return reader.integer(node, "recurrence month", 1, 12)
    names = [m.lower() for m in MONTHS]
    if raw.strip().lower() in names:
        return names.index(raw.strip().lower()) + 1
    reader.error(node, f"unknown month {raw!r}{suggest(raw.lower(), names)}")
    return None


def read_recurrence(reader: Reader, node: Node, start: datetime) -> Recurrence | None:
    """The Exchange pattern for the file's ``recurrence:`` of a series starting at ``start``."""
    fields = reader.mapping(node, "recurrence", RECURRENCE_KEYS, required=("pattern",))
    if fields is None:
        return None
    pattern = fields.choice("pattern", tuple(PATTERN_KEYS))
    if pattern is None:
        return None
    before = len(reader.problems)
    for key in fields.entries:
        if key not in PATTERN_KEYS[pattern]:
            reader.error(fields.key_line(key), f"a {pattern} recurrence takes no {key!r}")
    local = start.astimezone(reader.zone)
    interval = fields.integer("interval", 1, 999) or 1
    count = fields.integer("count", 1, 100_000)
    until = fields.date("until")
    days = tuple(d for d in (_day_name(reader, n) for n in fields.items("days")) if d)
    if "days" in fields and not fields.items("days"):
        reader.error(fields.key_line("days"), "recurrence days must list at least one day")
    week_index = fields.choice("week_index", tuple(WEEK_INDEXES))
    day_of_month = fields.integer("day_of_month", 1, 31)
    month = None
    if (month_node := fields.get("month")) is not None:
        month = _month(reader, month_node)
    if "week_index" in fields and "day_of_month" in fields:
        reader.error(fields.key_line("day_of_month"), "give day_of_month or week_index, not both")
    if "days" in fields and "week_index" not in fields and pattern in ("monthly", "yearly"):
        reader.error(
            fields.key_line("days"),
            f"days in a {pattern} recurrence need a week_index (first..last)",
        )
    if until is not None and until < local.date():
        reader.error(fields.key_line("until"), "until is before the appointment's start date")
    if len(reader.problems) > before:
        return None
    kind = pattern
    if pattern in ("monthly", "yearly"):
        kind = ("relative_" if week_index else "absolute_") + pattern
    if kind == "weekly" or kind.startswith("relative_"):
        # Outlook's default: the weekday of the first occurrence.
        days = days or (local.strftime("%A"),)
    if kind.startswith("absolute_"):
        day_of_month = day_of_month or local.day
    try:
        return Recurrence(
            pattern=kind,  # type: ignore[arg-type]
            start_date=local.date(),
            interval=interval,
            days_of_week=days,
            day_of_month=day_of_month,
            week_index=WEEK_INDEXES[week_index] if week_index else None,
            month=(month or local.month) if pattern == "yearly" else None,
            end_date=until,
            count=count,
        )
    except RecurrenceError as exc:
        reader.error(node, f"recurrence: {exc}")
        return None


def _originals(appointment: SeedAppointment, reader: Reader, day: date) -> datetime | None:
    """UTC start of the series' occurrence on local ``day`` (None: no occurrence then)."""
    assert appointment.recurrence is not None
    local_time = appointment.start.astimezone(reader.zone).time()
    low = datetime.combine(day, time(0), reader.zone)
    for found, start in occurrence_starts(
        appointment.recurrence, local_time, reader.zone, low, low + ONE_DAY
    ):
        if found == day:
            return start
        if found > day:
            break
    return None


def check_series(reader: Reader, node: Node, appointment: SeedAppointment) -> None:
    """Exchange refuses a series that has no occurrence or whose occurrences overlap."""
    assert appointment.recurrence is not None
    local_time = appointment.start.astimezone(reader.zone).time()
    starts = [
        s for _, s in islice(occurrence_starts(appointment.recurrence, local_time, reader.zone), 2)
    ]
    if not starts:
        reader.error(node, "the recurrence has no occurrence at all")
    elif len(starts) == 2 and appointment.end - appointment.start > starts[1] - starts[0]:
        reader.error(node, "an occurrence lasts longer than the time between two occurrences")


def read_changes(reader: Reader, fields: Fields, appointment: SeedAppointment) -> None:
    """``exceptions:`` and ``deleted:``, each naming an occurrence by its original date."""
    rec_node = fields.get("recurrence")
    if appointment.recurrence is not None and rec_node is not None:
        check_series(reader, rec_node, appointment)
    seen: dict[date, int] = {}
    for key in ("exceptions", "deleted"):
        items = fields.items(key)
        if items and rec_node is None:
            reader.error(fields.key_line(key), f"{key} need a recurrence")
            continue
        if appointment.recurrence is None:
            continue
        for item in items:
            if key == "exceptions":
                change = read_exception(reader, item, appointment)
                day = None if change is None else change.original_date
            else:
                day = reader.date(item, "deleted occurrence")
            if day is None:
                continue
            if day in seen:
                reader.error(
                    item, f"occurrence {day} is already changed or deleted at line {seen[day]}"
                )
                continue
            seen[day] = line_of(item)
            if _originals(appointment, reader, day) is None:
                reader.error(item, f"{day} is not the date of an occurrence of this series")
            elif key == "exceptions" and change is not None:
                appointment.exceptions.append(change)
            else:
                appointment.deleted.append(day)


def read_exception(
    reader: Reader, node: Node, appointment: SeedAppointment
) -> SeedOccurrenceChange | None:
    fields = reader.mapping(node, "exception", EXCEPTION_KEYS, required=("date",))
    if fields is None:
        return None
    day = fields.date("date")
    if day is None:
        return None
    change = SeedOccurrenceChange(
        original_date=day,
        subject=fields.text("subject"),
        location=fields.text("location"),
        modified=fields.moment("modified"),
    )
    if "busy_status" in fields:
        busy = fields.choice("busy_status", tuple(BUSY_STATUSES))
        change.busy_status = BUSY_STATUSES[busy] if busy else None
    if "start" not in fields and "end" not in fields:
        return change
    original = _originals(appointment, reader, day)
    if original is None:
        return change  # reported by the caller
    duration = appointment.end - appointment.start
    if appointment.all_day:
        first = all_day_bound(reader, s, "start", day) if (s := fields.get("start")) else None
        last = all_day_bound(reader, e, "end", day) if (e := fields.get("end")) else None
        start = midnight(first, reader) if first else original
        end = midnight(last, reader) if last else start + duration
    else:
        start = fields.moment("start", day) or original
        end = fields.moment("end", day) or start + duration
    if check_order(reader, fields, start, end):
        change.start, change.end = start.astimezone(UTC), end.astimezone(UTC)
    return change
