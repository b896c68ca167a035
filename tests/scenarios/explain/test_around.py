"""A failed expectation explains itself: the engine's decisions for that user around
the instant, in the run's result and in the text timeline; ``--explain USER``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, run_scenario

HEAD = """\
name: explained
timezone: Europe/Berlin
start: 2026-01-05 11:50
end: 2026-01-05 13:10
variant: ews
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, auto_back_to_office: true}
"""

LATE_LUNCH = (
    HEAD
    + """\
steps:
  - at: "11:58:30"
    create_appointment: {id: lunch, mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "13:00"}
  - at: "12:00:59"
    expect_presence: {user: "100", status: lunch, return_time: "13:00"}
"""
)


def run(text: str, environment: Environment) -> ScenarioResult:
    return run_scenario(parse_scenario(text, "case.yaml"), "ews", environment)


def test_ignored_lunch_is_explained_by_the_three_minute_rule(environment: Environment) -> None:
    result = run(LATE_LUNCH, environment)
    (failure,) = result.failures
    assert failure.line == 11
    assert failure.explanation == (
        "poll at 12:00:30: 'Lunch' was first seen at 11:58:30, 1:30 before its start: "
        "ignored for good by the 3-minute rule (R4)",
    )
    text = render(result)
    assert "case.yaml:11: expected user 100 lunch" in text
    assert "      why: poll at 12:00:30: 'Lunch' was first seen at 11:58:30" in text


def test_missed_start_names_the_failed_polls_and_catch_up(environment: Environment) -> None:
    result = run(
        HEAD
        + """\
appointments:
  - {mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
steps:
  - at: "11:59:10"
    fault: {service: ews, kind: unavailable, duration: 2m}
  - at: "12:05"
    expect_presence: {user: "100", status: meeting}
""",
        environment,
    )
    (failure,) = result.failures
    why = "\n".join(failure.explanation)
    assert "the poll from 11:59:30 to 12:01:00 (x4) failed" in why
    assert "start minute 12:00 passed without a successful poll (last good poll 11:59:00)" in why
    assert "catch-up is off" in why and "(R3)" in why


def test_manual_change_is_explained_by_r8(environment: Environment) -> None:
    result = run(
        HEAD
        + """\
appointments:
  - {mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
steps:
  - at: "12:10:10"
    set_presence: {user: "100", status: break}
  - at: "12:31"
    expect_presence: {user: "100", status: office}
""",
        environment,
    )
    (failure,) = result.failures
    assert any(
        "changed to break by client (noticed at 12:10:30)" in line and "(R8)" in line
        for line in failure.explanation
    ), failure.explanation


def test_unexpected_transition_is_explained_where_it_happened(environment: Environment) -> None:
    result = run(
        HEAD
        + """\
appointments:
  - {id: lunch, mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "12:30"}
expect_transitions:
  - {user: "100", status: lunch, between: ["12:00:00", "12:00:00"], return_time: "12:30"}
""",
        environment,
    )
    (failure,) = result.failures
    assert "unexpected transition of user 100 to office at 2026-01-05 12:30:00" in failure.message
    assert any(
        "'Lunch' ended at 12:30:00: presence back to office" in x for x in failure.explanation
    )


def test_no_poll_yet_is_said(environment: Environment) -> None:
    result = run(
        HEAD.replace(
            "start: 2026-01-05 11:50", "start: 2026-01-05 11:50\nengine: {poll_offset: 5m}"
        )
        + """\
steps:
  - at: "11:51"
    expect_presence: {user: "100", status: lunch}
""",
        environment,
    )
    (failure,) = result.failures
    assert failure.explanation == ("user 100 had not been polled by 11:51:00",)


def test_explain_option_prints_the_per_poll_decisions(tmp_path: Path) -> None:
    case = tmp_path / "late.yaml"
    case.write_text(LATE_LUNCH, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "run", "--explain", "100", str(case)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "decisions for user 100, per poll:" in out
    assert "2026-01-05 11:58:30  poll 100: ok\n      'Lunch' was first seen at 11:58:30" in out
    assert "poll 100: same as above (x" in out
