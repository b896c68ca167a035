"""Reading iCalendar into the store: zones (IANA, Windows names, a client's own
VTIMEZONE), all-day events, series with RRULE, EXDATE and RECURRENCE-ID, MIME
wrapping, and clear errors for content the store cannot keep."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.ical_in import IcalError, apply_event, default_times, read_event
from simulators.exchange.store import ExchangeStore
from simulators.exchange.webdav.ical import item_mime

BERLIN = ZoneInfo("Europe/Berlin")
OWN_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Mitteleuropa\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n"
)


def calendar(*events: str, zones: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e}END:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{zones}{body}END:VCALENDAR\r\n".encode()


def test_a_single_in_a_windows_named_zone() -> None:
    data = read_event(
        calendar(
            "UID:u1\r\nSUMMARY:Lunch\\, late\r\nLOCATION:Canteen\r\n"
            'DTSTART;TZID="W. Europe Standard Time":20260320T120000\r\n'
            'DTEND;TZID="W. Europe Standard Time":20260320T130000\r\n'
        ),
        "UTC",
    )
    fields = data.fields
    assert (fields["subject"], fields["location"], fields["uid"]) == (
        "Lunch, late",
        "Canteen",
        "u1",
    )
    assert fields["start"] == datetime(2026, 3, 20, 11, tzinfo=UTC)
    assert fields["time_zone"] == "Europe/Berlin" and fields["recurrence"] is None


def test_a_clients_own_zone_is_matched_to_an_iana_zone() -> None:
    data = read_event(
        calendar(
            "SUMMARY:Summer\r\nDTSTART;TZID=Mitteleuropa:20260701T100000\r\nDURATION:PT90M\r\n",
            zones=OWN_ZONE,
        ),
        "Europe/Berlin",
    )
    assert data.fields["time_zone"] == "Europe/Berlin"  # the mailbox's zone matches first
    assert data.fields["start"] == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert data.fields["end"] == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def test_an_all_day_event_and_busy_status() -> None:
    data = read_event(
        calendar(
            "SUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20260324\r\nDTEND;VALUE=DATE:20260325\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"
        ),
        "Europe/Berlin",
    )
    assert data.fields["all_day"] is True and data.fields["busy_status"] == "OOF"
    assert data.fields["start"] == datetime(2026, 3, 24, tzinfo=BERLIN)


def test_a_series_with_an_exception_and_a_deleted_occurrence_round_trips() -> None:
    store = ExchangeStore()
    store.add_mailbox("a@d.net", "A", time_zone="Europe/Berlin")
    folder = store.distinguished_folder("calendar", "a@d.net")
    source = read_event(
        calendar(
            "UID:s1\r\nSUMMARY:Jour fixe\r\nDTSTART;TZID=Europe/Berlin:20260316T100000\r\n"
            "DTEND;TZID=Europe/Berlin:20260316T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6\r\n"
            "EXDATE;TZID=Europe/Berlin:20260406T100000\r\n",
            "UID:s1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260330T100000\r\nSUMMARY:Moved\r\n"
            "DTSTART;TZID=Europe/Berlin:20260330T140000\r\nDTEND;TZID=Europe/Berlin:20260330T150000\r\n",
        ),
        "UTC",
    )
    item = apply_event(store, folder, source)
    assert item.recurrence is not None and item.recurrence.count == 6
    assert item.recurrence.days_of_week == ("Monday",) and item.deleted == {date(2026, 4, 6)}
    assert item.exceptions[date(2026, 3, 30)].subject == "Moved"
    # What Exchange gives back over WebDAV reads back to the same series.
    again = read_event(item_mime(item), "UTC")
    assert again.fields["recurrence"] == item.recurrence
    assert again.deleted == [date(2026, 4, 6)]
    assert [d for d, _ in again.exceptions] == [date(2026, 3, 30)]


@pytest.mark.parametrize(
    ("rrule", "pattern"),
    [
        ("FREQ=DAILY;INTERVAL=2;COUNT=3", "daily"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "absolute_monthly"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "relative_monthly"),
        ("FREQ=YEARLY;BYMONTH=3;BYDAY=MO;BYSETPOS=2", "relative_yearly"),
        ("FREQ=WEEKLY;UNTIL=20260331T090000Z", "weekly"),
    ],
)
def test_rrules_map_onto_exchange_patterns(rrule: str, pattern: str) -> None:
    data = read_event(
        calendar(f"DTSTART:20260316T090000Z\r\nDTEND:20260316T100000Z\r\nRRULE:{rrule}\r\n"),
        "Europe/Berlin",
    )
    assert data.fields["recurrence"].pattern == pattern


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not a calendar", "no text/calendar"),
        (calendar("SUMMARY:x\r\n"), "DTSTART"),
        (calendar("DTSTART:20260316T100000Z\r\nDTEND:20260316T090000Z\r\n"), "before"),
        (calendar("DTSTART:yesterday\r\n"), "not a date"),
        (calendar("DTSTART:20260316T100000Z\r\nRRULE:FREQ=HOURLY\r\n"), "HOURLY"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n", "does not close"),
    ],
)
def test_bad_content_is_a_clear_error(content: bytes, words: str) -> None:
    with pytest.raises(IcalError, match=words):
        read_event(content, "UTC")


def test_default_times_are_the_next_half_hour() -> None:
    start, end = default_times(datetime(2026, 3, 2, 8, 10, 40, tzinfo=UTC))
    assert (start, end) == (
        datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
