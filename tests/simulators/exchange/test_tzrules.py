"""Stored time-zone definitions: the clock they give, and series expanded with them."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedMailbox,
    add_appointment,
    apply_seed,
)
from simulators.exchange.store import ExchangeStore
from simulators.exchange.tzrules import (
    YearlyChange,
    ZoneRules,
    ZoneRulesError,
    rules_from_zone,
    same_rules,
)
from tests.seeds import old_us_rules_series

MAILBOX = "anna@domain.net"


@pytest.mark.parametrize(
    "iana",
    ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/London"],
)
def test_the_rules_of_a_year_give_the_zones_clock_all_that_year(iana: str) -> None:
    zone, rules = ZoneInfo(iana), rules_from_zone(iana, 2026)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year == 2026:
        want, got = moment.astimezone(zone), moment.astimezone(rules)
        assert (got.replace(tzinfo=None), got.fold) == (want.replace(tzinfo=None), want.fold)
        # and back: the wall time with its fold reads as the same instant
        assert got.replace(tzinfo=rules).astimezone(UTC) == moment
        moment += timedelta(minutes=20)


def test_old_us_rules_are_the_2006_ones() -> None:
    old = rules_from_zone("America/New_York", 2006)
    assert old.daylight_starts == YearlyChange(4, 1, 6, time(2, 0))  # first Sunday in April
    assert old.daylight_ends == YearlyChange(10, 5, 6, time(2, 0))  # last Sunday in October
    assert (old.standard_offset, old.daylight_offset) == (timedelta(hours=-5), timedelta(hours=-4))
    assert not same_rules(old, rules_from_zone("America/New_York", 2026))
    assert "first sunday of april at 02:00" in old.describe()


def test_gap_and_repeated_hour_follow_the_fold_convention() -> None:
    berlin = rules_from_zone("Europe/Berlin", 2026)
    gap = datetime(2026, 3, 29, 2, 30)
    assert gap.replace(tzinfo=berlin, fold=0).utcoffset() == timedelta(hours=1)
    assert gap.replace(tzinfo=berlin, fold=1).utcoffset() == timedelta(hours=2)
    twice = datetime(2026, 10, 25, 2, 30)
    assert twice.replace(tzinfo=berlin, fold=0).utcoffset() == timedelta(hours=2)
    assert twice.replace(tzinfo=berlin, fold=1).utcoffset() == timedelta(hours=1)


def test_last_and_fifth_weeks_fall_back_into_the_month() -> None:
    assert YearlyChange(2, 5, 6).on(2026) == datetime(2026, 2, 22, 2, 0)  # last Sunday
    assert YearlyChange(3, 2, 6).on(2026) == datetime(2026, 3, 8, 2, 0)


def test_equal_definitions_are_equal_and_hash_alike() -> None:
    a, b = rules_from_zone("America/New_York", 2006), rules_from_zone("America/New_York", 2006)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_a_definition_pickles_to_an_equal_one_with_the_same_clock() -> None:
    # Scenarios and their results cross to harness run's worker processes.
    rules = rules_from_zone("America/New_York", 2006)
    copy = pickle.loads(pickle.dumps(rules))
    moment = datetime(2006, 4, 2, 7, 30, tzinfo=UTC)  # just after the change
    assert copy == rules and moment.astimezone(copy).hour == moment.astimezone(rules).hour == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"daylight_offset": timedelta(hours=2)}, "needs its offset, its start and its end"),
        ({"standard_offset": timedelta(hours=15)}, "within"),
        ({"standard_offset": timedelta(seconds=30)}, "whole minutes"),
        (
            {
                "daylight_offset": timedelta(hours=1),
                "daylight_starts": YearlyChange(3, 5, 6),
                "daylight_ends": YearlyChange(10, 5, 6),
            },
            "equals the standard offset",
        ),
    ],
)
def test_impossible_definitions_are_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"name": "x", "standard_offset": timedelta(hours=1), **kwargs}
    with pytest.raises(ZoneRulesError, match=message):
        ZoneRules(**fields)  # type: ignore[arg-type]
    with pytest.raises(ZoneRulesError):
        YearlyChange(13, 1, 6)


def _store() -> ExchangeStore:
    store = ExchangeStore()
    apply_seed(store, Seed(mailboxes=[SeedMailbox(MAILBOX)]))
    return store


def test_a_series_is_expanded_with_its_stored_definition() -> None:
    store = _store()
    item = add_appointment(store, old_us_rules_series(MAILBOX))
    folder = store.distinguished_folder("calendar", MAILBOX)
    rows = store.calendar_view(
        folder, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 20, tzinfo=UTC)
    )
    starts = {r.original_date: r.start.strftime("%H:%M") for r in rows}
    assert starts == {
        date(2026, 3, 2): "14:00",  # standard time under both rules
        date(2026, 3, 9): "14:00",  # New York is on daylight time (13:00 UTC), the rules not
        date(2026, 3, 16): "14:00",
        date(2026, 3, 23): "14:00",
        date(2026, 3, 30): "14:00",
        date(2026, 4, 6): "13:00",  # both on daylight time from 5 April
        date(2026, 4, 13): "13:00",
    }
    # The same series with the zone's own rules (no definition) follows New York.
    item.time_zone_rules = None
    rows = store.calendar_view(
        folder, datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    )
    assert [r.start.strftime("%H:%M") for r in rows] == ["13:00"]


def test_occurrence_dates_and_deletions_use_the_definition() -> None:
    store = _store()
    spec = old_us_rules_series(MAILBOX)
    spec.deleted = [date(2026, 3, 16)]
    item = add_appointment(store, spec)
    assert store.deleted_occurrence_starts(item) == [datetime(2026, 3, 16, 14, 0, tzinfo=UTC)]
    moved = store.occurrence_on(item, date(2026, 3, 23))
    assert moved.original_start == datetime(2026, 3, 23, 14, 0, tzinfo=UTC)


def test_a_definition_without_daylight_time_keeps_standard_time_all_year() -> None:
    store = _store()
    berlin = ZoneInfo("Europe/Berlin")
    flat = ZoneRules("(GMT+01:00) Amsterdam, Berlin (no DST)", timedelta(hours=1))
    add_appointment(
        store,
        SeedAppointment(
            mailbox=MAILBOX,
            subject="Jour fixe",
            start=datetime(2026, 3, 20, 9, 0, tzinfo=berlin),
            end=datetime(2026, 3, 20, 9, 30, tzinfo=berlin),
            time_zone="Europe/Berlin",
            time_zone_rules=flat,
            recurrence=Recurrence("weekly", date(2026, 3, 20), days_of_week=("Friday",), count=3),
        ),
    )
    folder = store.distinguished_folder("calendar", MAILBOX)
    rows = store.calendar_view(
        folder, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 20, tzinfo=UTC)
    )
    # 08:00 UTC every week: 09:00 in winter, but 10:00 by Berlin's clocks from 29 March.
    assert [r.start.astimezone(berlin).strftime("%m-%d %H:%M") for r in rows] == [
        "03-20 09:00",
        "03-27 09:00",
        "04-03 10:00",
    ]
