"""The clocks the simulators read: the skewed Exchange clock and the controlled one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from simulators.clock import Clock, ControlledClock, utc_now

START = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def test_controlled_clock_is_real_time_until_told_otherwise() -> None:
    clock = ControlledClock()
    with freeze_time(START):
        assert clock.mode == "real"
        assert clock.now() == START
        assert clock.offset == timedelta(0)


def test_offset_clock_keeps_running_at_its_offset() -> None:
    clock = ControlledClock()
    with freeze_time(START) as frozen:
        clock.set_offset(timedelta(hours=-2, microseconds=-400_000))
        assert clock.mode == "offset"
        assert clock.now() == START - timedelta(hours=2)  # whole seconds
        frozen.tick(timedelta(seconds=30))
        assert clock.now() == START - timedelta(hours=2) + timedelta(seconds=30)
        clock.set_to(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
        assert clock.now() == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        frozen.tick(timedelta(seconds=5))
        assert clock.now() == datetime(2026, 1, 5, 8, 0, 5, tzinfo=UTC)


def test_frozen_clock_stands_still_and_advances_only_by_hand() -> None:
    clock = ControlledClock()
    with freeze_time(START) as frozen:
        clock.freeze()
        frozen.tick(timedelta(minutes=10))
        assert clock.now() == START
        clock.advance(timedelta(minutes=3))
        assert (clock.mode, clock.now()) == ("frozen", START + timedelta(minutes=3))
        clock.freeze(datetime(2026, 1, 5, 13, 0, tzinfo=timezone(timedelta(hours=1))))
        assert clock.now() == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        clock.set_real()
        assert clock.now() == utc_now()


def test_advancing_a_real_clock_makes_it_an_offset_clock() -> None:
    clock = ControlledClock()
    with freeze_time(START):
        clock.advance(timedelta(minutes=5))
        clock.advance(timedelta(seconds=-30))
        assert (clock.mode, clock.offset) == ("offset", timedelta(minutes=4, seconds=30))


def test_controlled_clock_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        ControlledClock().freeze(datetime(2026, 1, 5, 12, 0))


def test_exchange_clock_reads_its_base_plus_skew() -> None:
    pbx = ControlledClock()
    exchange = Clock(skew=timedelta(seconds=40), base=pbx.now)
    with freeze_time(START):
        pbx.freeze(START - timedelta(hours=1))
        assert exchange.now() == START - timedelta(hours=1) + timedelta(seconds=40)
        assert Clock().now() == START  # the default base is the (frozen) real time
