"""``harness run --report/--junit/--json``: the files after the run, a bad path refused
before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.commands.cli import main

FAILING = """
name: Lunch expected, meeting written
timezone: Europe/Berlin
start: "2026-01-05 11:58"
end: "2026-01-05 12:02"
variant: ews
users:
  - {extension: "100", name: Anna, email: user1@domain.net}
appointments:
  - {mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
steps:
  - at: "12:00:00"
    expect_presence: {user: "100", status: lunch}
"""


def test_the_three_files_after_a_failing_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(FAILING, encoding="utf-8")
    report, junit, data = tmp_path / "r.html", tmp_path / "j.xml", tmp_path / "d.json"
    code = main(
        ["run", str(case), "--report", str(report), "--junit", str(junit), "--json", str(data)]
    )
    assert code == 1
    assert "0 passed, 1 failed" in capsys.readouterr().out
    assert "expected user 100 lunch" in report.read_text(encoding="utf-8")
    assert 'failures="1"' in junit.read_text(encoding="utf-8")
    assert json.loads(data.read_text(encoding="utf-8"))["results"][0]["verdict"] == "fail"


def test_a_bad_path_stops_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(FAILING, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(case), "--junit", str(tmp_path / "nowhere" / "j.xml")])
    assert stopped.value.code == 2
    err = capsys.readouterr()
    assert "argument --junit:" in err.err and "does not exist" in err.err
    assert "Traceback" not in err.err and err.out == ""  # nothing ran
