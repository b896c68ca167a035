"""``harness run`` on small files: progress lines, -q, -k, -x, -j and the exit codes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scenarios.commands.test_cli import harness

# Four minutes of scenario time each; ``{status}`` is what the expectation wants.
CASE = """
name: {name}
timezone: Europe/Berlin
start: "2026-01-05 11:58"
end: "2026-01-05 12:02"
users:
  - {{extension: "100", name: Anna, email: user1@domain.net}}
appointments:
  - {{mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "13:00"}}
steps:
  - at: "12:00:30"
    expect_presence: {{user: "100", status: {status}}}
"""
LINE = re.compile(r"\[(\d+)/(\d+)\] (PASS|FAIL|ERROR) (\S+) \[(ews|webdav)\] \d+\.\d s")


def write(folder: Path, stem: str, status: str = "lunch", name: str | None = None) -> Path:
    path = folder / f"{stem}.yaml"
    path.write_text(CASE.format(name=name or f"case {stem}", status=status), encoding="utf-8")
    return path


def progress(stdout: str) -> list[tuple[str, str, str, str]]:
    """(number/total, verdict, file name, variant) of each progress line."""
    found = [LINE.fullmatch(line) for line in stdout.splitlines()]
    return [(f"{m[1]}/{m[2]}", m[3], Path(m[4]).name, m[5]) for m in found if m]


def test_a_failed_run_shows_its_timeline_and_why_below_its_line(tmp_path: Path) -> None:
    write(tmp_path, "a")
    failing = write(tmp_path, "b", status="meeting", name="Lunch is no meeting")
    done = harness("run", "-j", "2", str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert progress(done.stdout) == [
        ("1/4", "PASS", "a.yaml", "ews"),
        ("2/4", "PASS", "a.yaml", "webdav"),
        ("3/4", "FAIL", "b.yaml", "ews"),
        ("4/4", "FAIL", "b.yaml", "webdav"),
    ]
    lines = done.stdout.splitlines()
    at = lines.index(next(x for x in lines if x.startswith("[3/4] FAIL")))
    assert lines[at + 1] == "  Lunch is no meeting"
    details = lines[at + 1 : lines.index(next(x for x in lines if x.startswith("[4/4]")))]
    assert f"  {failing}:11: expected user 100 meeting at 2026-01-05 12:00:30, got lunch" in (
        "\n".join(details)
    )
    assert any(x.startswith("      why: poll at 12:00:30: 'Lunch' is shown") for x in details)
    assert lines[1].startswith("[2/4] PASS")  # a passing run is one line
    assert re.fullmatch(r"2 passed, 2 failed in \d+\.\d s \(2 workers\)", lines[-1])


def test_quiet_prints_only_the_failures_and_the_summary(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", status="meeting")
    done = harness("run", "-q", "-j", "2", str(tmp_path))
    assert done.returncode == 1
    assert [p[:2] for p in progress(done.stdout)] == [("3/4", "FAIL"), ("4/4", "FAIL")]
    assert "PASS" not in done.stdout
    assert done.stdout.splitlines()[-1].startswith("2 passed, 2 failed in ")


def test_k_selects_by_path_or_name_with_and_or_not(tmp_path: Path) -> None:
    write(tmp_path, "lunch-a")
    write(tmp_path, "lunch-b", name="Overlapping lunch")
    write(tmp_path, "other", status="meeting", name="Something else")
    done = harness("run", "-j", "1", "-k", "(a or overlapping) and not else", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr  # the failing file is left out
    assert [p[2:] for p in progress(done.stdout)] == [
        ("lunch-a.yaml", "ews"),
        ("lunch-a.yaml", "webdav"),
        ("lunch-b.yaml", "ews"),
        ("lunch-b.yaml", "webdav"),
    ]
    assert re.fullmatch(
        r"4 passed, 0 failed, 2 deselected in \d+\.\d s \(in-process\)",
        done.stdout.splitlines()[-1],
    )


def test_k_that_selects_nothing_or_does_not_parse_exits_2_running_nothing(
    tmp_path: Path,
) -> None:
    write(tmp_path, "a")
    none = harness("run", "-k", "vacation", str(tmp_path))
    assert none.returncode == 2
    assert "harness run: -k 'vacation' selects none of the runs" in none.stderr
    broken = harness("run", "-k", "a and", str(tmp_path))
    assert broken.returncode == 2
    assert "-k: 'a and' ends where a word was expected" in broken.stderr
    assert none.stdout == broken.stdout == ""


def test_x_stops_at_the_first_failure_the_same_with_one_worker_or_two(tmp_path: Path) -> None:
    for stem, status in (("a", "lunch"), ("b", "meeting"), ("c", "lunch"), ("d", "meeting")):
        write(tmp_path, stem, status=status)
    seen = []
    for workers in ("1", "2"):
        done = harness("run", "-x", "-j", workers, "--variant", "ews", str(tmp_path))
        assert done.returncode == 1, done.stdout + done.stderr
        seen.append(progress(done.stdout))
        assert done.stdout.splitlines()[-1].startswith("1 passed, 1 failed, 2 not run in ")
    assert (
        seen[0] == seen[1] == [("1/4", "PASS", "a.yaml", "ews"), ("2/4", "FAIL", "b.yaml", "ews")]
    )


def test_an_invalid_file_runs_nothing_whatever_the_options(tmp_path: Path) -> None:
    write(tmp_path, "a")
    bad = write(tmp_path, "b", status="luch")
    done = harness("run", "-j", "2", "-x", "-k", "a", str(tmp_path))  # -k would skip b
    assert done.returncode == 2
    assert f"{bad}:12:" in done.stderr and "luch" in done.stderr
    assert done.stdout == ""


def test_bad_j_is_refused_by_the_parser(tmp_path: Path) -> None:
    done = harness("run", "-j", "0", str(write(tmp_path, "a")))
    assert done.returncode == 2
    assert "'0' is not a number of workers" in done.stderr


def children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue  # it ended meanwhile
        if f"\nPPid:\t{pid}\n" in text:
            found.add(int(status.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_ctrl_c_ends_the_workers_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "a")
    # b: two days of polls every 10 s, long enough to be interrupted in the middle.
    long = CASE.format(name="long", status="lunch").replace(
        'end: "2026-01-05 12:02"', 'end: "2026-01-07 12:02"'
    )
    (tmp_path / "b.yaml").write_text(
        long.replace("users:", "engine: {poll_interval: 10s}\nusers:"), encoding="utf-8"
    )
    command = [sys.executable, "-m", "scenarios.commands.cli", "run", "-j", "2", str(tmp_path)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert run.stdout is not None and run.stderr is not None
        first = run.stdout.readline()  # a's first run is done: b runs in a worker now
        assert first.startswith("[1/4] PASS"), first
        workers = children(run.pid)
        assert len(workers) == 2
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=30) == 2
        assert "harness run: interrupted after" in run.stderr.read()
    finally:
        if run.poll() is None:  # a failed assertion: do not wait out two days of polls
            run.kill()
            run.wait()
        run.stdout.close()  # type: ignore[union-attr]
        run.stderr.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}/status").exists() for pid in workers)


def test_run_in_process_gives_the_log_levels_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from scenarios.commands.cli import main

    root = logging.getLogger()
    before = root.level
    assert main(["run", "-j", "1", "-q", str(write(tmp_path, "ok"))]) == 0
    assert "2 passed" in capsys.readouterr().out  # ews and webdav
    # Quiet while it ran (the engine's error lines under faults), not afterwards.
    assert root.level == before
