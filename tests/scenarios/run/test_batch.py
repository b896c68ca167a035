"""Many runs in worker processes: file order, a worker that dies, stopping at a failure."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from datetime import datetime

from scenarios.format.loader import parse_scenario
from scenarios.run.batch import (
    Job,
    Reached,
    Running,
    run_batch,
    run_job,
    run_job_without_recording,
)
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult

# Four minutes of scenario time: a run takes a fraction of a second.
SHORT = """
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


def job(name: str, status: str = "lunch", variant: str = "ews") -> Job:
    text = SHORT.format(name=name, status=status)
    return Job(parse_scenario(text, f"{name}.yaml"), variant)


def dying_run(job: Job, env: Environment, progress: Reached) -> ScenarioResult:
    """A real run, except that a worker given a scenario named ``exit-*`` or
    ``kill-*`` dies in the middle of it, as a crashing worker would."""
    name = job.scenario.name
    if name.startswith("exit-"):
        os._exit(7)
    if name.startswith("kill-"):
        os.kill(os.getpid(), signal.SIGKILL)
    return run_job(job, env, progress)


def names(results: Sequence[ScenarioResult]) -> list[str]:
    return [r.scenario.name for r in results]


def test_two_workers_give_every_result_in_file_order() -> None:
    jobs = [job(f"run-{n}", variant="webdav" if n % 2 else "ews") for n in range(5)]
    shown: list[int] = []
    results = run_batch(jobs, workers=2, on_result=lambda index, _: shown.append(index))
    assert shown == [0, 1, 2, 3, 4]
    assert names(results) == [f"run-{n}" for n in range(5)]
    assert [r.variant for r in results] == ["ews", "webdav", "ews", "webdav", "ews"]
    assert all(r.passed for r in results), [r.error or r.failures for r in results]
    assert all(r.seconds > 0 for r in results)
    assert all(r.recording is not None for r in results)  # it crossed for the reports


def test_a_caller_that_only_prints_leaves_the_recording_behind() -> None:
    results = run_batch([job("a"), job("b")], workers=2, run=run_job_without_recording)
    assert [r.passed for r in results] == [True, True]
    assert [r.recording for r in results] == [None, None]


def test_a_worker_that_dies_gives_an_error_for_its_run_and_the_rest_go_on() -> None:
    jobs = [job("a"), job("exit-b"), job("c"), job("kill-d"), job("e")]
    results = run_batch(jobs, workers=2, run=dying_run)
    assert names(results) == ["a", "exit-b", "c", "kill-d", "e"]
    assert [r.passed for r in results] == [True, False, True, False, True]
    assert results[1].error == "the worker process running it exited with code 7"
    assert results[3].error == "the worker process running it was killed by SIGKILL"
    assert not results[1].failures  # the harness failed, not an expectation


def test_stop_at_failure_ends_at_the_first_failure_in_file_order() -> None:
    jobs = [job("a"), job("b", status="meeting"), job("c"), job("d", status="meeting"), job("e")]
    for workers in (1, 2):
        results = run_batch(jobs, workers=workers, stop_at_failure=True)
        assert names(results) == ["a", "b"], workers
        assert results[1].failures and results[0].passed


def test_stop_at_failure_counts_a_dead_worker_as_a_failure() -> None:
    jobs = [job("a"), job("kill-b"), job("c"), job("d")]
    results = run_batch(jobs, workers=2, stop_at_failure=True, run=dying_run)
    assert names(results) == ["a", "kill-b"]


def test_alive_hears_which_runs_go_on_and_the_scenario_time_reached() -> None:
    seen: list[tuple[str, datetime | None, int]] = []

    def alive(running: Sequence[Running], finished: int) -> None:
        seen.extend((r.job.scenario.name, r.reached, finished) for r in running)

    jobs = [job("a"), job("b")]
    run_batch(jobs, workers=1, on_alive=alive)
    reached = [at for name, at, _ in seen if name == "a" and at is not None]
    assert reached and reached == sorted(reached)
    assert jobs[0].scenario.start <= reached[0] and reached[-1] <= jobs[0].scenario.end
    assert {finished for name, _, finished in seen if name == "b"} == {1}


def test_a_process_with_threads_starts_fresh_workers_that_run_the_same() -> None:
    # With another thread alive a fork could copy a held lock: the workers are spawned.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        jobs = [job("a"), job("kill-b"), job("c", status="meeting")]
        results = run_batch(jobs, workers=2, run=dying_run)
    finally:
        stop.set()
        thread.join()
    assert names(results) == ["a", "kill-b", "c"]
    assert [r.passed for r in results] == [True, False, False]
    assert results[1].error == "the worker process running it was killed by SIGKILL"
