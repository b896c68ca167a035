"""The decision trace: every verdict, at the poll where the rules reach it, with the
facts behind it (first seen, keyword, who changed presence, back to office)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integration.decisions import VERDICT_RULES, Decision, Verdict
from integration.rules import UserRuleState, step
from tests.integration.test_rules import (
    LUNCH,
    Calendar,
    Run,
    appt,
    at,
    simulate,
)


def verdicts(run: Run, id: str) -> list[tuple[str, Verdict]]:
    """(poll time, verdict) of appointment ``id``, one entry per change of verdict."""
    out: list[tuple[str, Verdict]] = []
    for when, d in run.decisions:
        if d.appointment_id == id and (not out or out[-1][1] != d.verdict):
            out.append((when.strftime("%H:%M:%S"), d.verdict))
    return out


def decision_at(run: Run, id: str, when: str) -> Decision:
    (found,) = [d for t, d in run.decisions if d.appointment_id == id and t == at(when)]
    return found


def test_honoured_appointment_waits_is_set_is_shown_and_ends() -> None:
    run = simulate(Calendar().put("11:50", LUNCH), end="13:01")
    assert verdicts(run, "lunch") == [
        ("11:50:00", Verdict.WAITING),
        ("12:00:00", Verdict.SET),
        ("12:00:30", Verdict.SHOWN),
        ("13:00:00", Verdict.ENDED),
    ]
    waiting = decision_at(run, "lunch", "11:50:00")
    assert (waiting.rule, waiting.keyword, waiting.status) == ("R4", "Lunch", "lunch")
    assert waiting.first_seen is not None and waiting.dated_after_gap  # the engine's first poll
    ended = decision_at(run, "lunch", "13:00:00")
    assert (ended.rule, ended.back_to_office) == ("R7", True)


def test_ended_without_auto_back_says_presence_stays() -> None:
    run = simulate(Calendar().put("11:50", LUNCH), end="13:01", auto_back=False)
    assert decision_at(run, "lunch", "13:00:00").back_to_office is False


def test_created_1m30_before_start_is_ignored_with_when_it_was_first_seen() -> None:
    late = appt("late", "Lunch", "12:00", "13:00", created=at("11:58:30"))
    run = simulate(Calendar().put("11:58:30", late), end="12:05")
    assert verdicts(run, "late") == [("11:58:30", Verdict.IGNORED)]
    d = decision_at(run, "late", "12:00:00")
    assert d.first_seen == at("11:58:30") and not d.dated_after_gap
    assert d.ahead == 90 and d.rule == "R4" and d.lead_time == 180


def test_subject_without_keyword() -> None:
    run = simulate(Calendar().put("11:50", appt("p", "Project day", "12:00", "13:00")), end="12:05")
    assert {v for _, v in verdicts(run, "p")} == {Verdict.NO_KEYWORD}
    d = decision_at(run, "p", "12:00:00")
    assert (d.rule, d.keyword, d.language) == ("R5", None, "en")


def test_keyword_added_after_the_start_minute_had_a_poll_is_passed() -> None:
    calendar = (
        Calendar()
        .put("11:50", appt("p", "Project", "12:00", "13:00"))
        .put("12:00:45", appt("p", "Lunch", "12:00", "13:00"))
    )
    run = simulate(calendar, end="12:05")
    assert verdicts(run, "p")[-1] == ("12:01:00", Verdict.PASSED)
    assert not run.sets()


def test_missed_start_minute_with_catch_up_off_and_caught_up_with_it_on() -> None:
    calendar = Calendar().put("11:50", LUNCH)
    off = simulate(calendar, end="12:10", down=[("11:59:50", "12:03")])
    assert verdicts(off, "lunch")[-1] == ("12:03:00", Verdict.MISSED)
    missed = decision_at(off, "lunch", "12:03:00")
    assert missed.last_good_poll == at("11:59:30") and not missed.catch_up
    # Later polls repeat the facts of the verdict, not their own last poll.
    assert decision_at(off, "lunch", "12:05:00").last_good_poll == at("11:59:30")
    on = simulate(calendar, end="12:10", down=[("11:59:50", "12:03")], catch_up=True)
    assert ("12:03:00", Verdict.CAUGHT_UP) in verdicts(on, "lunch")
    assert decision_at(on, "lunch", "12:03:00").rule == "R3"


def test_later_start_stands_over_the_earlier_which_resumes() -> None:
    calendar = (
        Calendar()
        .put("11:50", appt("meeting", "Meeting", "12:00", "13:00"))
        .put("11:50", appt("lunch", "Lunch", "12:10", "12:20"))
    )
    run = simulate(calendar, end="13:01")
    assert verdicts(run, "meeting") == [
        ("11:50:00", Verdict.WAITING),
        ("12:00:00", Verdict.SET),
        ("12:00:30", Verdict.SHOWN),
        ("12:10:00", Verdict.STANDING_BY),
        ("12:20:00", Verdict.RESUMED),
        ("12:20:30", Verdict.SHOWN),
        ("13:00:00", Verdict.ENDED),
    ]
    standing = decision_at(run, "meeting", "12:15:00")
    assert (standing.under, standing.under_subject, standing.rule) == ("lunch", "Lunch", "R9")


def test_end_moved_while_shown_is_changed() -> None:
    calendar = Calendar().put("11:50", LUNCH).put("12:30", appt("lunch", "Lunch", "12:00", "13:30"))
    run = simulate(calendar, end="12:35")
    assert ("12:30:00", Verdict.CHANGED) in verdicts(run, "lunch")


def test_manual_change_is_overridden_naming_who_and_what() -> None:
    run = simulate(Calendar().put("11:50", LUNCH), end="13:05", manual=[("12:10", "break")])
    assert ("12:10:00", Verdict.OVERRIDDEN) in verdicts(run, "lunch")
    manual = decision_at(run, "lunch", "12:10:00").manual
    assert manual is not None
    assert (manual.status, manual.set_by, manual.noticed_at) == ("break", "client", at("12:10"))
    assert decision_at(run, "lunch", "12:10:00").rule == "R8"
    ended = decision_at(run, "lunch", "13:00:00")
    assert (ended.verdict, ended.rule, ended.manual) == (Verdict.ENDED, "R8", manual)


def test_deleted_while_shown_is_removed_and_back_to_office() -> None:
    run = simulate(Calendar().put("11:50", LUNCH).delete("12:20:10", "lunch"), end="12:25")
    assert verdicts(run, "lunch")[-1] == ("12:20:30", Verdict.REMOVED)
    d = decision_at(run, "lunch", "12:20:30")
    assert (d.rule, d.back_to_office, d.keyword_lost) == ("R11", True, False)


def test_keyword_lost_while_shown() -> None:
    calendar = (
        Calendar().put("11:50", LUNCH).put("12:20", appt("lunch", "Errands", "12:00", "13:00"))
    )
    run = simulate(calendar, end="12:25")
    d = decision_at(run, "lunch", "12:20:00")
    assert (d.verdict, d.keyword_lost, d.back_to_office) == (Verdict.REMOVED, True, True)


def test_appointment_inside_one_minute_is_too_short() -> None:
    short = appt("s", "Break", at("12:00:10"), at("12:00:40"))
    run = simulate(Calendar().put("11:50", short), end="12:02")
    assert verdicts(run, "s")[-1] == ("12:00:00", Verdict.TOO_SHORT)


def test_all_day_event_names_r12_when_set() -> None:
    day = at("00:00")
    holiday = appt("h", "Holiday", day, day + timedelta(days=1), all_day=True)
    run = simulate(
        Calendar().put(day - timedelta(hours=1), holiday),
        start=day - timedelta(minutes=1),
        end="00:01",
    )
    d = decision_at(run, "h", "00:00:00")
    assert (d.verdict, d.rule, d.all_day) == (Verdict.SET, "R12", True)


def test_all_day_event_set_late_is_r12_not_a_miss_and_not_a_catch_up() -> None:
    # An engine started at 08:00 on the holiday, catch-up off: R12 sets it at once.
    day = at("00:00")
    holiday = appt("h", "Holiday", day, day + timedelta(days=1), all_day=True)
    run = simulate(Calendar().put(day - timedelta(hours=1), holiday), start="08:00", end="08:01")
    assert verdicts(run, "h") == [("08:00:00", Verdict.SET), ("08:00:30", Verdict.SHOWN)]
    d = decision_at(run, "h", "08:00:00")
    assert (d.rule, d.catch_up, d.last_good_poll) == ("R12", False, None)


def test_every_read_appointment_gets_one_decision_per_poll() -> None:
    a, b = LUNCH, appt("p", "Project", "14:00", "15:00")
    result = step(UserRuleState(), [a, b], at("11:50"), current_presence=None)
    assert [d.appointment_id for d in result.decisions] == ["lunch", "p"]
    assert [d.verdict for d in result.decisions] == [Verdict.WAITING, Verdict.NO_KEYWORD]


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_names_a_rule(verdict: Verdict) -> None:
    assert VERDICT_RULES[verdict].startswith("R")
