"""Writing the outputs: paths checked when the command line is read, files written,
a file that cannot be written named on stderr with exit 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from scenarios.outputs.write import output_file, write_outputs
from scenarios.run.runner import ScenarioResult


def test_output_file_accepts_a_new_file_in_a_folder_that_exists(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    assert output_file(str(target)) == str(target)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("missing/report.html", "does not exist"), (".", "is a folder, not a file"), ("", "empty")],
)
def test_output_file_refuses(tmp_path: Path, name: str, problem: str) -> None:
    path = str(tmp_path / name) if name else ""
    with pytest.raises(argparse.ArgumentTypeError, match=problem):
        output_file(path)


def test_writes_every_file_asked_for(tmp_path: Path, results: list[ScenarioResult]) -> None:
    report, junit, data = tmp_path / "r.html", tmp_path / "j.xml", tmp_path / "d.json"
    assert write_outputs(results, report=str(report), junit=str(junit), json=str(data)) == 0
    assert report.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert junit.read_text(encoding="utf-8").startswith("<?xml")
    assert json.loads(data.read_text(encoding="utf-8"))["summary"]["runs"] == 2
    assert write_outputs(results) == 0  # nothing asked for, nothing written


def test_a_file_that_cannot_be_written_is_named(
    tmp_path: Path, results: list[ScenarioResult], capsys: pytest.CaptureFixture[str]
) -> None:
    gone = tmp_path / "gone" / "r.html"  # its folder vanished after the check
    data = tmp_path / "d.json"
    assert write_outputs(results, report=str(gone), json=str(data)) == 2
    err = capsys.readouterr().err
    assert f"harness run: cannot write --report {gone}: No such file or directory" in err
    assert "Traceback" not in err
    assert data.exists()  # the others are still written
