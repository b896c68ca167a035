"""``harness run``: load the files, select the runs, run them, print, give the exit code.

Exit codes (the contract): 0 every expectation held; 1 an expectation failed; 2 a
file was invalid (nothing ran), ``-k`` selected nothing or does not parse, the run
was interrupted (Ctrl-C), or the harness itself failed (a run's ERROR, a worker
process that died).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from integration.quiet import quieter
from scenarios.format.loader import load_paths
from scenarios.outputs.progress import Progress, summary
from scenarios.outputs.write import write_outputs
from scenarios.run.batch import Job, default_workers, run_batch, run_job, run_job_without_recording
from scenarios.run.runner import ScenarioResult, variants_for
from scenarios.run.selection import SelectionError, parse_selection

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


@dataclass(frozen=True)
class RunOptions:
    paths: Sequence[str]
    variant: str | None = None
    verbose: bool = False
    quiet: bool = False
    explain: str | None = None
    keyword: str | None = None  # -k
    exit_first: bool = False  # -x
    jobs: int | None = None  # -j; None: one worker per core
    outputs: Mapping[str, str | None] = field(default_factory=dict)  # --report/--junit/--json


def exit_code(results: Sequence[ScenarioResult]) -> int:
    if any(r.error for r in results):
        return EXIT_INVALID
    if any(not r.passed for r in results):
        return EXIT_FAILED
    return EXIT_OK


def run_command(options: RunOptions) -> int:
    scenarios = load_paths(list(options.paths))  # raises ScenarioError: nothing runs
    every = [Job(s, v) for s in scenarios for v in variants_for(s, options.variant)]
    jobs = every
    if options.keyword is not None:
        try:
            selection = parse_selection(options.keyword)
        except SelectionError as exc:
            print(f"harness run: -k: {exc}", file=sys.stderr)
            return EXIT_INVALID
        jobs = [j for j in every if selection.keeps(str(j.scenario.path), j.scenario.name)]
        if not jobs:
            print(f"harness run: -k {options.keyword!r} selects none of the runs", file=sys.stderr)
            return EXIT_INVALID
    workers = min(options.jobs or default_workers(), len(jobs)) or 1
    progress = Progress(
        len(jobs),
        sys.stdout,
        sys.stderr,
        verbose=options.verbose,
        quiet=options.quiet,
        explain=options.explain,
    )
    try:
        # The timeline says what matters: the engine's error lines under a scenario's
        # faults are expected and would interleave with the progress lines. Restored
        # afterwards: the command may run inside a longer-lived process (a test).
        with quieter("", level=logging.CRITICAL):
            results = run_batch(
                jobs,
                workers=workers,
                stop_at_failure=options.exit_first,
                on_result=progress.result,
                on_alive=progress.alive,
                # Without a report asked for, nothing reads the recording: it stays behind.
                run=run_job if any(options.outputs.values()) else run_job_without_recording,
            )
    except KeyboardInterrupt:  # the workers are ended; not every expectation was checked
        progress.clear_status()
        print(f"harness run: interrupted after {progress.seconds():.1f} s", file=sys.stderr)
        return EXIT_INVALID
    # Every run's result, in file order: what reports are written from.
    progress.print(
        summary(
            results,
            selected=len(jobs),
            deselected=len(every) - len(jobs),
            seconds=progress.seconds(),
            workers=workers,
        )
    )
    return max(exit_code(results), write_outputs(results, **options.outputs))


__all__ = ["RunOptions", "exit_code", "run_command"]
