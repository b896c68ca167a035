"""Seed pieces several test suites share."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import SeedAppointment, SeedOccurrenceChange
from simulators.exchange.tzrules import rules_from_zone

BERLIN = ZoneInfo("Europe/Berlin")


def dst_weekly_series(mailbox: str) -> SeedAppointment:
    """Mondays 09:00-10:00 Berlin time from 2026-03-16, six times, across the
    2026-03-29 DST change; 2026-03-23 moved to 14:00 and renamed, 2026-04-06 deleted."""
    return SeedAppointment(
        mailbox=mailbox,
        handle="weekly",
        subject="Weekly review",
        start=datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN),
        end=datetime(2026, 3, 16, 10, 0, tzinfo=BERLIN),
        created=datetime(2026, 3, 1, 8, 0, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
        location="Room 1",
        recurrence=Recurrence("weekly", date(2026, 3, 16), days_of_week=("Monday",), count=6),
        exceptions=[
            SeedOccurrenceChange(
                date(2026, 3, 23),
                subject="Moved review",
                start=datetime(2026, 3, 23, 14, 0, tzinfo=BERLIN),
                end=datetime(2026, 3, 23, 15, 0, tzinfo=BERLIN),
            )
        ],
        deleted=[date(2026, 4, 6)],
    )


NEW_YORK = ZoneInfo("America/New_York")


def old_us_rules_series(mailbox: str) -> SeedAppointment:
    """Mondays 09:00-09:30 New York time from 2026-03-02, ten times, stored with the US
    rules of 2006 (daylight time from the first Sunday in April): Exchange expands the
    9, 16, 23 and 30 March an hour later than New York's clocks (14:00 UTC, not 13:00)."""
    return SeedAppointment(
        mailbox=mailbox,
        handle="old-rules",
        subject="NY standup",
        start=datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK),
        end=datetime(2026, 3, 2, 9, 30, tzinfo=NEW_YORK),
        created=datetime(2026, 2, 20, 8, 0, tzinfo=NEW_YORK),
        time_zone="America/New_York",
        time_zone_rules=rules_from_zone(
            "America/New_York", 2006, "(GMT-05:00) Eastern Time (US & Canada)"
        ),
        recurrence=Recurrence("weekly", date(2026, 3, 2), days_of_week=("Monday",), count=10),
    )
