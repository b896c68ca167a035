"""Seed pieces several test suites share."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import SeedAppointment, SeedOccurrenceChange

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
