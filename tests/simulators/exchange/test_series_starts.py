"""Windowed expansion (``SeriesStarts``, ``resume_point``) yields exactly what walking
the rule from the series' start yields, for every pattern, interval, range and window;
and the store keeps one expansion per series, replaced when the series changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.exchange.recurrence import (
    PAGES_KEPT,
    WEEKDAYS,
    Recurrence,
    RecurrenceError,
    SeriesStarts,
    occurrence_starts,
    resume_point,
)
from simulators.exchange.store import ExchangeStore

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = (*WEEKDAYS, "Day", "Weekday", "WeekendDay")


@st.composite
def recurrences(draw: st.DrawFn) -> Recurrence:
    pattern = draw(
        st.sampled_from(
            (
                "daily",
                "weekly",
                "absolute_monthly",
                "relative_monthly",
                "absolute_yearly",
                "relative_yearly",
            )
        )
    )
    fields: dict[str, object] = {
        "pattern": pattern,
        "start_date": draw(st.dates(date(2019, 1, 1), date(2027, 12, 31))),
        "interval": draw(st.integers(1, 5)),
    }
    if pattern == "weekly":
        fields["days_of_week"] = tuple(
            draw(st.lists(st.sampled_from(tuple(WEEKDAYS)), min_size=1, max_size=3, unique=True))
        )
    if pattern.startswith("relative_"):
        fields["days_of_week"] = (draw(st.sampled_from(DAYS)),)
        fields["week_index"] = draw(st.sampled_from(("First", "Second", "Third", "Last")))
    if pattern.startswith("absolute_"):
        fields["day_of_month"] = draw(st.integers(1, 31))
    if pattern.endswith("_yearly"):
        fields["month"] = draw(st.integers(1, 12))
    end = draw(st.sampled_from(("none", "date", "count")))
    if end == "date":
        fields["end_date"] = fields["start_date"] + timedelta(days=draw(st.integers(0, 2000)))  # type: ignore[operator]
    elif end == "count":
        fields["count"] = draw(st.integers(1, 60))
    try:
        return Recurrence(**fields)  # type: ignore[arg-type]
    except RecurrenceError:
        return Recurrence("daily", date(2024, 1, 1))


def walked(rec: Recurrence, first: datetime, lower: datetime, upper: datetime) -> list[datetime]:
    found = []
    for local in rec.rule(first):
        if local > upper:
            break
        if local >= lower:
            found.append(local)
    return found


@settings(max_examples=150, deadline=None)
@given(
    recurrences(),
    st.times(),
    st.datetimes(datetime(2018, 6, 1), datetime(2031, 1, 1)),
    st.integers(0, 60),
)
def test_windows_match_a_walk_from_the_series_start(
    rec: Recurrence, at: time, lower: datetime, days: int
) -> None:
    at = at.replace(microsecond=0)
    first = datetime.combine(rec.start_date, at)
    upper = lower + timedelta(days=days, hours=7)
    series = SeriesStarts(rec, first)
    assert series.between(lower, upper) == walked(rec, first, lower, upper)
    # asked again (kept pages) and a little later (the window moved on)
    assert series.between(lower, upper) == walked(rec, first, lower, upper)
    later = lower + timedelta(days=3)
    assert series.between(later, later + timedelta(days=9)) == walked(
        rec, first, later, later + timedelta(days=9)
    )


@settings(max_examples=100, deadline=None)
@given(recurrences(), st.datetimes(datetime(2018, 6, 1), datetime(2031, 1, 1)))
def test_the_resumed_rule_starts_at_a_period_before_the_target(
    rec: Recurrence, target: datetime
) -> None:
    first = datetime.combine(rec.start_date, time(9, 30))
    resumed = resume_point(rec, first, target)
    assert first <= resumed
    assert resumed <= max(target, first)


def test_a_long_window_is_walked_without_displacing_the_kept_pages() -> None:
    rec = Recurrence("weekly", date(2020, 1, 6), days_of_week=("Monday",))
    first = datetime(2020, 1, 6, 9)
    series = SeriesStarts(rec, first)
    week = series.between(datetime(2026, 3, 1), datetime(2026, 3, 10))
    assert [d.date() for d in week] == [date(2026, 3, 2), date(2026, 3, 9)]
    kept = dict(series._pages)
    five_years = series.between(first, first + timedelta(days=5 * 366))
    assert len(five_years) == 262
    assert len(kept) <= PAGES_KEPT and series._pages == kept


def test_the_store_keeps_one_expansion_per_series_and_follows_changes() -> None:
    store = ExchangeStore()
    store.add_mailbox("user@domain.net")
    calendar = store.distinguished_folder("calendar", "user@domain.net")
    start = datetime(2026, 1, 5, 9, tzinfo=BERLIN)
    master = store.create_calendar_item(
        calendar,
        subject="Weekly",
        start=start,
        end=start + timedelta(minutes=30),
        time_zone="Europe/Berlin",
        recurrence=Recurrence("weekly", date(2026, 1, 5), days_of_week=("Monday",)),
    )
    window = (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC))
    rows = store.calendar_view(calendar, *window)
    assert [r.start for r in rows] == [datetime(2026, 3, 16, 8, tzinfo=UTC)]
    kept = store._series[master.id]
    assert store.calendar_view(calendar, *window) == rows
    assert store._series[master.id] is kept  # reused, not expanded again
    store.update_item(
        master.id,
        recurrence=Recurrence("weekly", date(2026, 1, 5), days_of_week=("Tuesday",)),
    )
    moved = store.calendar_view(calendar, *window)
    assert [r.start for r in moved] == [datetime(2026, 3, 17, 8, tzinfo=UTC)]
    store.update_item(
        master.id,
        start=datetime(2026, 1, 5, 11, tzinfo=BERLIN),
        end=datetime(2026, 1, 5, 11, 30, tzinfo=BERLIN),
    )
    assert [r.start for r in store.calendar_view(calendar, *window)] == [
        datetime(2026, 3, 17, 10, tzinfo=UTC)
    ]
    store.delete_item(master.id)
    assert master.id not in store._series


def test_occurrence_starts_with_and_without_a_kept_series_agree() -> None:
    rec = Recurrence(
        "relative_monthly", date(2021, 5, 1), days_of_week=("Weekday",), week_index="Last"
    )
    window = (datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC))
    series = SeriesStarts(rec, datetime(2021, 5, 1, 17))
    fresh = list(occurrence_starts(rec, time(17), BERLIN, *window))
    kept = list(occurrence_starts(rec, time(17), BERLIN, *window, series=series))
    assert fresh == kept
    assert [d for d, _ in kept] == [date(2026, 2, 27), date(2026, 3, 31)]
