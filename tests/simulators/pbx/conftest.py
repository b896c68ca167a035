"""Shared fixtures: a hand-moved PBX clock and a PBX with two users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.pbx import Pbx, User


class ManualClock:
    """A clock the test moves by hand (no freezegun: server threads keep real time)."""

    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> datetime:
        return self.instant

    def advance(self, **kwargs: float) -> datetime:
        self.instant += timedelta(**kwargs)
        return self.instant


START = datetime(2026, 1, 5, 10, 50, tzinfo=UTC)  # 11:50 in Berlin


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def pbx(clock: ManualClock) -> Pbx:
    p = Pbx(clock, timezone="Europe/Berlin")
    p.add_user(User("100", "User Test", "user1@domain.net", language="en"))
    p.add_user(
        User(
            "101",
            "Grete Müller",
            "Grete.Mueller@Domain.net",
            language="de",
            mobile="+4917012345678",
            forward_to_mobile=frozenset({"sick"}),  # type: ignore[arg-type]
        )
    )
    return p
