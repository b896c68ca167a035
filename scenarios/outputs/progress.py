"""What ``harness run`` prints while it goes: a line per run, signs of life, the summary.

A line per run in file order, ``[12/176] PASS path/to/file.yaml [ews] 0.8 s``, and for
a failed run (and for every run with ``-v`` or ``--explain``) the timeline of
``scenarios.outputs.timeline`` below it. ``-q`` keeps only the failed runs and the
summary. While runs go on, a terminal gets one status line on stderr, rewritten in
place (which runs, the scenario time each has reached); a log (no terminal) gets
such a line when nothing was printed for ``QUIET_SECONDS``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from scenarios.outputs.timeline import render
from scenarios.run.batch import Running, real_clock
from scenarios.run.runner import ScenarioResult

STATUS_AFTER = 1.0  # a terminal's status line, once a run has gone on this long
STATUS_EVERY = 0.2  # and at most this often
QUIET_SECONDS = 10.0  # a log gets a line of life after this long without one
CLEAR = "\r\x1b[K"


def verdict(result: ScenarioResult) -> str:
    return "PASS" if result.passed else ("ERROR" if result.error else "FAIL")


def progress_line(number: int, total: int, result: ScenarioResult) -> str:
    """``[12/176] PASS path/to/file.yaml [ews] 0.8 s``."""
    return (
        f"[{number}/{total}] {verdict(result)} {result.scenario.path} [{result.variant}] "
        f"{result.seconds:.1f} s"
    )


def details(result: ScenarioResult, *, verbose: bool, explain: str | None) -> list[str]:
    """The scenario's name and its timeline (the progress line says the verdict)."""
    timeline = render(result, verbose=verbose, explain=explain).split("\n")[1:]
    return [f"  {result.scenario.name}", *timeline]


def summary(
    results: Sequence[ScenarioResult],
    *,
    selected: int,
    deselected: int,
    seconds: float,
    workers: int,
) -> str:
    """``174 passed, 1 failed, 1 error in 41.2 s (2 workers)``; runs that -x left out
    are ``not run``, those -k left out ``deselected``."""
    passed = sum(1 for r in results if r.passed)
    errors = sum(1 for r in results if r.error)
    parts = [f"{passed} passed", f"{len(results) - passed - errors} failed"]
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if deselected:
        parts.append(f"{deselected} deselected")
    if selected > len(results):
        parts.append(f"{selected - len(results)} not run")
    way = f"{workers} workers" if workers > 1 else "in-process"
    return f"{', '.join(parts)} in {seconds:.1f} s ({way})"


@dataclass
class Progress:
    """The printer of one ``harness run``: give it results in file order, and the
    runs in progress as often as you like (``alive``)."""

    total: int
    out: TextIO
    err: TextIO
    verbose: bool = False
    quiet: bool = False
    explain: str | None = None
    began: float = field(default_factory=real_clock)
    last_line: float = field(default_factory=real_clock)  # anything printed, for a log
    last_status: float = 0.0
    status_shown: bool = False
    terminal: bool = field(init=False)

    def __post_init__(self) -> None:
        self.terminal = self.err.isatty()  # asked once: alive() is called very often

    def result(self, index: int, result: ScenarioResult) -> None:
        lines = []
        if not (self.quiet and result.passed):
            lines.append(progress_line(index + 1, self.total, result))
        if not result.passed or (not self.quiet and (self.verbose or self.explain)):
            lines.extend(details(result, verbose=self.verbose, explain=self.explain))
        if lines:
            self.print("\n".join(lines))

    def print(self, text: str) -> None:
        self.clear_status()
        print(text, file=self.out, flush=True)
        self.last_line = real_clock()

    def alive(self, running: Sequence[Running], finished: int) -> None:
        """Show that the run goes on: a status line on a terminal, else now and then a line."""
        now = real_clock()
        if not running:
            return
        if self.terminal:
            if now - running[0].started < STATUS_AFTER or now - self.last_status < STATUS_EVERY:
                return
            width = shutil.get_terminal_size((100, 24)).columns - 1
            line = self.status_text(running, finished, now)[:width]
            self.err.write(CLEAR + line)
            self.err.flush()
            self.status_shown = True
            self.last_status = now
        elif not self.quiet and now - self.last_line >= QUIET_SECONDS:
            self.print(f"... {self.status_text(running, finished, now)}")

    def status_text(self, running: Sequence[Running], finished: int, now: float) -> str:
        parts = []
        for run in running:
            scenario = run.job.scenario
            where = f"{scenario.path} [{run.job.variant}]"
            if run.reached is not None:
                local = run.reached.astimezone(scenario.timezone)
                where += f" at {local:%Y-%m-%d %H:%M}"
            parts.append(where)
        return f"{finished}/{self.total} done, {now - self.began:.0f} s; running " + "; ".join(
            parts
        )

    def clear_status(self) -> None:
        if self.status_shown:
            self.err.write(CLEAR)
            self.err.flush()
            self.status_shown = False

    def seconds(self) -> float:
        return real_clock() - self.began


__all__ = ["Progress", "details", "progress_line", "summary", "verdict"]
