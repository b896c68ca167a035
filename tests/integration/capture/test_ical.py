"""iCalendar patterns as Exchange has them, in the scenario format's words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from integration.capture.ical import parse_calendar
from integration.capture.model import CapturedRecurrence, CaptureError, YearlyChange


def _calendar(*lines: str, dtstart: str = "DTSTART:20260105T090000Z") -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:1",
            "SUMMARY:Meeting",
            dtstart,
            "DURATION:PT30M",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


@pytest.mark.parametrize(
    ("rule", "want"),
    [
        ("FREQ=DAILY;INTERVAL=2;COUNT=5", CapturedRecurrence("daily", 2, count=5)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", CapturedRecurrence("weekly", days=("weekday",))),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T235959Z",
            CapturedRecurrence(
                "monthly", days=("friday",), week_index="last", until=date(2026, 12, 31)
            ),
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            CapturedRecurrence("monthly", days=("weekday",), week_index="first"),
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", CapturedRecurrence("monthly", day_of_month=31)),
        (
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=8",
            CapturedRecurrence("yearly", day_of_month=8, month=3),
        ),
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
            CapturedRecurrence("yearly", days=("thursday",), week_index="fourth", month=11),
        ),
    ],
)
def test_rrules_exchange_has(rule: str, want: CapturedRecurrence) -> None:
    [series] = parse_calendar(_calendar(f"RRULE:{rule}"))
    assert series.recurrence == want
    assert series.start == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert series.end == series.start + timedelta(minutes=30)


def test_a_vtimezone_is_the_series_stored_definition() -> None:
    text = _calendar(
        "RRULE:FREQ=WEEKLY",
        dtstart='DTSTART;TZID="Eastern (old)":20260302T090000',
    ).replace(
        "BEGIN:VEVENT",
        "BEGIN:VTIMEZONE\r\nTZID:Eastern (old)\r\nBEGIN:STANDARD\r\nDTSTART:16011028T020000\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
        "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010401T020000\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"
        "END:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT",
        1,
    )
    [series] = parse_calendar(text)
    assert series.start == datetime(2026, 3, 2, 9, 0)  # naive: local to its zone
    assert series.zone is not None and series.zone.name == "Eastern (old)"
    definition = series.zone.definition
    assert definition is not None
    assert definition.daylight_starts == YearlyChange(4, 1, 6, time(2, 0))
    assert definition.daylight_ends == YearlyChange(10, 5, 6, time(2, 0))
    assert (definition.standard_offset, definition.daylight_offset) == (
        timedelta(hours=-5),
        timedelta(hours=-4),
    )


def test_cancelled_overrides_are_deletions_and_a_date_lasts_a_day() -> None:
    text = _calendar("RRULE:FREQ=DAILY;COUNT=3").replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:1\r\nRECURRENCE-ID:20260106T090000Z\r\nSTATUS:CANCELLED\r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\nSUMMARY:Urlaub\r\nDTSTART;VALUE=DATE:20260110\r\n"
        "END:VEVENT\r\nEND:VCALENDAR",
    )
    series, holiday = parse_calendar(text)
    assert series.deleted == [datetime(2026, 1, 6, 9, 0, tzinfo=UTC)] and not series.exceptions
    assert holiday.all_day and (holiday.start, holiday.end) == (
        date(2026, 1, 10),
        date(2026, 1, 11),
    )


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (("RRULE:FREQ=MINUTELY",), 8, "FREQ=MINUTELY"),
        (("RRULE:FREQ=WEEKLY;BYDAY=1MO",), 8, "plain BYDAY"),
        (("RRULE:FREQ=YEARLY;BYMONTH=1,7",), 8, "one month"),
        (("RRULE:FREQ=DAILY;COUNT=2;UNTIL=20260110",), 8, "both COUNT and UNTIL"),
        (("EXDATE:20260106T090000Z",), 8, "EXDATE without an RRULE"),
        (("RRULE:FREQ=DAILY", "RDATE:20260120T090000Z"), 9, "RDATE"),
    ],
)
def test_what_exchange_cannot_hold_names_its_line(
    lines: tuple[str, ...], line: int, message: str
) -> None:
    with pytest.raises(CaptureError) as caught:
        parse_calendar(_calendar(*lines), "export.ics")
    assert str(caught.value).startswith(f"export.ics:{line}: "), caught.value
    assert message in str(caught.value)
