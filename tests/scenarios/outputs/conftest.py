"""Runs for the output tests: the support case of docs/reports.md (it fails, with an
explanation) and a scenario that passes, each run once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.format.loader import load_paths, parse_scenario
from scenarios.plugin import _shared_environment
from scenarios.run.runner import ScenarioResult, run_scenario

ROOT = Path(__file__).resolve().parents[3]
SUPPORT_CASE = ROOT / "docs" / "screenshots" / "support-case.yaml"

PASSING = """
name: "Lunch <sets> presence & returns"
timezone: Europe/Berlin
start: "2026-01-05 11:55"
end: "2026-01-05 12:20"
engine: {poll_offset: 0s}
users:
  - {extension: "100", name: Anna, email: user1@domain.net, auto_back_to_office: true}
appointments:
  - {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "12:15"}
expect_transitions:
  - {user: "100", status: lunch, between: ["12:00:00", "12:00:00"], return_time: "12:15"}
  - {user: "100", status: office, between: ["12:15:00", "12:15:00"]}
"""


@pytest.fixture(scope="session")
def failing() -> ScenarioResult:
    (scenario,) = load_paths([str(SUPPORT_CASE)])
    result = run_scenario(scenario, "ews", _shared_environment())
    assert result.failures and result.error is None, result.error
    return result


@pytest.fixture(scope="session")
def passing() -> ScenarioResult:
    scenario = parse_scenario(PASSING, "passing.yaml")
    result = run_scenario(scenario, "ews", _shared_environment())
    assert result.passed, result.failures
    return result


@pytest.fixture
def results(failing: ScenarioResult, passing: ScenarioResult) -> list[ScenarioResult]:
    """In file order: the passing one first (reports put failing runs first)."""
    return [passing, failing]
