"""Presence, the journal and the PBX's 15-minute extension of the return time (R7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from simulators.clock import Clock
from simulators.pbx import Conflict, InvalidInput, JournalEntry, Pbx, Status, User
from simulators.pbx.presence import due_extensions

from .conftest import START, ManualClock

T = START  # 10:50 UTC
MIN = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def shape(entries: list[JournalEntry]) -> list[tuple[Any, ...]]:
    return [
        (e.seq, e.at, e.user, e.old_status, e.new_status, e.return_time, e.set_by, e.cause)
        for e in entries
    ]


def lunch_then_an_hour(pbx: Pbx, clock: ManualClock, *, eager: bool) -> list[JournalEntry]:
    """Lunch until T+10 min, set by the engine, then one hour and 10 minutes pass."""
    pbx.set_presence("100", "lunch", at(10), set_by="exchange", reason="Lunch")
    pbx.set_presence("101", "meeting", at(17.5), set_by="exchange")
    end = at(80)
    while eager and clock.instant < end:
        clock.advance(seconds=30)
        pbx.tick()
    clock.instant = end
    return pbx.journal()


def test_an_hour_of_extensions_lazy_and_eager_give_the_same_journal(clock: ManualClock) -> None:
    journals = []
    for eager in (False, True):
        clock.instant = START
        pbx = Pbx(clock, timezone="Europe/Berlin")
        pbx.add_user(User("100", "User Test", "user1@domain.net"))
        pbx.add_user(User("101", "Grete Müller", "grete@domain.net", language="de"))
        journals.append(shape(lunch_then_an_hour(pbx, clock, eager=eager)))
    lazy, eager_journal = journals
    assert lazy == eager_journal
    extensions_100 = [e for e in lazy if e[2] == "100" and e[7] == "extension"]
    # Due at 11:00, 11:15, ... 12:00 (T+10 .. T+70): five moves within the hour, each
    # stamped with the instant it was due, each 15 minutes later than the last.
    assert [e[1] for e in extensions_100] == [at(10 + 15 * k) for k in range(5)]
    assert [e[5] for e in extensions_100] == [at(25 + 15 * k) for k in range(5)]
    assert all(e[6] == "pbx" and e[3] == e[4] == Status.LUNCH for e in extensions_100)
    # Both users' moves interleave in time order.
    assert [e[1] for e in lazy] == sorted(e[1] for e in lazy)


def test_extension_is_not_a_transition_and_keeps_the_owner(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "lunch", at(10), set_by="exchange")
    clock.instant = at(10)  # reached exactly: moved at once
    presence = pbx.presence("100")
    assert presence.return_time == at(25)
    assert (presence.set_by, presence.since, presence.extensions) == ("exchange", T, 1)
    assert [e.new_status for e in pbx.transitions("100")] == [Status.LUNCH]
    assert [e.cause for e in pbx.journal("100")] == ["set", "extension"]


def test_one_second_before_the_return_time_nothing_moves(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "lunch", at(10), set_by="exchange")
    clock.instant = at(10) - timedelta(seconds=1)
    assert pbx.presence("100").return_time == at(10)
    assert pbx.tick() == []


def test_extensions_stop_when_the_presence_changes(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "lunch", at(10), set_by="exchange")
    clock.instant = at(20)
    pbx.set_presence("100", "office", set_by="client", reason="back early")
    clock.instant = at(120)
    journal = pbx.journal("100")
    assert [(e.cause, e.at) for e in journal] == [
        ("set", T),
        ("extension", at(10)),
        ("set", at(20)),
    ]
    assert journal[-1].old_return_time == at(25)
    assert pbx.presence("100").return_time is None


def test_a_new_return_time_restarts_the_extensions(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "meeting", at(10), set_by="exchange")
    clock.instant = at(12)
    pbx.set_presence("100", "meeting", at(40), set_by="exchange")
    clock.instant = at(41)
    presence = pbx.presence("100")
    assert (presence.return_time, presence.extensions, presence.since) == (at(55), 1, T)
    assert [e.is_transition for e in pbx.journal("100")] == [True, False, False, False]


def test_auto_back_to_office_users_are_not_extended(clock: ManualClock) -> None:
    pbx = Pbx(clock)
    pbx.add_user(User("100", "Auto", "auto@domain.net", auto_back_to_office=True))
    pbx.set_presence("100", "lunch", at(10), set_by="exchange")
    clock.instant = at(60)
    assert pbx.presence("100").return_time == at(10)  # the engine ends it (R7)
    pbx.update_user("100", auto_back_to_office=False)
    # From the change on: moved once, at the change, to the next 15-minute step.
    assert [(e.at, e.return_time) for e in pbx.tick()] == [(at(60), at(70))]


def test_no_return_time_means_no_extension(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "sick", None)
    clock.instant = at(600)
    assert pbx.presence("100").return_time is None
    assert len(pbx.journal()) == 1


def test_a_return_time_already_past_is_moved_once_when_set(pbx: Pbx, clock: ManualClock) -> None:
    clock.instant = at(130)
    pbx.set_presence("100", "meeting", at(0), set_by="client")
    entries = pbx.journal("100")
    assert [(e.cause, e.at) for e in entries] == [("set", at(130)), ("extension", at(130))]
    assert entries[-1].return_time == at(135)  # the first 15-minute step after now


def test_office_has_no_return_time(pbx: Pbx) -> None:
    with pytest.raises(InvalidInput) as err:
        pbx.set_presence("100", "office", at(10))
    assert err.value.field == "return_time"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "away"}, "status"),
        ({"status": "lunch", "return_time": datetime(2026, 1, 5, 13)}, "return_time"),
        ({"status": "lunch", "set_by": ""}, "set_by"),
        ({"status": "lunch", "reason": 5}, "reason"),
    ],
)
def test_bad_presence_is_refused_naming_the_field(
    pbx: Pbx, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        pbx.set_presence("100", **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    assert pbx.journal() == []


def test_journal_filters_by_user_and_time(pbx: Pbx, clock: ManualClock) -> None:
    pbx.set_presence("100", "lunch", at(10), set_by="exchange")
    clock.advance(minutes=5)
    pbx.set_presence("101", "vacation", None, set_by="client", reason="holiday")
    clock.instant = at(30)
    assert [(e.user, e.at) for e in pbx.journal()] == [
        ("100", T),
        ("101", at(5)),
        ("100", at(10)),
        ("100", at(25)),
    ]
    assert [e.reason for e in pbx.journal("101")] == ["holiday"]
    assert [e.at for e in pbx.journal(since=at(10))] == [at(10), at(25)]
    assert [e.user for e in pbx.journal(transitions_only=True)] == ["100", "101"]


def test_journal_listener_hears_sets_and_extensions(pbx: Pbx, clock: ManualClock) -> None:
    heard: list[JournalEntry] = []
    unsubscribe = pbx.on_journal(heard.append)
    pbx.set_presence("100", "break", at(10))
    clock.instant = at(26)
    pbx.tick()
    assert [e.cause for e in heard] == ["set", "extension", "extension"]
    unsubscribe()
    pbx.set_presence("100", "office")
    assert len(heard) == 3


def test_tick_refuses_an_instant_ahead_of_the_clock(pbx: Pbx) -> None:
    with pytest.raises(InvalidInput):
        pbx.tick(at(1))


def test_due_extensions_is_pure_and_steps_from_the_return_time() -> None:
    moves = due_extensions(at(10), at(40), floor=T)
    assert moves == [(at(10), at(25)), (at(25), at(40)), (at(40), at(55))]
    assert due_extensions(at(10), at(9), floor=T) == []


def test_runs_on_the_scenario_clock_under_freezegun() -> None:
    with freeze_time("2026-01-05 10:50:00", real_asyncio=True) as frozen:
        pbx = Pbx(Clock(), timezone="Europe/Berlin")
        pbx.add_user(User("100", "User Test", "user1@domain.net"))
        pbx.set_presence("100", "lunch", datetime(2026, 1, 5, 11, 0, tzinfo=UTC))
        frozen.move_to("2026-01-05 11:31:00")
        assert pbx.presence("100").return_time == datetime(2026, 1, 5, 11, 45, tzinfo=UTC)
        assert [e.at.minute for e in pbx.journal() if e.cause == "extension"] == [0, 15, 30]


def test_a_kept_presence_state_is_restored_into_a_new_pbx(pbx: Pbx, clock: ManualClock) -> None:
    """``presence_state``/``restore_presence``: a PBX coming back up as it was, for the
    users it still has, numbering its journal on (what ``harness serve`` keeps)."""
    pbx.set_presence("100", "lunch", at(10), set_by="exchange", reason="Lunch")
    pbx.set_presence("101", "sick", set_by="client")
    kept = pbx.presence_state()
    again = Pbx(clock, timezone="Europe/Berlin")
    again.add_user(User("100", "User Test", "user1@domain.net"))  # 101 is gone
    again.restore_presence(kept)
    assert again.presence("100") == pbx.presence("100")
    assert shape(again.journal()) == shape(pbx.journal("100"))
    clock.advance(minutes=11)  # the return time passes: extended as before the restart
    assert again.presence("100").return_time == at(25)
    assert [e.seq for e in again.journal()] == [1, 3]
    with pytest.raises(Conflict, match="empty journal"):
        again.restore_presence(kept)
