"""``harness run`` as scripts and support staff use it: output and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.scenarios.run.test_runner import LUNCH

LIBRARY = Path(__file__).parents[3] / "scenarios" / "library"


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_passing_folder_exits_0_with_a_timeline(tmp_path: Path) -> None:
    shutil.copytree(LIBRARY / "r06-return-time", tmp_path / "r06")
    (tmp_path / "lunch.yaml").write_text(LUNCH, encoding="utf-8")
    done = harness("run", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    runs = 2 * len(sorted(tmp_path.rglob("*.yaml")))  # variant both: EWS and WebDAV
    assert done.stdout.count("\nPASS ") + done.stdout.startswith("PASS ") == runs
    assert f"{runs} passed, 0 failed" in done.stdout
    assert f"PASS {tmp_path / 'lunch.yaml'} [webdav]" in done.stdout
    assert "2026-01-05 12:00:10     100  office -> lunch until 2026-01-05 13:00:00" in done.stdout


def test_wrong_expectation_exits_1_naming_file_line_when_and_why(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(LUNCH.replace("status: lunch", "status: meeting"), encoding="utf-8")
    done = harness("run", str(case))
    assert done.returncode == 1
    assert f"FAIL {case} [ews]" in done.stdout
    assert f"{case}:13: expected user 100 meeting at 2026-01-05 12:00:10, got lunch" in done.stdout
    assert f"{case}:16: expected user 100 -> meeting between" in done.stdout
    assert f"FAIL {case} [webdav]" in done.stdout
    assert "0 passed, 2 failed" in done.stdout


def test_invalid_file_exits_2_with_the_line_and_runs_nothing(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text(LUNCH, encoding="utf-8")
    bad = tmp_path / "b.yaml"
    bad.write_text(LUNCH.replace("status: lunch", "status: luch"), encoding="utf-8")
    done = harness("run", str(tmp_path))
    assert done.returncode == 2
    assert f"{bad}:14:" in done.stderr
    assert "luch" in done.stderr
    assert "PASS" not in done.stdout and "passed" not in done.stdout


def test_variant_override_runs_only_that_variant(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(LUNCH, encoding="utf-8")
    done = harness("run", "--variant", "webdav", str(case))
    assert done.returncode == 0, done.stdout
    assert f"PASS {case} [webdav]" in done.stdout
    assert "[ews]" not in done.stdout
