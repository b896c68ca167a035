"""The lines ``harness run`` prints while it goes, and its signs of life."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from scenarios.format.loader import parse_scenario
from scenarios.format.model import Scenario
from scenarios.outputs import progress as progress_module
from scenarios.outputs.progress import (
    CLEAR,
    QUIET_SECONDS,
    Progress,
    progress_line,
    summary,
)
from scenarios.run.batch import Job, Running
from scenarios.run.runner import Failure, ScenarioResult

CASE = """
name: Lunch
timezone: Europe/Berlin
start: "2026-01-05 11:58"
end: "2026-01-05 14:00"
users: [{extension: "100", name: Anna, email: user1@domain.net}]
"""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def scenario() -> Scenario:
    return parse_scenario(CASE, "r06/lunch.yaml")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(progress_module, "real_clock", fake)
    return fake


def test_a_line_per_run_names_verdict_file_variant_and_seconds(scenario: Scenario) -> None:
    passed = ScenarioResult(scenario, "ews", seconds=0.84)
    failed = ScenarioResult(scenario, "webdav", failures=[Failure(7, "x")], seconds=12.25)
    error = ScenarioResult(scenario, "ews", error="the worker process running it exited")
    assert progress_line(12, 176, passed) == "[12/176] PASS r06/lunch.yaml [ews] 0.8 s"
    assert progress_line(13, 176, failed) == "[13/176] FAIL r06/lunch.yaml [webdav] 12.2 s"
    assert progress_line(14, 176, error) == "[14/176] ERROR r06/lunch.yaml [ews] 0.0 s"


def test_the_summary_counts_errors_deselected_and_not_run(scenario: Scenario) -> None:
    results = [
        ScenarioResult(scenario, "ews"),
        ScenarioResult(scenario, "ews", failures=[Failure(7, "x")]),
        ScenarioResult(scenario, "ews", error="boom"),
    ]
    text = summary(results, selected=5, deselected=2, seconds=41.26, workers=2)
    assert text == "1 passed, 1 failed, 1 error, 2 deselected, 2 not run in 41.3 s (2 workers)"
    one = summary(results[:1], selected=1, deselected=0, seconds=0.5, workers=1)
    assert one == "1 passed, 0 failed in 0.5 s (in-process)"


def test_a_terminal_gets_one_status_line_rewritten_and_cleared_before_a_result(
    scenario: Scenario, clock: FakeClock
) -> None:
    out, err = io.StringIO(), Terminal()
    printer = Progress(3, out, err, began=clock.now, last_line=clock.now)
    running = Running(Job(scenario, "ews"), started=clock.now)
    printer.alive([running], 0)
    assert err.getvalue() == ""  # a run younger than a second shows nothing yet
    clock.now += 1.5
    running.reached = scenario.start + timedelta(minutes=32)
    printer.alive([running], 0)
    status = "0/3 done, 2 s; running r06/lunch.yaml [ews] at 2026-01-05 12:30"
    assert err.getvalue() == CLEAR + status
    printer.alive([running], 0)  # again at once: not redrawn
    assert err.getvalue() == CLEAR + status
    printer.result(0, ScenarioResult(scenario, "ews", seconds=1.5))
    assert err.getvalue() == CLEAR + status + CLEAR  # cleared, then the line on stdout
    assert out.getvalue() == "[1/3] PASS r06/lunch.yaml [ews] 1.5 s\n"


def test_a_log_gets_a_line_of_life_only_after_a_quiet_spell(
    scenario: Scenario, clock: FakeClock
) -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = Progress(3, out, err, began=clock.now, last_line=clock.now)
    running = Running(Job(scenario, "webdav"), started=clock.now)
    clock.now += QUIET_SECONDS - 1
    printer.alive([running], 1)
    assert out.getvalue() == ""
    clock.now += 1
    running.reached = scenario.start + timedelta(hours=1, minutes=2)
    printer.alive([running], 1)
    printer.alive([running], 1)  # just printed: quiet again for a while
    assert out.getvalue() == (
        "... 1/3 done, 10 s; running r06/lunch.yaml [webdav] at 2026-01-05 13:00\n"
    )
    assert err.getvalue() == ""


def test_quiet_keeps_failures_only_and_no_lines_of_life(
    scenario: Scenario, clock: FakeClock
) -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = Progress(2, out, err, quiet=True, began=clock.now, last_line=clock.now)
    printer.result(0, ScenarioResult(scenario, "ews", seconds=0.2))
    clock.now += 60
    printer.alive([Running(Job(scenario, "ews"), started=clock.now - 30)], 1)
    printer.result(1, ScenarioResult(scenario, "webdav", failures=[Failure(7, "wrong")]))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[2/2] FAIL r06/lunch.yaml [webdav] 0.0 s"
    assert lines[1] == "  Lunch"
    assert lines[-1] == "  r06/lunch.yaml:7: wrong"
