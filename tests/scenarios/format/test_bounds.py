"""Scenario files that would overflow, run for ever or eat the memory are rejected with
``FILE:LINE`` problems (exit 2), never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scenarios.commands.cli import main
from scenarios.format.bounds import MAX_FILE_BYTES
from scenarios.format.loader import load_scenario, parse_scenario
from scenarios.format.model import ScenarioError

BASE = """\
name: bounds
timezone: Europe/Berlin
start: "{start}"
end: "{end}"
engine:
  poll_interval: {interval}
users:
  - extension: "100"
    name: Anna Berg
    email: user1@domain.net
appointments:
  - id: weekly
    mailbox: user1@domain.net
    subject: Meeting
    start: "{appt}"
    end: "{appt_end}"
    recurrence: {{pattern: weekly, days: [monday]}}
"""


def scenario_text(
    start: str = "2026-01-05 11:50",
    end: str = "2026-01-05 12:45",
    interval: str = "30s",
    appt: str = "12:00",
    appt_end: str = "12:30",
) -> str:
    return BASE.format(start=start, end=end, interval=interval, appt=appt, appt_end=appt_end)


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "case.yaml")
    return caught.value.problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"interval": "99999999999h"},
            ["case.yaml:6: engine poll_interval: bad duration '99999999999h': at most 8784h"],
        ),
        ({"interval": "9" * 5000 + "s"}, ["case.yaml:6: engine poll_interval: bad duration '999"]),
        (
            {"start": "0001-01-01 00:00", "end": "0001-01-01 01:00"},
            [
                "case.yaml:3: start: bad date '0001-01-01': scenarios take dates from 1971 to 4499",
                "case.yaml:4: end: bad date '0001-01-01': scenarios take dates from 1971 to 4499",
            ],
        ),
        (
            {"start": "9999-12-20 08:00", "end": "9999-12-20 12:00"},
            ["case.yaml:3: start: bad date '9999-12-20'", "case.yaml:4: end: bad date"],
        ),
        (
            {"appt": "9999-12-20 09:00", "appt_end": "9999-12-20 10:00"},
            [
                "case.yaml:15: appointment start: bad date '9999-12-20'",
                "case.yaml:16: appointment end: bad date '9999-12-20'",
            ],
        ),
        (
            {"end": "2036-01-05 11:50"},
            ["case.yaml:4: the scenario spans 3652 days; at most 366 days"],
        ),
        (
            {"end": "2026-02-20 11:50"},
            [
                "case.yaml:4: the scenario has 132481 polls (every 30s for 46 days, 0:00:00); "
                "at most 100000: lengthen engine.poll_interval"
            ],
        ),
    ],
)
def test_out_of_bounds(changes: dict[str, str], expected: list[str]) -> None:
    found = problems(scenario_text(**changes))
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line


def test_the_edges_load() -> None:
    a_year = parse_scenario(scenario_text(end="2027-01-05 11:50", interval="6m"), "case.yaml")
    assert (a_year.end - a_year.start).days == 365
    late = parse_scenario(
        scenario_text(start="4499-12-30 11:50", end="4499-12-31 12:45"), "case.yaml"
    )
    assert late.start.year == 4499


def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:
        out.write(scenario_text().encode())
        out.truncate(100 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert time.monotonic() - started < 1.0
    assert caught.value.problems == [
        f"{path}:1: the file has {100 * 1024 * 1024} bytes; a scenario file has at most "
        f"{MAX_FILE_BYTES} (1 MiB): split it into several scenarios"
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"interval": "99999999999h"},
        {"start": "0001-01-01 00:00", "end": "0001-01-01 01:00"},
        {"start": "9999-12-20 08:00", "end": "9999-12-20 12:00"},
        {"end": "2036-01-05 11:50"},
    ],
)
def test_harness_run_exits_2_with_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str]
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(scenario_text(**changes), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "Traceback" not in err
