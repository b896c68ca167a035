"""Recurrence patterns expand in local wall-clock time, as Exchange does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.recurrence import (
    Recurrence,
    RecurrenceError,
    _wall,
    localize,
    occurrence_starts,
)

BERLIN = ZoneInfo("Europe/Berlin")


def local_starts(rec: Recurrence, at: time = time(9, 0), zone: ZoneInfo = BERLIN) -> list[str]:
    return [
        start.astimezone(zone).strftime("%Y-%m-%d %H:%M %a")
        for _, start in occurrence_starts(rec, at, zone)
    ]


def test_weekly_keeps_wall_clock_across_dst() -> None:
    rec = Recurrence("weekly", date(2026, 3, 16), days_of_week=("Monday",), count=3)
    starts = [s for _, s in occurrence_starts(rec, time(9, 0), BERLIN)]
    assert [s.astimezone(BERLIN).hour for s in starts] == [9, 9, 9]
    # 08:00 UTC in winter, 07:00 UTC after 2026-03-29
    assert [s.hour for s in starts] == [8, 8, 7]


def test_weekly_several_days_with_count() -> None:
    rec = Recurrence("weekly", date(2026, 1, 5), days_of_week=("Monday", "Wednesday"), count=4)
    assert local_starts(rec) == [
        "2026-01-05 09:00 Mon",
        "2026-01-07 09:00 Wed",
        "2026-01-12 09:00 Mon",
        "2026-01-14 09:00 Wed",
    ]


def test_start_date_off_pattern_is_not_an_occurrence() -> None:
    # Exchange moves the first occurrence to the first matching day.
    rec = Recurrence("weekly", date(2026, 1, 6), days_of_week=("Monday",), count=2)
    assert local_starts(rec) == ["2026-01-12 09:00 Mon", "2026-01-19 09:00 Mon"]


def test_daily_interval_and_end_date_inclusive() -> None:
    rec = Recurrence("daily", date(2026, 1, 1), interval=2, end_date=date(2026, 1, 7))
    assert [d for d, _ in occurrence_starts(rec, time(9), BERLIN)] == [
        date(2026, 1, 1),
        date(2026, 1, 3),
        date(2026, 1, 5),
        date(2026, 1, 7),
    ]


def test_absolute_monthly_day_31_falls_on_last_day() -> None:
    rec = Recurrence("absolute_monthly", date(2026, 1, 31), day_of_month=31, count=3)
    assert [d for d, _ in occurrence_starts(rec, time(9), BERLIN)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_relative_monthly_last_weekday() -> None:
    rec = Recurrence(
        "relative_monthly", date(2026, 1, 1), days_of_week=("Weekday",), week_index="Last", count=3
    )
    assert [d for d, _ in occurrence_starts(rec, time(9), BERLIN)] == [
        date(2026, 1, 30),  # Friday
        date(2026, 2, 27),
        date(2026, 3, 31),
    ]


def test_relative_yearly_second_tuesday_of_june() -> None:
    rec = Recurrence(
        "relative_yearly",
        date(2026, 1, 1),
        days_of_week=("Tuesday",),
        week_index="Second",
        month=6,
        count=2,
    )
    assert [d for d, _ in occurrence_starts(rec, time(9), BERLIN)] == [
        date(2026, 6, 9),
        date(2027, 6, 8),
    ]


def test_absolute_yearly() -> None:
    rec = Recurrence("absolute_yearly", date(2026, 2, 28), day_of_month=28, month=2, count=2)
    assert [d for d, _ in occurrence_starts(rec, time(9), BERLIN)] == [
        date(2026, 2, 28),
        date(2027, 2, 28),
    ]


def test_no_end_series_stops_at_the_horizon() -> None:
    rec = Recurrence("daily", date(2026, 1, 1))
    days = [d for d, _ in occurrence_starts(rec, time(9), BERLIN)]
    assert days[0] == date(2026, 1, 1)
    assert 1800 < len(days) < 1900


def test_window_limits_the_iteration() -> None:
    rec = Recurrence("daily", date(2026, 1, 1))
    window = occurrence_starts(
        rec,
        time(9),
        BERLIN,
        datetime(2026, 6, 10, tzinfo=UTC),
        datetime(2026, 6, 12, tzinfo=UTC),
    )
    days = [d for d, _ in window]
    assert date(2026, 6, 10) in days and date(2026, 6, 11) in days
    assert all(date(2026, 6, 8) <= d <= date(2026, 6, 13) for d in days)


def test_time_in_the_spring_gap_moves_forward() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin; Outlook shows 03:30 CEST.
    instant = localize(datetime(2026, 3, 29, 2, 30), BERLIN)
    assert instant == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_ambiguous_autumn_time_takes_summer_reading() -> None:
    instant = localize(datetime(2026, 10, 25, 2, 30), BERLIN)
    assert instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern": "hourly"}, "unknown recurrence pattern"),
        ({"pattern": "daily", "interval": 0}, "interval"),
        ({"pattern": "daily", "count": 2, "end_date": date(2026, 2, 1)}, "not both"),
        ({"pattern": "daily", "count": 0}, "at least 1"),
        ({"pattern": "weekly"}, "needs days of week"),
        ({"pattern": "weekly", "days_of_week": ("Moonday",)}, "unknown day"),
        ({"pattern": "absolute_monthly"}, "needs a day of month"),
        ({"pattern": "relative_monthly", "days_of_week": ("Monday",)}, "week index"),
        ({"pattern": "absolute_yearly", "day_of_month": 3}, "needs a month"),
        ({"pattern": "absolute_monthly", "day_of_month": 32}, "between 1 and 31"),
    ],
)
def test_invalid_patterns_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        Recurrence(start_date=date(2026, 1, 1), **kwargs)  # type: ignore[arg-type]


_CHANGES = [  # (zone, naive wall time): Berlin's gap and its doubled hour, New York's, Apia's lost day
    ("Europe/Berlin", datetime(2026, 3, 29, 2, 30)),
    ("Europe/Berlin", datetime(2026, 10, 25, 2, 30)),
    ("America/New_York", datetime(2026, 11, 1, 1, 30)),
    ("Pacific/Apia", datetime(2011, 12, 30, 12, 0)),
    ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45)),
]


@pytest.mark.parametrize(("name", "wall"), _CHANGES)
def test_localize_reads_gaps_and_doubled_hours_as_replace_does(name: str, wall: datetime) -> None:
    zone = ZoneInfo(name)
    for fold in (0, 1):
        naive = wall.replace(fold=fold)
        assert localize(naive, zone) == naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


@pytest.mark.parametrize(("name", "wall"), _CHANGES)
def test_wall_clock_of_an_instant_keeps_the_fold(name: str, wall: datetime) -> None:
    zone = ZoneInfo(name)
    for minutes in range(-120, 121, 15):
        moment = wall.replace(tzinfo=UTC) + timedelta(minutes=minutes)
        expected = moment.astimezone(zone).replace(tzinfo=None)
        got = _wall(moment, zone)
        assert (got, got.fold, got.tzinfo) == (expected, expected.fold, None)
