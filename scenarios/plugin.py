"""pytest plugin: every ``scenarios/**/*.yaml`` is a test, one item per variant.

Items share one ``Environment`` (HTTPS Exchange site) per process, so under
``pytest -n auto`` each xdist worker starts its own simulators once and resets
them per scenario. A failing item prints the run's timeline with every failed
expectation as ``FILE:LINE: message``; an invalid file is a collection error
with its problems, nothing run.

Fixtures for tests of one's own: ``harness_environment`` is that shared
``Environment`` (the HTTPS site with EWS, WebDAV and OWA, and the SMTP sink);
``faults`` puts faults of the catalogue in force on it with the same fields as a
scenario's ``fault:`` step and ``POST /control/faults`` (docs/faults.md), and ends
them after the test::

    def test_engine_survives_busy(harness_environment, faults):
        faults.add("ews", "ErrorServerBusy", duration="5m", first=1, back_off="20s")
        ...
        assert faults.applied() == ["ews:ErrorServerBusy"]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios.faultfixture import Faults
from scenarios.format.loader import load_scenario
from scenarios.format.model import Scenario, ScenarioError
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario, variants_for

_environment: Environment | None = None


def _shared_environment() -> Environment:
    global _environment
    if _environment is None:
        _environment = Environment()
    return _environment


@pytest.fixture(scope="session")
def harness_environment() -> Environment:
    """The simulators scenario items run against (one per process, reset per scenario)."""
    return _shared_environment()


@pytest.fixture
def faults(harness_environment: Environment) -> Iterator[Faults]:
    """Faults of the catalogue on ``harness_environment``, ended after the test."""
    helper = Faults.on(harness_environment).start()
    try:
        yield helper
    finally:
        helper.stop()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and "scenarios" in file_path.parts:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_sessionfinish(session: pytest.Session) -> None:
    global _environment
    if _environment is not None:
        _environment.close()
        _environment = None


class ScenarioFailed(Exception):
    """An expectation of a scenario did not hold (or the harness failed)."""


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            raise self.CollectError("\n".join(exc.problems)) from None
        for variant in variants_for(scenario):
            yield ScenarioItem.from_parent(self, name=variant, scenario=scenario, variant=variant)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, variant: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.variant = variant

    def runtest(self) -> None:
        result = run_scenario(self.scenario, self.variant, _shared_environment())
        if not result.passed:
            raise ScenarioFailed(render(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.scenario.name} [{self.variant}]"
