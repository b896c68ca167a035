"""Captured calendars as scenario-file YAML (``harness capture``, ``harness import-ics``).

Turns ``integration.capture.model`` records into the scenario format's words: a
series' zone becomes ``timezone:`` (an IANA zone, from the Windows name Exchange
gave) and, when the definition stored with it is not that zone's rules for the
series' year, ``timezone_rules:`` spelt out as stored; times are written as wall
clock times of the appointment's zone (with a UTC offset where that wall time is
ambiguous); modified and deleted occurrences are keyed by their original local
date. The text is checked by loading it before anyone writes it to disk.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from integration.capture.model import (
    DAY_NAMES,
    WEEK_INDEXES,
    Capture,
    CapturedAppointment,
    CapturedMailbox,
    CapturedZone,
    Moment,
)
from integration.capture.model import YearlyChange as CapturedChange
from scenarios.format import times
from simulators.exchange.recurrence import localize
from simulators.exchange.tzrules import (
    YearlyChange,
    ZoneRules,
    format_offset,
    rules_from_zone,
    same_rules,
)
from simulators.exchange.windowszones import WINDOWS_ZONES, iana_for

FIRST_EXTENSION = 100


def quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _change_text(change: YearlyChange) -> str:
    month = datetime(2000, change.month, 1).strftime("%B").lower()
    return (
        f"{WEEK_INDEXES[change.week - 1]} {DAY_NAMES[change.weekday]} of {month} {change.at:%H:%M}"
    )


@dataclass(frozen=True)
class Zone:
    """How one appointment's zone is written, and the tzinfo its times are read in."""

    iana: ZoneInfo
    rules: ZoneRules | None = None  # written as timezone_rules (differs from the IANA's)

    @property
    def reading(self) -> tzinfo:
        return self.rules or self.iana


def _change(captured: CapturedChange | None) -> YearlyChange | None:
    if captured is None:
        return None
    return YearlyChange(captured.month, captured.week, captured.weekday, captured.at)


def _rules(captured: CapturedZone, name: str) -> ZoneRules | None:
    d = captured.definition
    if d is None:
        return None
    try:
        return ZoneRules(
            name,
            d.standard_offset,
            d.daylight_offset,
            _change(d.daylight_starts),
            _change(d.daylight_ends),
        )
    except ValueError:
        return None  # a definition no zone can have: the name alone decides


def resolve_zone(captured: CapturedZone | None, year: int, fallback: ZoneInfo) -> Zone:
    """The IANA zone for Exchange's name (or the definition's match), and the stored
    definition when it is not that zone's rules in ``year``."""
    if captured is None:
        return Zone(fallback)
    iana = iana_for(captured.name)
    rules = _rules(captured, captured.name or (iana or fallback.key))
    if iana is None and rules is not None:
        for candidate in [fallback.key, *(z for z, _ in WINDOWS_ZONES.values())]:
            if same_rules(rules, rules_from_zone(candidate, year)):
                iana = candidate
                break
    zone = ZoneInfo(iana) if iana else fallback
    if rules is not None and same_rules(rules, rules_from_zone(zone.key, year)):
        rules = None
    return Zone(zone, rules)


def local_text(moment: datetime, zone: tzinfo) -> str:
    """An instant as the zone's wall-clock time, with an offset where that is ambiguous."""
    local = moment.astimezone(zone)
    naive = local.replace(tzinfo=None)
    text = naive.strftime("%Y-%m-%d %H:%M:%S" if naive.second else "%Y-%m-%d %H:%M")
    try:
        if times.local_instant(naive, zone) == moment.astimezone(UTC):
            return text
    except ValueError:
        pass
    return naive.strftime("%Y-%m-%dT%H:%M:%S") + format_offset(local.utcoffset() or timedelta(0))


def to_instant(moment: Moment, zone: tzinfo) -> datetime:
    """A captured time as an aware instant (naive: local to ``zone``; a date: midnight)."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo else localize(moment, zone)
    return localize(datetime.combine(moment, time(0)), zone)


def to_date(moment: Moment, zone: tzinfo) -> date:
    if isinstance(moment, datetime):
        return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    return moment


@dataclass
class Written:
    """The YAML of one appointment, and whether it had to become a step."""

    lines: list[str]
    created_later: datetime | None = None  # created inside the run: a create_appointment step
    notes: list[str] = field(default_factory=list)


def appointment_lines(
    appt: CapturedAppointment,
    mailbox: str,
    scenario_zone: ZoneInfo,
    run_start: datetime,
    run_end: datetime,
    indent: str = "  ",
    *,
    explain_stamps: bool = True,
) -> Written:
    """One appointment as a block list item (``- mailbox: ..``) of ``appointments:``."""
    year = to_instant(appt.start, scenario_zone).year
    zone = resolve_zone(appt.zone, year, scenario_zone)
    reading = zone.reading
    notes: list[str] = []
    fields: list[tuple[str, str]] = [("mailbox", mailbox), ("subject", quote(appt.subject))]
    if zone.iana.key != scenario_zone.key:
        fields.append(("timezone", zone.iana.key))
    if zone.rules is not None:
        fields.append(("timezone_rules", _rules_text(zone.rules)))
    all_day = appt.all_day
    start, end = to_instant(appt.start, reading), to_instant(appt.end, reading)
    if all_day and not (_midnight(start, reading) and _midnight(end, reading)):
        all_day = False
        notes.append("an all-day event whose bounds are not midnights in its zone: kept as timed")
    if all_day:
        fields.append(("all_day", "true"))
        fields.append(("start", to_date(start, reading).isoformat()))
        fields.append(("end", to_date(end, reading).isoformat()))
    else:
        fields.append(("start", quote(local_text(start, reading))))
        fields.append(("end", quote(local_text(end, reading))))
    if appt.busy_status != "busy":
        fields.append(("busy_status", appt.busy_status))
    if appt.location:
        fields.append(("location", quote(appt.location)))
    written = Written([], notes=notes)
    created = appt.created
    if created is not None and run_start < created <= run_end:
        written.created_later = created  # it appears during the run: a step
    else:
        if created is not None:
            if created > run_end and explain_stamps:
                notes.append(f"created {local_text(created, scenario_zone)}, after the run: seeded")
            created = min(created, run_start)
            fields.append(("created", quote(local_text(created, scenario_zone))))
        modified = appt.modified
        if modified is not None and created is not None and modified > created:
            if modified > run_start and explain_stamps:
                notes.append(
                    f"modified {local_text(modified, scenario_zone)}, during or after the run: "
                    "stamped at the start"
                )
            fields.append(("modified", quote(local_text(min(modified, run_start), scenario_zone))))
    if appt.recurrence is not None:
        fields.append(("recurrence", _recurrence_text(appt, reading)))
        changes = _exception_lines(appt, reading, run_start, all_day)
        if changes:
            fields.append(("exceptions", ""))
        deleted = sorted({to_date(_original(m, reading), reading) for m in appt.deleted})
        lines = _block(fields, indent)
        lines += [f"{indent}    - {c}" for c in changes]
        if deleted:
            lines.append(f"{indent}  deleted: [{', '.join(d.isoformat() for d in deleted)}]")
        written.lines = lines
        return written
    written.lines = _block(fields, indent)
    return written


def _original(moment: Moment, zone: tzinfo) -> datetime:
    return to_instant(moment, zone)


def _midnight(moment: datetime, zone: tzinfo) -> bool:
    return moment.astimezone(zone).time() == time(0)


def _block(fields: list[tuple[str, str]], indent: str) -> list[str]:
    lines = []
    for index, (key, value) in enumerate(fields):
        lead = f"{indent}- " if index == 0 else f"{indent}  "
        lines.append(f"{lead}{key}:{' ' + value if value else ''}")
    return lines


def _rules_text(rules: ZoneRules) -> str:
    parts = [
        f"name: {quote(rules.name)}",
        f"standard_offset: {quote(format_offset(rules.standard_offset))}",
    ]
    if rules.daylight_starts and rules.daylight_ends and rules.daylight_offset is not None:
        parts.append(f"daylight_offset: {quote(format_offset(rules.daylight_offset))}")
        parts.append(f"daylight_starts: {quote(_change_text(rules.daylight_starts))}")
        parts.append(f"daylight_ends: {quote(_change_text(rules.daylight_ends))}")
    return "{" + ", ".join(parts) + "}"


def _recurrence_text(appt: CapturedAppointment, zone: tzinfo) -> str:
    rec = appt.recurrence
    assert rec is not None
    parts = [f"pattern: {rec.pattern}"]
    if rec.interval != 1:
        parts.append(f"interval: {rec.interval}")
    if rec.days:
        parts.append(f"days: [{', '.join(rec.days)}]")
    if rec.week_index:
        parts.append(f"week_index: {rec.week_index}")
    if rec.day_of_month is not None:
        parts.append(f"day_of_month: {rec.day_of_month}")
    if rec.month is not None and rec.pattern == "yearly":
        parts.append(f"month: {rec.month}")
    if rec.count is not None:
        parts.append(f"count: {rec.count}")
    elif rec.until is not None:
        first = to_date(appt.start, zone)
        parts.append(f"until: {max(rec.until, first).isoformat()}")
    return "{" + ", ".join(parts) + "}"


def _exception_lines(
    appt: CapturedAppointment, zone: tzinfo, run_start: datetime, all_day: bool
) -> list[str]:
    lines: list[str] = []
    seen: set[date] = set()
    for change in sorted(appt.exceptions, key=lambda c: to_instant(c.original_start, zone)):
        day = to_date(_original(change.original_start, zone), zone)
        if day in seen:
            continue
        seen.add(day)
        parts = [f"date: {day.isoformat()}"]
        if change.subject is not None and change.subject != appt.subject:
            parts.append(f"subject: {quote(change.subject)}")
        for key, moment in (("start", change.start), ("end", change.end)):
            if moment is None:
                continue
            instant = to_instant(moment, zone)
            text = (
                to_date(instant, zone).isoformat() if all_day else quote(local_text(instant, zone))
            )
            parts.append(f"{key}: {text}")
        if change.location is not None and change.location != appt.location:
            parts.append(f"location: {quote(change.location)}")
        if change.busy_status is not None and change.busy_status != appt.busy_status:
            parts.append(f"busy_status: {change.busy_status}")
        if change.modified is not None:
            parts.append(f"modified: {quote(local_text(min(change.modified, run_start), zone))}")
        lines.append("{" + ", ".join(parts) + "}")
    return lines


def choose_zone(capture: Capture) -> ZoneInfo:
    """The zone most series were made in (by name), else UTC."""
    names: Counter[str] = Counter()
    for mailbox in capture.mailboxes:
        for appt in mailbox.appointments:
            if appt.zone is not None and (iana := iana_for(appt.zone.name)):
                names[iana] += 1
    return ZoneInfo(names.most_common(1)[0][0]) if names else ZoneInfo("UTC")


def user_line(mailbox: CapturedMailbox, extension: str) -> str:
    parts = [f"extension: {quote(extension)}"]
    if mailbox.display_name:
        parts.append(f"name: {quote(mailbox.display_name)}")
    parts.append(f"email: {mailbox.address}")
    parts.append(f"language: {mailbox.language if mailbox.language in ('en', 'de') else 'en'}")
    return "  - {" + ", ".join(parts) + "}"


def render_capture(capture: Capture, zone: ZoneInfo, stamp: datetime) -> str:
    """The whole scenario file of a capture (runs from the window's start to its end)."""
    start, end = capture.start, capture.end
    count = sum(len(m.appointments) for m in capture.mailboxes)
    lines = [
        f"# Captured over {capture.variant.upper() if capture.variant == 'ews' else 'WebDAV'} by "
        f"`harness capture` on {stamp.astimezone(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{len(capture.mailboxes)} mailbox(es), {count} appointment(s).",
        "# Anonymised: addresses, names and locations are keyed-hash pseudonyms; words of",
        "# subjects that are no presence keyword in any language are replaced; bodies,",
        "# attendees and organisers are left out.",
        "# Not in Exchange, so set as the customer's PBX has them: each user's extension,",
        "# language and auto_back_to_office, and the engine's polling settings.",
        *(f"# Note: {n}" for n in capture.notes),
        f"name: {quote('Captured calendars ' + local_text(start, zone)[:10] + ' to ' + local_text(end, zone)[:10])}",
        f"timezone: {zone.key}",
        f"start: {quote(local_text(start, zone))}",
        f"end: {quote(local_text(end, zone))}",
        "engine:",
        "  poll_interval: 30s",
        "users:",
    ]
    for index, mailbox in enumerate(capture.mailboxes):
        lines.append(user_line(mailbox, str(FIRST_EXTENSION + index)))
    seeded: list[str] = []
    steps: list[str] = []
    for mailbox in capture.mailboxes:
        for appt in mailbox.appointments:
            written = appointment_lines(appt, mailbox.address, zone, start, end)
            if written.created_later is not None:
                # Created while the run goes: it appears then (no created/modified keys).
                item = appointment_lines(appt, mailbox.address, zone, start, end, "    ").lines
                steps.append(f"  - at: {quote(local_text(written.created_later, zone))}")
                steps.append("    create_appointment:")
                steps.append("      " + item[0].removeprefix("    - "))
                steps.extend(item[1:])
                continue
            seeded.extend(f"  # {note}" for note in written.notes)
            seeded.extend(written.lines)
    lines.append("appointments:" if seeded else "appointments: []")
    lines.extend(seeded)
    if steps:
        lines.append("steps:")
        lines.extend(steps)
    return "\n".join(lines) + "\n"


__all__ = [
    "Zone",
    "appointment_lines",
    "choose_zone",
    "local_text",
    "quote",
    "render_capture",
    "resolve_zone",
    "to_instant",
    "user_line",
]
