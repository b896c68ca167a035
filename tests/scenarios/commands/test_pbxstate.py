"""The PBX's presence kept across ``harness serve`` restarts: saved, read back, and a
broken file or a changed seed handled (``scenarios.commands.pbxstate``)."""

from __future__ import annotations

import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from scenarios.commands.pbxstate import PbxKeeper, restore
from simulators.clock import ControlledClock
from simulators.pbx import Pbx, Status, User
from tests.waiting import wait_for as wait_until

START = datetime(2026, 3, 2, 11, 55, tzinfo=UTC)
LUNCH_ENDS = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def frozen(at: datetime = START) -> ControlledClock:
    clock = ControlledClock()
    clock.freeze(at)
    return clock


def make_pbx(clock: ControlledClock, *users: tuple[str, str | None]) -> Pbx:
    pbx = Pbx(clock.now, timezone="Europe/Berlin")
    for extension, email in users or (("100", "user1@domain.net"), ("101", "user2@domain.net")):
        pbx.add_user(User(extension=extension, name=f"User {extension}", email=email))
    return pbx


def kept(pbx: Pbx, path: Path) -> None:
    keeper = PbxKeeper(path, lambda: pbx)
    assert keeper.save_if_changed()


wait_for = partial(wait_until, timeout=15.0)


def test_presence_and_journal_come_back_as_they_were(tmp_path: Path) -> None:
    clock = frozen()
    before = make_pbx(clock)
    before.set_presence("100", "lunch", LUNCH_ENDS, set_by="exchange", reason="Lunch")
    clock.advance(timedelta(minutes=2))
    before.set_presence("101", "meeting", START + timedelta(hours=1), set_by="client")
    path = tmp_path / "pbx.json"
    kept(before, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    clock.advance(timedelta(minutes=1))
    after = make_pbx(clock)  # the seed's starting presence: office
    assert restore(after, path)
    assert after.presences() == before.presences()
    lunch = after.presence("100")
    assert (lunch.status, lunch.return_time, lunch.set_by) == (Status.LUNCH, LUNCH_ENDS, "exchange")
    assert lunch.since == START
    assert after.journal() == before.journal()
    # The journal numbers on after the kept entries.
    assert after.set_presence("100", "office", set_by="exchange").status == Status.OFFICE
    assert [e.seq for e in after.journal()] == [1, 2, 3]


def test_extensions_due_while_down_follow_the_kept_return_time(tmp_path: Path) -> None:
    """Ben (no auto back to office) is still in his meeting when the PBX comes back
    after its end: the PBX moves the return time as it would have, not from now."""
    clock = frozen()
    before = make_pbx(clock)
    back = START + timedelta(minutes=30)
    before.set_presence("101", "meeting", back, set_by="exchange")
    path = tmp_path / "pbx.json"
    kept(before, path)
    clock.advance(timedelta(minutes=50))  # the return time passed while it was down
    after = make_pbx(clock)
    restore(after, path)
    presence = after.presence("101")
    assert presence.return_time == back + timedelta(minutes=30)
    assert presence.extensions == 2
    assert presence.set_by == "exchange"  # R8: an extension is no manual change
    assert [e.at for e in after.journal("101")][1:] == [back, back + timedelta(minutes=15)]


def test_a_user_gone_from_the_seed_or_with_another_address_is_not_restored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = frozen()
    before = make_pbx(clock, ("100", "user1@domain.net"), ("101", "user2@domain.net"))
    before.add_user(User(extension="102", name="Carla", email="user3@domain.net"))
    for extension in ("100", "101", "102"):
        before.set_presence(extension, "sick", set_by="exchange")
    path = tmp_path / "pbx.json"
    kept(before, path)

    # The new seed: 100 as before (its address in other letter case), 101 belongs to
    # someone else now, 102 is gone, 103 is new.
    after = make_pbx(
        clock, ("100", "User1@Domain.NET"), ("101", "dora@domain.net"), ("103", "eve@domain.net")
    )
    with caplog.at_level(logging.WARNING):
        assert restore(after, path)
    assert after.presence("100").status == Status.SICK
    assert after.presence("101").status == Status.OFFICE
    assert after.presence("103").status == Status.OFFICE
    assert {e.user for e in after.journal()} == {"100"}
    assert "101, 102 no longer in the seed with the same e-mail address" in caplog.text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not a PBX state (Expecting property name"),
        (b"\xff\xfe garbage", "unreadable ("),
        (b'{"format": 1, "users": {"100": {"status": "asleep"}}, "journal": []}', "asleep"),
        (b'{"format": 1, "users": [], "journal": []}', "users: not an object"),
        (b'{"format": 7, "users": {}, "journal": []}', "format 7, not 1"),
        (
            b'{"format": 1, "users": {"100": {"email": null, "status": "lunch", '
            b'"return_time": "2026-03-02T13:00:00", "set_by": "x", "since": '
            b'"2026-03-02T12:00:00+00:00", "extensions": 0, "last_change": '
            b'"2026-03-02T12:00:00+00:00"}}, "journal": []}',
            "a time without a UTC offset",
        ),
    ],
)
def test_a_broken_file_is_moved_aside_and_the_seed_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, reason: str
) -> None:
    path = tmp_path / "pbx.json"
    path.write_bytes(content)
    pbx = make_pbx(frozen())
    with caplog.at_level(logging.WARNING):
        assert not restore(pbx, path)
    assert not path.exists()
    (aside,) = tmp_path.glob("pbx.json.bad-*")
    assert aside.read_bytes() == content  # kept for whoever wants to look
    assert reason in caplog.text
    assert f"moved aside to {aside.name}, the PBX starts from the seed" in caplog.text
    assert all(p.status == Status.OFFICE for p in pbx.presences().values())
    assert pbx.journal() == []


def test_no_file_is_a_first_start(tmp_path: Path) -> None:
    assert not restore(make_pbx(frozen()), tmp_path / "pbx.json")
    assert list(tmp_path.iterdir()) == []


def test_the_keeper_saves_soon_after_a_change_and_at_stop(tmp_path: Path) -> None:
    clock = frozen()
    pbx = make_pbx(clock)
    path = tmp_path / "pbx.json"
    keeper = PbxKeeper(path, lambda: pbx, interval=0.05).start()
    try:

        def saved_status() -> str | None:
            try:
                users = json.loads(path.read_text(encoding="utf-8"))["users"]
            except (OSError, ValueError):  # not written yet
                return None
            return str(users["100"]["status"])

        wait_for(lambda: saved_status() == "office")
        pbx.set_presence("100", "lunch", LUNCH_ENDS, set_by="exchange")
        wait_for(lambda: saved_status() == "lunch")  # within a round, no stop needed
        written = path.stat().st_mtime_ns
        assert not keeper.save_if_changed()  # nothing changed since: nothing written
        assert path.stat().st_mtime_ns == written
    finally:
        pbx.set_presence("100", "vacation", LUNCH_ENDS, set_by="client")
        keeper.stop()
    assert saved_status() == "vacation"  # the last change, written at stop
    assert not list(tmp_path.glob(".pbx.json.*"))  # no temporary file left behind


def test_the_keeper_follows_a_new_pbx(tmp_path: Path) -> None:
    """A reset or a seed load through the control API makes a new PBX: what is kept
    is that one from then on."""
    clock = frozen()
    pbxs = [make_pbx(clock)]
    pbxs[0].set_presence("100", "lunch", LUNCH_ENDS, set_by="exchange")
    path = tmp_path / "pbx.json"
    keeper = PbxKeeper(path, lambda: pbxs[-1])
    assert keeper.save_if_changed()
    pbxs.append(make_pbx(clock))  # the reset one: everyone in office
    assert keeper.save_if_changed()
    assert json.loads(path.read_text(encoding="utf-8"))["users"]["100"]["status"] == "office"


def test_a_failed_save_is_told_and_the_keeper_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pbx = make_pbx(frozen())
    path = tmp_path / "gone" / "pbx.json"  # its folder is not there (a disk unmounted)
    rounds: list[int] = []

    def current() -> Pbx:
        rounds.append(1)
        return pbx

    keeper = PbxKeeper(path, current, interval=0.05)
    failed = "cannot save the PBX state: No such file or directory"
    with caplog.at_level(logging.INFO):
        keeper.start()
        try:
            wait_for(lambda: len(rounds) >= 3)  # it tried, and failed, three times
            assert failed in caplog.text
            path.parent.mkdir()
            wait_for(path.exists)  # the next round writes it
            wait_for(lambda: "the PBX state is saved again" in caplog.text)
        finally:
            keeper.stop()
    assert caplog.text.count(failed) == 1  # told once, not at every round
    assert "Traceback" not in caplog.text
