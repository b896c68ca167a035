"""Running many scenario runs, in worker processes or in this one, results in file order.

``run_batch`` takes the runs (a scenario and a variant each) in the order the files
were given and hands every result to ``on_result`` in that order, whatever
finishes first. With ``workers`` > 1 each worker is a process of its own with its
own simulators (``Environment``); it takes one run at a time, so when a worker
dies (a crash, the kernel's OOM killer) exactly that run gets an ERROR result and
a fresh worker takes the rest. With ``stop_at_failure`` (``-x``) the batch ends at
the first failed run in file order: earlier runs still finish, later ones are
dropped, so the output is the same with one worker or many.

``on_alive`` is called often (every instant a run reaches in-process, a few times
a second otherwise) with what is running and the scenario time it has reached;
the caller throttles what it shows.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scenarios.format.model import Scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, run_scenario

POLL_SECONDS = 0.25  # how often the parent looks up from waiting, to show it is alive


def real_clock() -> float:
    """Seconds of a monotonic clock that freezegun leaves alone: in-process runs call
    back from inside the frozen scenario clock, where ``time.monotonic`` stands still."""
    if hasattr(time, "clock_gettime"):
        return time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic()  # pragma: no cover - every POSIX system has clock_gettime


@dataclass(frozen=True)
class Job:
    """One run: a scenario with the variant the engine uses."""

    scenario: Scenario
    variant: str


@dataclass
class Running:
    """A run in progress: since when (``real_clock``) and the scenario instant reached."""

    job: Job
    started: float
    reached: datetime | None = None


Reached = Callable[[datetime], object]  # told each scenario instant a run reaches
RunJob = Callable[[Job, Environment, Reached], ScenarioResult]
OnResult = Callable[[int, ScenarioResult], object]
OnAlive = Callable[[Sequence[Running], int], object]  # running, how many have finished


def run_job(job: Job, env: Environment, progress: Reached) -> ScenarioResult:
    return run_scenario(job.scenario, job.variant, env, progress=progress)


def run_job_without_recording(job: Job, env: Environment, progress: Reached) -> ScenarioResult:
    """``run_job`` for a caller that only prints: the report's ``recording`` (the
    bulk of a result: the request journal, the timeline) stays in the worker."""
    result = run_job(job, env, progress)
    result.recording = None
    return result


def harness_error(job: Job, message: str, seconds: float = 0.0) -> ScenarioResult:
    return ScenarioResult(job.scenario, job.variant, error=message, seconds=seconds)


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - Linux has sched_getaffinity


def run_batch(
    jobs: Sequence[Job],
    *,
    workers: int = 1,
    stop_at_failure: bool = False,
    on_result: OnResult | None = None,
    on_alive: OnAlive | None = None,
    run: RunJob = run_job,
) -> list[ScenarioResult]:
    """Every job's result, in the order of ``jobs`` (up to the first failure with
    ``stop_at_failure``). ``run`` runs one job in a worker (a module-level function,
    so that a worker process can be given it)."""
    if workers <= 1 or len(jobs) <= 1:
        return _in_process(jobs, stop_at_failure, on_result, on_alive, run)
    return _Pool(jobs, min(workers, len(jobs)), stop_at_failure, on_result, on_alive, run).run()


def _in_process(
    jobs: Sequence[Job],
    stop_at_failure: bool,
    on_result: OnResult | None,
    on_alive: OnAlive | None,
    run: RunJob,
) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    with Environment() as env:
        for index, job in enumerate(jobs):
            running = Running(job, real_clock())

            def reached(instant: datetime, running: Running = running, done: int = index) -> None:
                running.reached = instant
                if on_alive is not None:
                    on_alive([running], done)

            try:
                result = run(job, env, reached)
            except Exception as exc:  # run_scenario keeps its own; a broken hook is ours
                result = harness_error(job, f"{type(exc).__name__}: {exc}")
            results.append(result)
            if on_result is not None:
                on_result(index, result)
            if stop_at_failure and not result.passed:
                break
    return results


# ------------------------------------------------------------------- workers
def _serve(
    conn: multiprocessing.connection.Connection, reached: Any, run: RunJob, inherited: list[int]
) -> None:
    """A worker process: take a run, run it, send the result back, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The engine's error lines under a scenario's faults are expected; what went wrong
    # is in each result (its timeline), printed in file order by the parent.
    logging.getLogger().setLevel(logging.CRITICAL)
    for descriptor in inherited:  # a forked worker holds the parent's ends to the others
        with contextlib.suppress(OSError):
            os.close(descriptor)

    def progress(instant: datetime) -> None:
        reached.value = instant.timestamp()  # shared memory: the parent reads it at will

    env: Environment | None = None
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return  # the parent is gone
            if message is None:
                return
            index, job = message
            began = real_clock()
            try:
                if env is None:
                    env = Environment()
                result = run(job, env, progress)
            except Exception as exc:
                result = harness_error(job, f"{type(exc).__name__}: {exc}", real_clock() - began)
            try:
                conn.send((index, result))
            except Exception as exc:  # pickling happens before anything is written
                conn.send((index, harness_error(job, f"its result could not be sent back: {exc}")))
    finally:
        if env is not None:
            env.close()


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    reached: Any  # a shared double: the instant reached, as a POSIX timestamp (0: none yet)
    index: int | None = None  # the job it runs
    running: Running | None = None


def _died(process: multiprocessing.process.BaseProcess) -> str:
    process.join(timeout=1)
    code = process.exitcode
    if code is None:
        how = "stopped answering"
    elif code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return f"the worker process running it {how}"


class _Pool:
    """Workers, one job each at a time; results kept until their turn in file order."""

    def __init__(
        self,
        jobs: Sequence[Job],
        size: int,
        stop_at_failure: bool,
        on_result: OnResult | None,
        on_alive: OnAlive | None,
        run: RunJob,
    ) -> None:
        self.jobs = jobs
        self.size = size
        self.stop_at_failure = stop_at_failure
        self.on_result = on_result
        self.on_alive = on_alive
        self.run_job = run
        # fork: a worker starts at once with everything imported; but only from a
        # process without threads (harness run's), as a thread may hold a lock at the
        # fork that the child then waits for forever. Else (a test process with its
        # simulators running) spawn: a fresh interpreter that imports what it needs.
        self.forking = (
            "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
        )
        self.context: Any = multiprocessing.get_context("fork" if self.forking else "spawn")
        self.pending: deque[int] = deque(range(len(jobs)))
        self.done: dict[int, ScenarioResult] = {}
        self.shown = 0  # results handed to on_result
        self.first_failure: int | None = None
        self.workers: list[_Worker] = []

    def run(self) -> list[ScenarioResult]:
        try:
            for _ in range(self.size):
                self.give(self.start())
            while any(w.index is not None for w in self.workers):
                self.wait()
                self.show()
            self.stop_all()
        finally:
            for worker in self.workers:
                if worker.process.is_alive():
                    worker.process.terminate()
                worker.process.join(timeout=5)
                worker.conn.close()
        last = len(self.jobs) if self.first_failure is None else self.first_failure + 1
        return [self.done[index] for index in range(last)]

    # ---------------------------------------------------------------- workers
    def start(self) -> _Worker:
        ours, theirs = self.context.Pipe()
        reached = self.context.Value("d", 0.0, lock=False)
        # Forked, it would keep the others' pipes open (and never see their EOF).
        inherited = [w.conn.fileno() for w in self.workers] if self.forking else []
        process = self.context.Process(
            target=_serve, args=(theirs, reached, self.run_job, inherited), daemon=True
        )
        process.start()
        theirs.close()
        worker = _Worker(process, ours, reached)
        self.workers.append(worker)
        return worker

    def retire(self, worker: _Worker) -> None:
        worker.index = worker.running = None
        with contextlib.suppress(OSError):
            worker.conn.send(None)

    def give(self, worker: _Worker) -> None:
        """The next job in file order, or the end when none is left (or -x has struck)."""
        if not self.pending or self.first_failure is not None:
            self.retire(worker)
            return
        index = self.pending.popleft()
        worker.reached.value = 0.0
        worker.index = index
        worker.running = Running(self.jobs[index], real_clock())
        try:
            worker.conn.send((index, self.jobs[index]))
        except OSError:  # it died between two jobs
            self.record(index, harness_error(self.jobs[index], _died(worker.process)))
            self.replace(worker)
        except Exception as exc:  # the job itself does not pickle
            self.record(index, harness_error(self.jobs[index], f"could not be sent: {exc}"))
            self.give(worker)

    def replace(self, dead: _Worker) -> None:
        dead.index = dead.running = None
        dead.conn.close()
        self.workers.remove(dead)
        dead.process.join(timeout=1)
        if self.pending and self.first_failure is None:
            self.give(self.start())

    def busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.index is not None]

    def wait(self) -> None:
        busy = self.busy()
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(multiprocessing.connection.wait(handles, timeout=POLL_SECONDS))
        for worker in busy:
            if worker.index is None:  # a later run that -x dropped meanwhile
                continue
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            assert worker.index is not None and worker.running is not None
            index, running = worker.index, worker.running
            result: ScenarioResult | None = None
            try:
                if worker.conn.poll():
                    _, result = worker.conn.recv()
            except (EOFError, OSError):  # its end closed: it died
                result = None
            if result is not None:
                self.record(index, result)
                self.give(worker)
            elif not worker.process.is_alive():
                seconds = real_clock() - running.started
                self.record(index, harness_error(running.job, _died(worker.process), seconds))
                self.replace(worker)
        if self.on_alive is not None:
            self.on_alive(self.snapshot(), self.shown)

    def snapshot(self) -> list[Running]:
        running = []
        for worker in self.busy():
            assert worker.running is not None
            stamp = worker.reached.value
            worker.running.reached = datetime.fromtimestamp(stamp, UTC) if stamp else None
            running.append(worker.running)
        return sorted(running, key=lambda r: r.started)

    # ---------------------------------------------------------------- results
    def record(self, index: int, result: ScenarioResult) -> None:
        self.done[index] = result
        if self.stop_at_failure and not result.passed:
            if self.first_failure is None or index < self.first_failure:
                self.first_failure = index
            for worker in self.busy():  # runs after the failure are not wanted
                if worker.index is not None and worker.index > index:
                    worker.process.terminate()
                    worker.process.join(timeout=5)
                    worker.index = worker.running = None

    def show(self) -> None:
        """Hand on the results whose turn has come (file order)."""
        while self.shown in self.done and (
            self.first_failure is None or self.shown <= self.first_failure
        ):
            if self.on_result is not None:
                self.on_result(self.shown, self.done[self.shown])
            self.shown += 1

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(timeout=5)


__all__ = [
    "Job",
    "Running",
    "default_workers",
    "harness_error",
    "real_clock",
    "run_batch",
    "run_job",
    "run_job_without_recording",
]
