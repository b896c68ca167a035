"""``restart_engine`` and ``restart_exchange`` in a run: what is lost, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.restarts import engine_polls
from scenarios.run.runner import run_scenario

HEAD = """\
name: t
timezone: UTC
start: 2026-01-05 11:50
users:
  - {extension: "100", email: user1@domain.net, auto_back_to_office: true}
"""


def utc(hms: str) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return datetime(2026, 1, 5, h, m, s[0] if s else 0, tzinfo=UTC)


def test_the_new_engine_polls_at_once_then_in_its_own_phase() -> None:
    scenario = parse_scenario(
        HEAD
        + "end: 2026-01-05 11:54\n"
        + 'steps:\n  - at: "11:51:10"\n    restart_engine: {down_for: 1m}\n'
        + '  - at: "11:52:40"\n    restart_engine: {}\n'
    )
    polls = list(engine_polls(scenario))
    assert polls == [
        utc("11:50"),
        utc("11:50:30"),
        utc("11:51"),  # then down from 11:51:10
        utc("11:52:10"),  # back: the new process polls at once
        utc("11:52:40"),  # restarted again at 11:52:40, no down time: polls then
        utc("11:53:10"),
        utc("11:53:40"),
    ]


def test_a_restart_loses_the_rule_state_and_adopts_the_pbx_presence(
    environment: Environment,
) -> None:
    text = (
        HEAD
        + "appointments:\n"
        + '  - {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "12:30"}\n'
        + 'steps:\n  - at: "12:10:00"\n    restart_engine: {down_for: 1m}\n'
        + 'expect_transitions:\n  - {user: "100", status: lunch, between: ["12:00", "12:00"]}\n'
        + '  - {user: "100", status: office, between: ["12:30", "12:30"]}\n'
    )
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert result.passed, render(result)
    polls = [p.at for p in result.polls]
    assert not [t for t in polls if utc("12:10") <= t < utc("12:11")]
    (first,) = [p for p in result.polls if p.at == utc("12:11")]
    (decision,) = first.decisions
    # A new process: its first poll dates the lunch by the Exchange stamp (a gap), and
    # shows the presence it found on the PBX.
    assert decision.dated_after_gap and decision.last_good_poll is None
    assert decision.verdict.value == "shown"
    assert [a.text for a in result.activity if "engine" in a.text] == [
        "engine stopped (restart_engine); back at 2026-01-05 12:11:00",
        "engine started again: a new process, its memory lost",
    ]


def test_an_instant_exchange_restart_ends_forms_sessions_and_the_engine_logs_in_again(
    environment: Environment,
) -> None:
    text = (
        HEAD
        + "exchange: {webdav_auth: forms}\n"
        + "appointments:\n"
        + '  - {mailbox: user1@domain.net, subject: Meeting, start: "12:02", end: "12:30"}\n'
        + 'steps:\n  - at: "12:01:45"\n    restart_exchange: {}\n'
        + 'expect_transitions:\n  - {user: "100", status: meeting, between: ["12:02", "12:02"]}\n'
        + '  - {user: "100", status: office, between: ["12:30", "12:30"]}\n'
    )
    before = environment.site.restarts
    result = run_scenario(parse_scenario(text), "webdav", environment)
    assert result.passed, render(result)
    assert environment.site.restarts == before + 1 and environment.site.serving
    assert all(p.outcome == "ok" for p in result.polls)
    after = [e for e in environment.site.journal.entries() if e.at >= utc("12:01:45")]
    statuses = [(e.method, e.status) for e in after[:4]]
    # The old session is refused once (440), then the engine logs in again and searches.
    assert statuses[0] == ("SEARCH", 440), statuses
    assert ("POST", 302) in statuses and statuses[-1] in (("SEARCH", 207), ("SEARCH", 206))


def test_exchange_is_back_for_the_next_scenario(environment: Environment) -> None:
    text = HEAD + 'steps:\n  - at: "11:51"\n    restart_exchange: {down_for: 1m}\n'
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert result.passed, render(result)
    failed = [p.at for p in result.polls if p.outcome != "ok"]
    assert failed == [utc("11:51"), utc("11:51:30")]
    assert environment.site.serving and environment.sink.running


def test_expect_mail_count_fails_on_a_duplicate(environment: Environment) -> None:
    text = (
        HEAD.replace(
            "auto_back_to_office: true", 'presence: {status: meeting, return_time: "14:00"}'
        )
        + 'steps:\n  - at: "12:00"\n    leave_voicemail: {to: "100", from: "+49 30 1", seconds: 4}\n'
        + '  - at: "12:00:10"\n    leave_voicemail: {to: "100", from: "+49 30 1", seconds: 4}\n'
        + '  - at: "12:00:10"\n    expect_mail: {to: user1@domain.net, subject_contains: "+49 30 1",'
        + " within: 1m, count: 1}\n"
    )
    result = run_scenario(parse_scenario(text), "ews", environment)
    (failure,) = result.failures
    assert "expected exactly 1 mail(s) by 2026-01-05 12:01:10" in failure.message
    assert "found 2" in failure.message
