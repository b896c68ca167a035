"""Each verdict in words: the sentence names the rule and the facts that decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from integration.decisions import Decision, ManualChange, Verdict
from scenarios.explain.sentences import SENTENCES, Clock, duration, sentence

BERLIN = ZoneInfo("Europe/Berlin")
CLOCK = Clock(BERLIN).on(datetime(2026, 1, 5, 11, tzinfo=UTC))


def local(hms: str) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return datetime(2026, 1, 5, h, m, s[0] if s else 0, tzinfo=BERLIN).astimezone(UTC)


def lunch(verdict: Verdict, **facts: object) -> Decision:
    base: dict[str, object] = {
        "appointment_id": "a1",
        "subject": "Lunch",
        "start": local("12:00"),
        "end": local("13:00"),
        "verdict": verdict,
        "rule": "R4",
        "language": "en",
        "keyword": "Lunch",
        "status": "lunch",
        "first_seen": local("11:58:30"),
        "lead_time": 180.0,
    }
    base.update(facts)
    return Decision(**base)  # type: ignore[arg-type]


def test_the_issue_example_word_for_word() -> None:
    assert sentence(lunch(Verdict.IGNORED), CLOCK) == (
        "'Lunch' was first seen at 11:58:30, 1:30 before its start: "
        "ignored for good by the 3-minute rule (R4)"
    )


@pytest.mark.parametrize(
    ("verdict", "facts", "words"),
    [
        (
            Verdict.WAITING,
            {"first_seen": local("11:50")},
            ["11:50:00, 10:00 before", "honoured", "12:00 (R3)"],
        ),
        (Verdict.IGNORED, {"lead_time": 300.0}, ["lead time 5:00"]),
        (
            Verdict.IGNORED,
            {"dated_after_gap": True},
            ["after a gap in polling", "dated to 11:58:30", "Exchange stamp"],
        ),
        (Verdict.WAITING, {"first_seen": None}, ["older than anything the engine knows"]),
        (
            Verdict.NO_KEYWORD,
            {"subject": "Mittag", "keyword": None, "status": None},
            ["language en", "Lunch", "(R5)"],
        ),
        (Verdict.SET, {}, ["starts in this minute (12:00)", "lunch until 13:00:00", "(R3)"]),
        (
            Verdict.SET,
            {"all_day": True, "start": local("00:00"), "end": local("00:00") + timedelta(days=1)},
            ["all-day", "began at 00:00:00", "first successful poll of its day", "(R12"],
        ),
        (
            Verdict.SET,
            {
                "all_day": True,
                "start": local("00:00"),
                "end": local("00:00") + timedelta(days=1),
                "last_good_poll": local("00:00") - timedelta(minutes=6),
            },
            ["last good poll 2026-01-04 23:54:00", "whatever the poll interval or catch-up"],
        ),
        (
            Verdict.WAITING,
            {"all_day": True, "start": local("00:00") + timedelta(days=1)},
            ["all-day 'Lunch'", "first successful poll from 2026-01-06 00:00:00", "(R12)"],
        ),
        (
            Verdict.PASSED,
            {"all_day": True, "start": local("00:00")},
            ["first poll of its day (from 00:00:00)", "without a keyword", "(R12)"],
        ),
        (
            Verdict.CAUGHT_UP,
            {"last_good_poll": local("11:58"), "rule": "R3"},
            ["last good poll 11:58:00", "catch-up is on", "(R3 catch-up)"],
        ),
        (Verdict.SHOWN, {}, ["is shown: lunch until 13:00:00"]),
        (Verdict.RESUMED, {}, ["shown again", "(R9)"]),
        (Verdict.CHANGED, {}, ["changed while shown", "(R5/R6)"]),
        (
            Verdict.STANDING_BY,
            {"under": "a2", "under_subject": "Call with Bob"},
            ["'Call with Bob' started later", "(R9)"],
        ),
        (
            Verdict.MISSED,
            {"last_good_poll": None},
            ["start minute 12:00", "the engine had not polled yet", "catch-up is off"],
        ),
        (Verdict.PASSED, {}, ["had a poll at which it did not set", "(R3)"]),
        (
            Verdict.TOO_SHORT,
            {"end": local("12:00:40")},
            ["ends (12:00:40)", "never sets presence (R7)"],
        ),
        (
            Verdict.OVERRIDDEN,
            {"manual": ManualChange(local("12:10"), "break", "client")},
            ["changed to break by client (noticed at 12:10:00)", "(R8)"],
        ),
        (Verdict.ENDED, {"back_to_office": True}, ["ended at 13:00:00", "back to office", "(R7)"]),
        (Verdict.ENDED, {"back_to_office": False}, ["presence stays", "15 minutes"]),
        (
            Verdict.REMOVED,
            {"back_to_office": True},
            ["gone from the calendar", "back to office", "(R11)"],
        ),
        (Verdict.REMOVED, {"keyword_lost": True}, ["lost its keyword", "(R11)"]),
        (
            Verdict.CANCELLED,
            {"subject": "Canceled: Team Meeting", "keyword": "Meeting", "status": "meeting"},
            ["cancelled meeting", "never sets presence", "keyword Meeting", "(R11)"],
        ),
        (
            Verdict.CANCELLED,
            {"back_to_office": True},
            ["cancelled by its organizer while shown", "back to office", "(R11)"],
        ),
        (
            Verdict.ORPHANED,
            {"subject": "", "start": local("13:05"), "end": local("13:15"), "back_to_office": True},
            ["the PBX shows lunch until 13:15:00", "engine was down", "back to office", "(R7)"],
        ),
    ],
)
def test_sentence_names_the_facts(
    verdict: Verdict, facts: dict[str, object], words: list[str]
) -> None:
    text = sentence(lunch(verdict, **facts), CLOCK)
    for word in words:
        assert word in text, (word, text)


def test_every_verdict_has_a_sentence() -> None:
    assert set(SENTENCES) == set(Verdict)


def test_dates_are_written_only_off_the_poll_day() -> None:
    d = lunch(Verdict.SHOWN, end=local("13:00") + timedelta(days=1))
    assert "until 2026-01-06 13:00:00" in sentence(d, CLOCK)
    assert "2026-01-05" not in sentence(lunch(Verdict.SHOWN), CLOCK)


@pytest.mark.parametrize(
    ("seconds", "text"), [(90, "1:30"), (0, "0:00"), (3725, "1:02:05"), (-40, "-0:40")]
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text
