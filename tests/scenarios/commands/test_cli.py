"""``harness run`` as scripts and support staff use it: output and exit codes."""

from __future__ import annotations

import re
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


def test_passing_folder_exits_0_with_a_line_per_run(tmp_path: Path) -> None:
    shutil.copytree(LIBRARY / "r06-return-time", tmp_path / "r06")
    (tmp_path / "lunch.yaml").write_text(LUNCH, encoding="utf-8")
    done = harness("run", "-j", "2", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    runs = 2 * len(sorted(tmp_path.rglob("*.yaml")))  # variant both: EWS and WebDAV
    lines = done.stdout.splitlines()
    assert [line.split("] ")[0] + "]" for line in lines[:-1]] == [
        f"[{n}/{runs}]" for n in range(1, runs + 1)
    ]
    assert all(
        re.fullmatch(r"\[\d+/\d+\] PASS \S+ \[(ews|webdav)\] \d+\.\d s", x) for x in lines[:-1]
    )
    assert re.fullmatch(rf"{runs} passed, 0 failed in \d+\.\d s \(2 workers\)", lines[-1])
    assert f"PASS {tmp_path / 'lunch.yaml'} [webdav]" in done.stdout


def test_verbose_prints_every_runs_timeline_with_every_poll(tmp_path: Path) -> None:
    (tmp_path / "lunch.yaml").write_text(LUNCH, encoding="utf-8")
    done = harness("run", "-v", "--variant", "ews", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(
        rf"\[1/1\] PASS {re.escape(str(tmp_path))}/lunch.yaml \[ews\] .* s", lines[0]
    )
    assert lines[1] == "  Lunch sets presence, auto back to office"
    assert "\n  2026-01-05 12:00:10     100  office -> lunch until 2026-01-05 13:00:00" in (
        done.stdout
    )
    assert any(re.search(r"poll 101 \(user2@domain.net\): ok \(x\d+\)", x) for x in lines)


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
