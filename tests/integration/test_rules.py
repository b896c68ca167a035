"""R3..R13: the presence rules, polled the way the scheduler polls them.

``simulate`` steps a PBX clock by the poll interval and feeds ``rules.step`` the
calendar as it stands at each poll and the presence of a small fake PBX that applies
the commands (and extends the return time, R7). Changes to the calendar or manual
presence changes at an instant happen before the poll at that instant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration import keywords
from integration.appointments import Appointment
from integration.decisions import Decision, Verdict
from integration.rules import (
    ENGINE_SET_BY,
    Command,
    CurrentPresence,
    Phase,
    Reason,
    ReturnToOffice,
    SetPresence,
    Settings,
    User,
    UserRuleState,
    poll_failed,
    step,
)

DAY = datetime(2026, 1, 5, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
LONG_AGO = DAY - timedelta(days=1)


def at(hms: str, day: datetime = DAY) -> datetime:
    parts = [int(p) for p in hms.split(":")] + [0]
    return day.replace(hour=parts[0], minute=parts[1], second=parts[2])


def appt(
    id: str,
    subject: str,
    start: str | datetime,
    end: str | datetime,
    *,
    created: datetime | None = LONG_AGO,
    **extra: object,
) -> Appointment:
    s = at(start) if isinstance(start, str) else start
    e = at(end) if isinstance(end, str) else end
    return Appointment(id, subject, s, e, created=created, **extra)  # type: ignore[arg-type]


@dataclass
class Calendar:
    """A mailbox's calendar over time: (instant, id, version or None for deleted)."""

    changes: list[tuple[datetime, str, Appointment | None]] = field(default_factory=list)

    def put(self, when: datetime | str, appointment: Appointment) -> Calendar:
        self.changes.append(
            (at(when) if isinstance(when, str) else when, appointment.id, appointment)
        )
        return self

    def delete(self, when: datetime | str, id: str) -> Calendar:
        self.changes.append((at(when) if isinstance(when, str) else when, id, None))
        return self

    def read(self, now: datetime) -> list[Appointment]:
        rows: dict[str, Appointment | None] = {}
        for when, id, version in sorted(self.changes, key=lambda c: c[0]):
            if when <= now:
                rows[id] = version
        return [a for a in rows.values() if a is not None]


@dataclass
class FakePbx:
    """Presence as the PBX keeps it: commands applied, R7's 15-minute extension."""

    status: str = "office"
    return_time: datetime | None = None
    set_by: str = "pbx"
    transitions: list[tuple[datetime, str, datetime | None]] = field(default_factory=list)

    def current(self) -> CurrentPresence:
        return CurrentPresence(self.status, self.return_time, self.set_by)

    def tick(self, now: datetime) -> None:
        while self.return_time is not None and self.return_time <= now:
            self.return_time += timedelta(minutes=15)  # set_by stays (R7)

    def set(self, now: datetime, status: str, return_time: datetime | None, set_by: str) -> None:
        if status != self.status:
            self.transitions.append((now, status, return_time))
        self.status, self.return_time, self.set_by = status, return_time, set_by

    def apply(self, now: datetime, command: Command) -> None:
        if isinstance(command, SetPresence):
            self.set(now, command.status, command.return_time, ENGINE_SET_BY)
        else:
            self.set(now, "office", None, ENGINE_SET_BY)


@dataclass
class Run:
    commands: list[tuple[datetime, Command]]
    pbx: FakePbx
    state: UserRuleState
    polls: list[datetime]
    decisions: list[tuple[datetime, Decision]] = field(default_factory=list)

    def changes(self) -> list[tuple[str, str, str | None]]:
        """Presence transitions as (time, status, return time) strings."""
        return [
            (t.strftime("%H:%M:%S"), s, r.strftime("%H:%M") if r else None)
            for t, s, r in self.pbx.transitions
        ]

    def sets(self, id: str | None = None) -> list[tuple[datetime, SetPresence]]:
        return [
            (t, c)
            for t, c in self.commands
            if isinstance(c, SetPresence) and (id is None or c.appointment_id == id)
        ]


def simulate(
    calendar: Calendar,
    *,
    start: str | datetime = "11:50",
    end: str | datetime = "13:30",
    offset: timedelta = timedelta(0),
    interval: timedelta = timedelta(seconds=30),
    lead_time: timedelta = timedelta(minutes=3),
    catch_up: bool = False,
    auto_back: bool = True,
    language: str = "en",
    down: Sequence[tuple[str | datetime, str | datetime]] = (),
    manual: Sequence[tuple[str | datetime, str]] = (),
    pbx: FakePbx | None = None,
    state: UserRuleState | None = None,
) -> Run:
    def t(x: str | datetime) -> datetime:
        return at(x) if isinstance(x, str) else x

    rule_settings = Settings(lead_time=lead_time, catch_up=catch_up)
    user = User(language=language, auto_back_to_office=auto_back)
    pbx = pbx or FakePbx()
    state = state or UserRuleState()
    outages = [(t(a), t(b)) for a, b in down]
    pending = sorted((t(when), status) for when, status in manual)
    now, stop = t(start) + offset, t(end)
    commands: list[tuple[datetime, Command]] = []
    polls: list[datetime] = []
    decisions: list[tuple[datetime, Decision]] = []
    while now <= stop:
        pbx.tick(now)
        while pending and pending[0][0] <= now:  # a manual change in the client
            _, status = pending.pop(0)
            pbx.set(now, status, None if status == "office" else now + timedelta(hours=1), "client")
        if any(a <= now < b for a, b in outages):
            state = poll_failed(state, now)
        else:
            polls.append(now)
            state, out, decided = step(
                state,
                calendar.read(now),
                now,
                current_presence=pbx.current(),
                settings=rule_settings,
                user=user,
            )
            assert len(out) <= 1
            decisions.extend((now, d) for d in decided)
            for command in out:
                commands.append((now, command))
                pbx.apply(now, command)
        now += interval
    return Run(commands, pbx, state, polls, decisions)


LUNCH = appt("lunch", "Lunch", "12:00", "13:00")


# -- R3 start minute ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, "12:00:00"), (15, "12:00:15"), (29, "12:00:29"), (45, "12:00:15")],
)
def test_presence_is_set_at_the_first_poll_inside_the_start_minute(
    offset: int, expected: str
) -> None:
    run = simulate(Calendar().put("11:00", LUNCH), offset=timedelta(seconds=offset))
    assert run.sets() == [
        (at(expected), SetPresence("lunch", at("13:00"), Reason.START, "lunch"))
    ]  # the second poll in the same minute sends nothing


def test_the_start_minute_is_the_start_floored_to_the_minute() -> None:
    odd = appt("odd", "Meeting", at("12:00:40"), at("12:30:20"))
    run = simulate(Calendar().put("11:00", odd), end="12:40")
    assert run.changes() == [("12:00:00", "meeting", "12:30"), ("12:30:00", "office", None)]


@pytest.mark.parametrize(("catch_up", "expected"), [(False, []), (True, ["12:01:00"])])
def test_a_start_minute_without_a_poll_needs_catch_up(catch_up: bool, expected: list[str]) -> None:
    # Polls every 90 s from 11:50:30: the ones at 11:59:30 and 12:01:00 straddle 12:00.
    run = simulate(
        Calendar().put("11:00", LUNCH),
        start="11:50:00",
        offset=timedelta(seconds=30),
        interval=timedelta(seconds=90),
        catch_up=catch_up,
    )
    assert at("11:59:30") in run.polls and at("12:01:00") in run.polls
    assert [t.strftime("%H:%M:%S") for t, _ in run.sets()] == expected


# -- R4 the 3-minute rule ----------------------------------------------------


@pytest.mark.parametrize(
    ("before_start", "offset", "honoured"),
    [
        ("2:59", 0, False),  # first seen 11:57:30: 2:30 before
        ("2:59", 1, False),  # seen 11:57:01 exactly: 2:59
        ("3:00", 0, True),  # seen 11:57:00: exactly 3:00 is not "less than 3 minutes"
        ("3:00", 15, False),  # seen 11:57:15
        ("3:00", 29, False),
        ("3:29", 0, True),  # created 11:56:31, seen 11:57:00
        ("3:29", 1, True),  # seen 11:56:31: 3:29
        ("3:10", 0, True),  # created 11:56:50, seen 11:57:00
        ("3:10", 5, False),  # seen 11:57:05: the poll phase decides
        ("3:10", 20, True),  # seen 11:56:50
        ("3:29", 29, True),  # seen 11:56:59
        ("3:30", 0, True),
        ("3:30", 1, True),
        ("3:30", 15, True),
        ("3:30", 29, True),  # seen 11:56:59: 3:01
    ],
)
def test_three_minute_rule_counts_from_the_poll_that_first_saw_it(
    before_start: str, offset: int, honoured: bool
) -> None:
    minutes, seconds = (int(p) for p in before_start.split(":"))
    visible = at("12:00") - timedelta(minutes=minutes, seconds=seconds)
    # ``created`` says "long ago" on purpose: only the first poll that saw it counts.
    run = simulate(Calendar().put(visible, LUNCH), offset=timedelta(seconds=offset))
    assert (run.sets() != []) is honoured
    first_seen = min(p for p in run.polls if p >= visible)
    assert (at("12:00") - first_seen >= timedelta(minutes=3)) is honoured


def test_three_minute_rule_ignores_for_good() -> None:
    late = appt("late", "Meeting", "12:00", "12:30")
    calendar = Calendar().put("11:58:30", late).put("11:59", replace(late, subject="Lunch"))
    run = simulate(calendar, end="12:40")
    assert run.commands == []


def test_lead_time_is_a_setting() -> None:
    calendar = Calendar().put("11:55", LUNCH)
    assert simulate(calendar, lead_time=timedelta(minutes=6)).commands == []
    assert simulate(calendar, lead_time=timedelta(minutes=5)).sets() != []


def test_created_stamp_does_not_matter_while_polls_work() -> None:
    recent = replace(LUNCH, created=at("11:59"))  # e.g. a skewed Exchange clock (R13)
    run = simulate(Calendar().put("11:50", recent))
    assert run.changes()[0] == ("12:00:00", "lunch", "13:00")


# -- R5 keywords, per language ------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "status"),
    [
        ("en", "Team Meeting", "meeting"),
        ("en", "Breakfast", None),
        ("en", "Out of  office", "out_of_office"),
        ("en", "Mittag", None),
        ("de", "Mittag", "lunch"),
        ("de", "Lunch", None),
        ("de", "AUSSER HAUS", "out_of_office"),
        ("de", "Besprechung beim Mittag", "meeting"),
        ("fr", "Lunch", "lunch"),  # unknown language: English
    ],
)
def test_keywords_of_the_users_language(language: str, subject: str, status: str | None) -> None:
    a = appt("a", subject, "12:00", "12:30")
    run = simulate(Calendar().put("11:00", a), language=language, end="12:40")
    if status is None:
        assert run.commands == []
    else:
        assert run.changes() == [("12:00:00", status, "12:30"), ("12:30:00", "office", None)]


def test_keyword_added_after_the_start_minute_is_too_late() -> None:
    plain = appt("a", "Team sync", "12:00", "12:30")
    calendar = Calendar().put("11:00", plain).put("12:05", replace(plain, subject="Team meeting"))
    assert simulate(calendar, catch_up=True, end="12:40").commands == []


def test_keyword_added_before_the_start_counts() -> None:
    plain = appt("a", "Team sync", "12:00", "12:30")
    calendar = Calendar().put("11:00", plain).put("11:59:50", replace(plain, subject="Meeting"))
    assert simulate(calendar, end="12:40").changes()[0] == ("12:00:00", "meeting", "12:30")


# -- R6 and R7 ------------------------------------------------------------------


def test_auto_back_to_office_at_the_end_minute() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), offset=timedelta(seconds=20))
    assert run.changes() == [("12:00:20", "lunch", "13:00"), ("13:00:20", "office", None)]
    assert run.commands[-1][1] == ReturnToOffice(Reason.END, "lunch")


def test_without_auto_back_presence_stays_and_the_pbx_extends_it() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), auto_back=False, end="13:40")
    assert run.changes() == [("12:00:00", "lunch", "13:00")]
    assert run.pbx.return_time == at("13:45")  # 13:00 -> 13:15 -> 13:30 -> 13:45
    assert run.state.engine_presence is None


def test_end_missed_by_an_outage_returns_at_the_first_poll_after_it() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), down=[("12:59", "13:03")])
    assert run.changes()[-1] == ("13:03:00", "office", None)


def test_an_appointment_inside_one_minute_never_sets_presence() -> None:
    blink = appt("blink", "Meeting", at("12:00:05"), at("12:00:50"))
    assert simulate(Calendar().put("11:00", blink), end="12:10").commands == []


# -- R8 manual changes ----------------------------------------------------------


def test_a_manual_change_is_never_undone() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), manual=[("12:10", "office")], end="13:10")
    assert run.sets() == [(at("12:00"), SetPresence("lunch", at("13:00"), Reason.START, "lunch"))]
    assert run.commands == run.sets()  # no return to office at 13:00 either
    assert run.state.tracked["lunch"].phase is Phase.DONE


def test_the_same_status_set_by_the_user_is_a_manual_change() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), manual=[("12:10", "lunch")], end="13:10")
    assert len(run.commands) == 1
    assert run.pbx.set_by == "client"


def test_a_manual_change_does_not_stop_later_appointments() -> None:
    meeting = appt("m", "Meeting", "13:00", "13:30")
    calendar = Calendar().put("11:00", appt("l", "Lunch", "12:00", "12:30")).put("11:00", meeting)
    run = simulate(calendar, manual=[("12:10", "sick")], end="13:40")
    assert run.changes() == [
        ("12:00:00", "lunch", "12:30"),
        ("12:10:00", "sick", "13:10"),
        ("13:00:00", "meeting", "13:30"),
        ("13:30:00", "office", None),
    ]


def test_the_pbx_extension_is_not_a_manual_change() -> None:
    # Without auto back the meeting's presence is extended at 12:20:00 before that poll,
    # which then resumes the lunch still in progress (R9).
    calendar = Calendar().put("11:00", LUNCH).put("11:00", appt("m", "Meeting", "12:10", "12:20"))
    run = simulate(calendar, auto_back=False, end="12:30")
    assert run.changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("12:10:00", "meeting", "12:20"),
        ("12:20:00", "lunch", "13:00"),
    ]


# -- R9 overlaps ----------------------------------------------------------------


def test_later_start_wins_and_the_earlier_one_resumes() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("11:00", appt("m", "Meeting", "12:15", "12:45"))
    run = simulate(calendar)
    assert run.changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("12:15:00", "meeting", "12:45"),
        ("12:45:00", "lunch", "13:00"),
        ("13:00:00", "office", None),
    ]
    assert [c.reason for _, c in run.commands] == [
        Reason.START,
        Reason.START,
        Reason.RESUME,
        Reason.END,
    ]


def test_when_the_earlier_one_ends_first_nothing_changes() -> None:
    calendar = (
        Calendar()
        .put("11:00", appt("l", "Lunch", "12:00", "12:30"))
        .put("11:00", appt("m", "Meeting", "12:15", "13:00"))
    )
    assert simulate(calendar).changes() == [
        ("12:00:00", "lunch", "12:30"),
        ("12:15:00", "meeting", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_back_to_back_appointments_hand_over_without_office() -> None:
    calendar = (
        Calendar()
        .put("11:00", appt("l", "Lunch", "12:00", "12:30"))
        .put("11:00", appt("m", "Meeting", "12:30", "13:00"))
    )
    assert simulate(calendar).changes() == [
        ("12:00:00", "lunch", "12:30"),
        ("12:30:00", "meeting", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_an_overlap_ignored_by_the_three_minute_rule_never_shows() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:13", appt("m", "Meeting", "12:15", "12:45"))
    assert simulate(calendar).changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_equal_starts_show_the_one_ending_first() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("11:00", appt("m", "Meeting", "12:00", "12:20"))
    assert simulate(calendar).changes() == [
        ("12:00:00", "meeting", "12:20"),
        ("12:20:00", "lunch", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_a_manual_change_during_an_overlap_stops_the_resume() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("11:00", appt("m", "Meeting", "12:15", "12:45"))
    run = simulate(calendar, manual=[("12:20", "office")])
    assert run.changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("12:15:00", "meeting", "12:45"),
        ("12:20:00", "office", None),
    ]


# -- R10 recurrence ------------------------------------------------------------------


def test_each_occurrence_is_its_own_appointment() -> None:
    day2 = DAY + timedelta(days=1)
    first = appt("series#1", "Lunch", "12:00", "12:30", kind="occurrence")
    second = appt("series#2", "Lunch", at("12:00", day2), at("12:30", day2), kind="occurrence")
    moved = appt("series#3", "Team Meeting", "14:00", "14:30", kind="exception")
    calendar = Calendar().put("11:00", first).put("11:00", second).put("11:00", moved)
    calendar.delete("11:30", "series#2")  # a deleted occurrence does nothing
    run = simulate(calendar, end=at("13:00", day2))
    assert [(t.strftime("%d %H:%M"), c.status) for t, c in run.commands] == [
        ("05 12:00", "lunch"),
        ("05 12:30", "office"),
        ("05 14:00", "meeting"),
        ("05 14:30", "office"),
    ]


# -- R11 changes and deletions -----------------------------------------------------------


def test_moved_before_start_uses_the_latest_version() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("11:40", replace(LUNCH, start=at("12:30")))
    assert simulate(calendar).changes() == [
        ("12:30:00", "lunch", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_moved_to_a_start_under_three_minutes_away_is_ignored() -> None:
    # Moved at 11:58:30 from 12:00 to 12:01: the new start is 2:30 away.
    moved = replace(LUNCH, start=at("12:01"))
    run = simulate(Calendar().put("11:00", LUNCH).put("11:58:30", moved))
    assert run.commands == []
    assert run.state.tracked["lunch"].phase is Phase.IGNORED


def test_an_ignored_appointment_moved_later_is_judged_again() -> None:
    calendar = Calendar().put("11:59", LUNCH).put("12:01", replace(LUNCH, start=at("12:10")))
    assert simulate(calendar).changes()[0] == ("12:10:00", "lunch", "13:00")


def test_deleted_before_start_does_nothing() -> None:
    calendar = Calendar().put("11:00", LUNCH).delete("11:59:59", "lunch")
    assert simulate(calendar).commands == []


@pytest.mark.parametrize("auto_back", [True, False])
def test_deleted_while_active_ends_at_the_next_poll(auto_back: bool) -> None:
    calendar = Calendar().put("11:00", LUNCH).delete("12:20:10", "lunch")
    run = simulate(calendar, auto_back=auto_back)
    if auto_back:
        assert run.changes()[-1] == ("12:20:30", "office", None)
        assert run.commands[-1][1] == ReturnToOffice(Reason.REMOVED, "lunch")
    else:
        assert run.changes() == [("12:00:00", "lunch", "13:00")]


def test_shortened_into_the_past_while_active_ends_at_the_next_poll() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:20:10", replace(LUNCH, end=at("12:20")))
    run = simulate(calendar)
    assert run.changes()[-1] == ("12:20:30", "office", None)
    assert run.commands[-1][1] == ReturnToOffice(Reason.END, "lunch")


def test_end_moved_while_active_moves_the_return_time() -> None:
    calendar = (
        Calendar()
        .put("11:00", LUNCH)
        .put("12:10", replace(LUNCH, end=at("12:40")))
        .put("12:20", replace(LUNCH, end=at("12:50")))
    )
    run = simulate(calendar)
    assert [(t.strftime("%H:%M"), c) for t, c in run.commands] == [
        ("12:00", SetPresence("lunch", at("13:00"), Reason.START, "lunch")),
        ("12:10", SetPresence("lunch", at("12:40"), Reason.CHANGED, "lunch")),
        ("12:20", SetPresence("lunch", at("12:50"), Reason.CHANGED, "lunch")),
        ("12:50", ReturnToOffice(Reason.END, "lunch")),
    ]


def test_moving_an_active_appointment_earlier_does_not_restart_it() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:10", replace(LUNCH, start=at("11:55")))
    run = simulate(calendar)
    assert run.changes() == [("12:00:00", "lunch", "13:00"), ("13:00:00", "office", None)]


def test_moving_an_active_appointment_later_ends_and_restarts_it() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:10", replace(LUNCH, start=at("12:20")))
    run = simulate(calendar)
    assert run.changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("12:10:00", "office", None),
        ("12:20:00", "lunch", "13:00"),
        ("13:00:00", "office", None),
    ]


def test_keyword_changed_while_active_changes_the_status() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:10", replace(LUNCH, subject="Meeting"))
    run = simulate(calendar)
    assert run.changes()[:2] == [("12:00:00", "lunch", "13:00"), ("12:10:00", "meeting", "13:00")]
    assert run.commands[1][1] == SetPresence("meeting", at("13:00"), Reason.CHANGED, "lunch")


def test_keyword_removed_while_active_ends_it() -> None:
    calendar = Calendar().put("11:00", LUNCH).put("12:10", replace(LUNCH, subject="Notes"))
    run = simulate(calendar)
    assert run.changes() == [("12:00:00", "lunch", "13:00"), ("12:10:00", "office", None)]
    assert run.commands[-1][1] == ReturnToOffice(Reason.REMOVED, "lunch")


# -- R3 catch-up after an outage; the engine starting -----------------------------------


@pytest.mark.parametrize("catch_up", [False, True])
def test_five_minute_outage_over_the_start_minute(catch_up: bool) -> None:
    run = simulate(Calendar().put("11:00", LUNCH), down=[("11:58", "12:03")], catch_up=catch_up)
    if catch_up:
        assert run.changes() == [("12:03:00", "lunch", "13:00"), ("13:00:00", "office", None)]
        assert run.commands[0][1].reason is Reason.CATCH_UP
    else:
        assert run.commands == []


def test_outage_past_the_end_catches_nothing_up() -> None:
    short = appt("s", "Break", "12:00", "12:04")
    run = simulate(Calendar().put("11:00", short), down=[("11:58", "12:05")], catch_up=True)
    assert run.commands == []


def test_an_outage_that_misses_no_start_minute_changes_nothing() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), down=[("11:55", "11:59:45")], catch_up=False)
    assert run.changes()[0] == ("12:00:00", "lunch", "13:00")


@pytest.mark.parametrize(
    ("created", "start", "expected"),
    [
        ("11:58:10", "12:05", "12:05:00"),  # 6:50 before its start, though first seen 12:03
        ("11:58:30", "12:01:30", "12:03:00"),  # exactly 3:00: honoured, caught up
        ("11:59", "12:01", None),  # created 2 minutes before its start: ignored
        (None, "12:01", "12:03:00"),  # no stamp: dated to the last good poll, 11:57:30
    ],
)
def test_appointments_created_during_an_outage_are_dated_by_their_stamp(
    created: str | None, start: str, expected: str | None
) -> None:
    a = appt("a", "Meeting", start, "12:30", created=at(created) if created else None)
    calendar = Calendar().put("11:59", a)
    run = simulate(calendar, down=[("11:58", "12:03")], catch_up=True)
    assert [t.strftime("%H:%M:%S") for t, _ in run.sets()] == ([expected] if expected else [])


def test_a_skewed_exchange_clock_shows_in_stamps_after_a_gap() -> None:
    # R13: Exchange five minutes ahead stamps an appointment made at 11:54 (PBX) 11:59;
    # after the outage the engine dates it by that stamp and ignores it (R4).
    a = appt("a", "Meeting", "12:01", "12:30", created=at("11:59"))
    run = simulate(Calendar().put("11:54", a), down=[("11:53", "12:03")], catch_up=True)
    assert run.commands == []
    assert run.state.tracked["a"].phase is Phase.IGNORED


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [(False, []), (True, [("12:10:00", "lunch", "13:00"), ("13:00:00", "office", None)])],
)
def test_engine_starting_during_an_appointment(catch_up: bool, expected: list[object]) -> None:
    run = simulate(Calendar().put("11:00", LUNCH), start="12:10", catch_up=catch_up)
    assert run.changes() == expected


def test_engine_starting_just_before_an_old_appointment_honours_it() -> None:
    run = simulate(Calendar().put("11:00", LUNCH), start="11:59")
    assert run.changes()[0] == ("12:00:00", "lunch", "13:00")


def test_engine_starting_just_before_a_fresh_appointment_ignores_it() -> None:
    fresh = replace(LUNCH, created=at("11:58"))
    assert simulate(Calendar().put("11:58", fresh), start="11:59").commands == []


def test_engine_restart_adopts_the_presence_it_had_set() -> None:
    before = FakePbx(status="lunch", return_time=at("13:00"), set_by=ENGINE_SET_BY)
    run = simulate(Calendar().put("11:00", LUNCH), start="12:10", pbx=before)
    assert run.commands == [(at("13:00"), ReturnToOffice(Reason.END, "lunch"))]


def test_engine_restart_does_not_adopt_a_manual_presence() -> None:
    before = FakePbx(status="lunch", return_time=at("13:00"), set_by="client")
    run = simulate(Calendar().put("11:00", LUNCH), start="12:10", pbx=before)
    assert run.commands == []


def test_engine_restart_adopts_an_appointment_edited_after_its_start() -> None:
    # Renamed at 12:05 (Exchange stamp), so the new engine would date it after its start
    # (R4 after a gap); the PBX shows the old engine's lunch: adopted, office at 13:00.
    edited = replace(LUNCH, subject="Lunch with Ann", modified=at("12:05"))
    before = FakePbx(status="lunch", return_time=at("13:00"), set_by=ENGINE_SET_BY)
    run = simulate(Calendar().put("11:00", edited), start="12:10", pbx=before)
    assert run.commands == [(at("13:00"), ReturnToOffice(Reason.END, "lunch"))]


@pytest.mark.parametrize("auto_back", [True, False])
def test_engine_restart_after_the_end_of_its_appointment(auto_back: bool) -> None:
    # The lunch ended at 13:00 while the engine was down; the PBX still shows the old
    # engine's lunch (extended). The read no longer holds the lunch.
    before = FakePbx(status="lunch", return_time=at("13:15"), set_by=ENGINE_SET_BY)
    run = simulate(
        Calendar().put("11:00", LUNCH), start="13:05", end="13:10", pbx=before, auto_back=auto_back
    )
    if auto_back:
        assert run.commands == [(at("13:05"), ReturnToOffice(Reason.END))]
        assert run.changes() == [("13:05:00", "office", None)]
    else:
        assert run.commands == []
    (orphan,) = [d for t, d in run.decisions if d.verdict is Verdict.ORPHANED]
    assert (orphan.rule, orphan.status, orphan.back_to_office) == ("R7", "lunch", auto_back)
    assert orphan.end == at("13:15")
    assert run.decisions[0][0] == at("13:05")  # only the first poll of the new engine says so
    assert all(t == at("13:05") for t, d in run.decisions if d.verdict is Verdict.ORPHANED)


def test_engine_restart_with_a_start_at_its_first_poll_sets_that_instead_of_office() -> None:
    before = FakePbx(status="lunch", return_time=at("12:30"), set_by=ENGINE_SET_BY)
    meeting = appt("m", "Meeting", "12:40", "13:00")
    run = simulate(Calendar().put("11:00", meeting), start="12:40", end="12:41", pbx=before)
    assert [c for _, c in run.commands] == [SetPresence("meeting", at("13:00"), Reason.START, "m")]
    assert not [d for _, d in run.decisions if d.verdict is Verdict.ORPHANED]


# -- meetings: answers and cancellations (R11) --------------------------------------


@pytest.mark.parametrize("response", ["Accept", "Tentative", "NoResponseReceived"])
def test_a_meeting_sets_presence_whatever_the_answer(response: str) -> None:
    meeting = appt("m", "Team Meeting", "12:00", "12:30", is_meeting=True, response=response)
    run = simulate(Calendar().put("11:00", meeting), end="12:31")
    assert run.changes() == [("12:00:00", "meeting", "12:30"), ("12:30:00", "office", None)]


def test_a_cancelled_meeting_never_sets_presence_though_its_subject_has_the_keyword() -> None:
    cancelled = appt(
        "m", "Canceled: Team Meeting", "12:00", "12:30", is_meeting=True, cancelled=True
    )
    run = simulate(Calendar().put("11:00", cancelled), end="12:31")
    assert run.commands == []
    verdicts = {d.verdict for _, d in run.decisions if d.appointment_id == "m"}
    assert verdicts == {Verdict.CANCELLED}
    last = [d for _, d in run.decisions if d.appointment_id == "m"][-1]
    assert (last.rule, last.keyword, last.back_to_office) == ("R11", "Meeting", None)


@pytest.mark.parametrize("auto_back", [True, False])
def test_a_meeting_cancelled_while_shown_ends_at_the_next_poll(auto_back: bool) -> None:
    meeting = appt("m", "Team Meeting", "12:00", "12:30", is_meeting=True, response="Accept")
    cancelled = replace(meeting, subject="Canceled: Team Meeting", cancelled=True)
    calendar = Calendar().put("11:00", meeting).put("12:10:10", cancelled)
    run = simulate(calendar, end="12:31", auto_back=auto_back)
    ends = [(t, c) for t, c in run.commands if isinstance(c, ReturnToOffice)]
    assert ends == ([(at("12:10:30"), ReturnToOffice(Reason.REMOVED, "m"))] if auto_back else [])
    decision = next(d for t, d in run.decisions if t == at("12:10:30"))
    assert (decision.verdict, decision.back_to_office) == (Verdict.CANCELLED, auto_back)


def test_a_cancelled_meeting_inside_a_lunch_hands_back_to_the_lunch() -> None:
    meeting = appt("m", "Meeting", "12:10", "12:20", is_meeting=True, response="Accept")
    calendar = (
        Calendar()
        .put("11:00", LUNCH)
        .put("11:00", meeting)
        .put("12:15", replace(meeting, subject="Canceled: Meeting", cancelled=True))
    )
    run = simulate(calendar, end="13:01")
    assert run.changes() == [
        ("12:00:00", "lunch", "13:00"),
        ("12:10:00", "meeting", "12:20"),
        ("12:15:00", "lunch", "13:00"),  # R9: resumed
        ("13:00:00", "office", None),
    ]


# -- R12 all-day events, R13 clock skew ------------------------------------------------


def test_all_day_event_sets_presence_at_the_first_poll_of_the_day() -> None:
    # Europe/Berlin: local midnight of 6 January is 23:00 UTC on the 5th.
    holiday = Appointment(
        "h",
        "Holiday",
        at("23:00"),
        at("23:00") + timedelta(days=1),
        all_day=True,
        created=at("15:00"),
    )
    run = simulate(
        Calendar().put("15:00", holiday), start="22:50", end=at("23:10") + timedelta(days=1)
    )
    assert [(t, c.status) for t, c in run.commands] == [
        (at("23:00"), "vacation"),
        (at("23:00") + timedelta(days=1), "office"),
    ]


NEXT_DAY = DAY + timedelta(days=1)


def all_day(
    id: str, subject: str, first: datetime, days: int = 1, created: datetime | None = LONG_AGO
) -> Appointment:
    """An all-day event from midnight ``first`` (UTC here) for ``days`` days."""
    return Appointment(
        id, subject, first, first + timedelta(days=days), all_day=True, created=created
    )


HOLIDAY = all_day("h", "Holiday", NEXT_DAY)


@pytest.mark.parametrize(
    ("interval", "offset", "start", "expected"),
    [
        (120, 60, "23:50", "00:01:00"),  # 2-minute polls at odd minutes: none in 00:00
        (300, 120, "23:50", "00:02:00"),  # 5-minute polls at :02, :07, ...
        (30, 15, "23:50", "00:00:15"),  # the start minute has a poll: R3 as before
    ],
)
@pytest.mark.parametrize("catch_up", [False, True])
def test_all_day_event_is_set_at_the_first_successful_poll_of_its_day(
    interval: int, offset: int, start: str, expected: str, catch_up: bool
) -> None:
    run = simulate(
        Calendar().put("11:00", HOLIDAY),
        start=start,
        end=NEXT_DAY + timedelta(minutes=10),
        interval=timedelta(seconds=interval),
        offset=timedelta(seconds=offset),
        catch_up=catch_up,
    )
    (when, command), *_ = run.sets()
    assert when == at(expected, NEXT_DAY)
    assert (command.status, command.return_time) == ("vacation", NEXT_DAY + timedelta(days=1))
    late = when >= NEXT_DAY + MINUTE
    assert command.reason is (Reason.ALL_DAY if late else Reason.START)
    decision = next(d for t, d in run.decisions if t == when and d.appointment_id == "h")
    assert (decision.verdict, decision.rule) == (Verdict.SET, "R12")


def test_all_day_event_is_set_by_an_engine_started_during_its_day() -> None:
    # The engine starts at 08:00 on the holiday, catch-up off: vacation at its first poll.
    run = simulate(
        Calendar().put("11:00", HOLIDAY),
        start=at("08:00", NEXT_DAY),
        end=NEXT_DAY + timedelta(days=1, minutes=5),
        interval=timedelta(minutes=5),
    )
    assert run.changes() == [("08:00:00", "vacation", "00:00"), ("00:00:00", "office", None)]
    assert run.sets()[0][1].reason is Reason.ALL_DAY


def test_all_day_event_is_set_after_an_outage_over_midnight_without_catch_up() -> None:
    run = simulate(
        Calendar().put("11:00", HOLIDAY),
        start="23:50",
        end=NEXT_DAY + timedelta(minutes=20),
        down=[("23:55", NEXT_DAY + timedelta(minutes=12))],
    )
    assert run.changes() == [("00:12:00", "vacation", "00:00")]


def test_a_timed_appointment_at_midnight_still_needs_catch_up() -> None:
    # The same outage misses a timed "Sick" from 00:00: R3, not R12.
    sick = appt("s", "Sick", NEXT_DAY, NEXT_DAY + timedelta(hours=8))
    run = simulate(
        Calendar().put("11:00", sick),
        start="23:50",
        end=NEXT_DAY + timedelta(minutes=20),
        down=[("23:55", NEXT_DAY + timedelta(minutes=12))],
    )
    assert run.commands == []


def test_engine_started_on_day_two_of_a_holiday_sets_it_until_its_end() -> None:
    three_days = all_day("h", "Holiday", DAY, days=3, created=DAY - timedelta(days=7))
    run = simulate(
        Calendar().put(DAY - timedelta(days=7), three_days),
        start=at("09:00", NEXT_DAY),
        end=DAY + timedelta(days=3, minutes=1),
        interval=timedelta(minutes=30),
    )
    assert [(t, c) for t, c in run.commands] == [
        (
            at("09:00", NEXT_DAY),
            SetPresence("vacation", DAY + timedelta(days=3), Reason.ALL_DAY, "h"),
        ),
        (DAY + timedelta(days=3), ReturnToOffice(Reason.END, "h")),
    ]


def test_a_manual_change_holds_over_the_midnights_of_a_long_event() -> None:
    three_days = all_day("h", "Holiday", NEXT_DAY, days=3)
    run = simulate(
        Calendar().put("11:00", three_days),
        start="23:30",
        end=NEXT_DAY + timedelta(days=3, minutes=30),
        interval=timedelta(minutes=30),
        manual=[(at("10:00", NEXT_DAY), "office")],
    )
    assert run.changes() == [("00:00:00", "vacation", "00:00"), ("10:00:00", "office", None)]
    assert run.commands == [
        (NEXT_DAY, SetPresence("vacation", NEXT_DAY + timedelta(days=3), Reason.START, "h"))
    ]


def test_an_all_day_event_created_during_its_day_is_ignored_by_r4() -> None:
    sick = all_day("s", "Sick", NEXT_DAY, created=at("09:10", NEXT_DAY))
    run = simulate(
        Calendar().put(at("09:10", NEXT_DAY), sick),
        start=at("09:00", NEXT_DAY),
        end=at("09:30", NEXT_DAY),
    )
    assert run.commands == []
    assert run.state.tracked["s"].phase is Phase.IGNORED


def test_a_missed_meeting_inside_an_all_day_event_leaves_the_all_day_shown() -> None:
    # The engine starts at 08:30, during a meeting 08:00-09:00 inside an all-day
    # "Out of Office": the meeting's start minute was missed (catch-up off), the all-day
    # event is set at once (R12) and stays over 09:00.
    oof = all_day("o", "Out of Office", NEXT_DAY)
    meeting = appt("m", "Meeting", at("08:00", NEXT_DAY), at("09:00", NEXT_DAY))
    run = simulate(
        Calendar().put("11:00", oof).put("11:00", meeting),
        start=at("08:30", NEXT_DAY),
        end=at("09:30", NEXT_DAY),
    )
    assert run.changes() == [("08:30:00", "out_of_office", "00:00")]


def test_a_meeting_starting_at_the_engine_start_wins_over_the_all_day_event() -> None:
    oof = all_day("o", "Out of Office", NEXT_DAY)
    meeting = appt("m", "Meeting", at("08:00", NEXT_DAY), at("09:00", NEXT_DAY))
    run = simulate(
        Calendar().put("11:00", oof).put("11:00", meeting),
        start=at("08:00", NEXT_DAY),
        end=at("09:10", NEXT_DAY),
    )
    assert run.changes() == [
        ("08:00:00", "meeting", "09:00"),
        ("09:00:00", "out_of_office", "00:00"),
    ]


def test_restart_adopts_an_all_day_presence_and_forgets_a_manual_one() -> None:
    mid_day = at("12:00", NEXT_DAY)
    mine = FakePbx("vacation", NEXT_DAY + timedelta(days=1), ENGINE_SET_BY)
    adopted = simulate(Calendar().put("11:00", HOLIDAY), start=mid_day, end=mid_day, pbx=mine)
    assert adopted.commands == []
    assert adopted.state.engine_presence is not None
    theirs = FakePbx("office", None, "client")
    again = simulate(Calendar().put("11:00", HOLIDAY), start=mid_day, end=mid_day, pbx=theirs)
    assert [c.reason for _, c in again.commands] == [Reason.ALL_DAY]


def test_an_all_day_event_without_keyword_at_its_first_poll_is_passed() -> None:
    trip = all_day("t", "Trip", NEXT_DAY)
    calendar = (
        Calendar().put("11:00", trip).put(at("10:00", NEXT_DAY), replace(trip, subject="Holiday"))
    )
    run = simulate(
        calendar, start="23:50", end=at("10:30", NEXT_DAY), interval=timedelta(minutes=2)
    )
    assert run.commands == []
    last = [d for _, d in run.decisions if d.appointment_id == "t"][-1]
    assert (last.verdict, last.rule) == (Verdict.PASSED, "R12")


# -- the API's edges -------------------------------------------------------------------


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        step(UserRuleState(), [], datetime(2026, 1, 5, 12), current_presence=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        Appointment("a", "Lunch", datetime(2026, 1, 5, 12), at("13:00"))


def test_polls_must_not_go_back_in_time() -> None:
    state, _, _ = step(UserRuleState(), [], at("12:00"), current_presence=None)
    with pytest.raises(ValueError, match="before the last poll"):
        step(state, [], at("11:59"), current_presence=None)
    with pytest.raises(ValueError, match="before the last poll"):
        poll_failed(state, at("11:59"))


def test_duplicate_ids_in_one_read_are_refused() -> None:
    with pytest.raises(ValueError, match="'lunch' appears twice"):
        step(UserRuleState(), [LUNCH, LUNCH], at("12:00"), current_presence=None)


def test_appointment_record_checks_itself() -> None:
    with pytest.raises(ValueError, match="ends .* before it starts"):
        appt("a", "Lunch", "13:00", "12:00")
    with pytest.raises(ValueError, match="kind"):
        appt("a", "Lunch", "12:00", "13:00", kind="master")
    local = datetime(2026, 1, 5, 13, tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert appt("a", "Lunch", local, "13:00").start == at("12:00")


def test_step_is_pure() -> None:
    state = UserRuleState()
    s1, c1, _ = step(state, [LUNCH], at("11:50"), current_presence=None)
    s2, c2, _ = step(state, [LUNCH], at("11:50"), current_presence=None)
    assert (s1, c1) == (s2, c2)
    assert state == UserRuleState()


# -- properties ----------------------------------------------------------------------------

SUBJECTS = [
    "Lunch",
    "Team meeting",
    "Notes",
    "Breakfast",
    "Sick",
    "Home office",
    "Sync",
    "Out of office",
]


@dataclass(frozen=True)
class Spec:
    appointment: Appointment
    visible: datetime
    deleted: datetime | None


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    i = draw(st.integers(0, 10_000))
    start = at("12:00") + draw(st.integers(-10 * 60, 40 * 60)) * SECOND
    end = start + draw(st.integers(0, 90 * 60)) * SECOND
    # How long before its start it appears: often near the 3-minute boundary.
    ahead = draw(st.integers(150, 240) | st.integers(-120, 30 * 60))
    visible = max(at("11:40"), start - ahead * SECOND)
    deleted = draw(
        st.none() | st.none() | st.integers(0, 120 * 60).map(lambda s: visible + s * SECOND)
    )
    subject = draw(st.sampled_from(SUBJECTS))
    a = Appointment(f"a{i}", subject, start, end, created=visible)
    return Spec(a, visible, deleted)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, object]:
    items = draw(st.lists(specs(), min_size=1, max_size=5, unique_by=lambda s: s.appointment.id))
    calendar = Calendar()
    for s in items:
        calendar.put(s.visible, s.appointment)
        if s.deleted is not None:
            calendar.delete(s.deleted, s.appointment.id)
    return {
        "items": items,
        "calendar": calendar,
        "offset": draw(st.integers(0, 29)) * SECOND,
        "catch_up": draw(st.booleans()),
        "auto_back": draw(st.booleans()),
        "down": draw(
            st.lists(
                st.tuples(st.integers(0, 150), st.integers(1, 10)).map(
                    lambda p: (at("11:40") + p[0] * MINUTE, at("11:40") + (p[0] + p[1]) * MINUTE)
                ),
                max_size=2,
            )
        ),
        "manual": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 150).map(lambda m: at("11:40") + m * MINUTE),
                    st.sampled_from(["office", "sick", "lunch"]),
                ),
                max_size=2,
            )
        ),
    }


def run_world(world: dict[str, object], **override: object) -> Run:
    options = {k: v for k, v in world.items() if k not in ("items",)}
    options.update(override)
    calendar = options.pop("calendar")
    return simulate(calendar, start="11:40", end="14:40", **options)  # type: ignore[arg-type]


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(worlds())
def test_runs_are_deterministic(world: dict[str, object]) -> None:
    assert run_world(world).commands == run_world(world).commands


@PROPERTY
@given(worlds())
def test_at_most_one_start_per_appointment_and_none_without_keyword(
    world: dict[str, object],
) -> None:
    run = run_world(world)
    starts = Counter(
        c.appointment_id for _, c in run.sets() if c.reason in (Reason.START, Reason.CATCH_UP)
    )
    assert all(n == 1 for n in starts.values())
    by_id = {s.appointment.id: s.appointment for s in world["items"]}  # type: ignore[attr-defined]
    for when, command in run.sets():
        a = by_id[command.appointment_id]
        status = keywords.status_for(a.subject, "en")
        assert status is not None and command.status == status  # R5
        assert command.return_time == a.end  # R6
        assert a.start.replace(second=0) <= when < a.end.replace(second=0)  # R3, R7


@PROPERTY
@given(worlds())
def test_first_seen_under_lead_time_never_sets_presence(world: dict[str, object]) -> None:
    run = run_world(world, down=[])
    set_ids = {c.appointment_id for _, c in run.sets()}
    for s in world["items"]:  # type: ignore[attr-defined]
        seen = [p for p in run.polls if p >= s.visible]
        if seen and seen[0] > run.polls[0] and s.appointment.start - seen[0] < 3 * MINUTE:
            assert s.appointment.id not in set_ids


@PROPERTY
@given(worlds())
def test_with_auto_back_presence_ends_in_office(world: dict[str, object]) -> None:
    run = run_world(world, manual=[], auto_back=True)
    assert run.pbx.status == "office"  # every appointment ends by 14:30
    assert run.state.engine_presence is None


@PROPERTY
@given(worlds())
def test_after_a_manual_change_only_a_new_start_acts(world: dict[str, object]) -> None:
    run = run_world(world)
    for when, _ in world["manual"]:  # type: ignore[attr-defined]
        later = [c for t, c in run.commands if t >= when]
        if later:
            assert isinstance(later[0], SetPresence)
            assert later[0].reason in (Reason.START, Reason.CATCH_UP)
