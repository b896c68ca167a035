"""The human-readable account of a scenario run that ``harness run`` prints.

Presence changes in order, with the calls, mail attempts and contact searches
among them by time, poll totals (and every poll that did not succeed), then each
failed expectation as ``FILE:LINE: message`` followed by the engine's decisions
that explain it (``why:`` lines). With ``explain=USER`` the per-poll decisions of
that user come after the totals. Times are local to the scenario's time zone, as
support staff wrote them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from integration.scheduler import PollEvent
from scenarios.explain.around import trace
from scenarios.explain.sentences import Clock, duration
from scenarios.run.runner import ScenarioResult, pbx_clock_for
from simulators.pbx import JournalEntry


def presence_change(entry: JournalEntry, local: Callable[[datetime], str]) -> str:
    """What a PBX journal entry changed, in words: ``office -> lunch until 13:00``, or
    ``return time moved to 13:15`` for the R7 15-minute extension."""
    if entry.cause == "extension":
        return f"return time moved to {local(entry.return_time)}"  # type: ignore[arg-type]
    change = f"{entry.old_status} -> {entry.new_status}"
    if entry.return_time is not None:
        change += f" until {local(entry.return_time)}"
    return change


def render(result: ScenarioResult, *, verbose: bool = False, explain: str | None = None) -> str:
    scenario = result.scenario
    zone = scenario.timezone
    verdict = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
    lines = [f"{verdict} {scenario.path} [{result.variant}]: {scenario.name}"]
    pbx = pbx_clock_for(scenario)
    clock = Clock(zone, pbx_true=None if pbx.is_true else pbx.true)
    if not pbx.is_true:
        offset = pbx.offset(scenario.start)
        way = "ahead of" if offset.total_seconds() > 0 else "behind"
        lines.append(
            f"  the PBX clock is {duration(abs(offset.total_seconds()))} {way} the scenario "
            f"clock at the start (pbx:): polls and decisions are stamped with the PBX clock, "
            "presence changes with the scenario clock"
        )
    if str(pbx.zone) != str(zone):
        lines.append(f"  the PBX is set to {pbx.zone}: it shows and speaks times in that zone")

    def local(instant: object) -> str:
        return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[attr-defined]

    # In the order things happened: by time, and within an instant activity before the
    # presence changes made after it (a call runs before the poll of its instant).
    events: list[tuple[datetime, int, int, str]] = []
    for index, entry in enumerate(result.journal):
        change = presence_change(entry, local)
        reason = f": {entry.reason}" if entry.reason else ""
        text = f"  {local(entry.at)}  {entry.user:>6}  {change}  [{entry.set_by}{reason}]"
        events.append((entry.at, index, 0, text))
    events.extend(
        (item.at, item.after, -1, f"  {local(item.at)}  {'':>6}  {item.text}")
        for item in result.activity
    )
    lines.extend(event[3] for event in sorted(events, key=lambda event: event[:3]))
    counts = Counter(event.outcome for event in result.polls)
    lines.append(
        f"  polls: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped"
    )
    # Polls that did not succeed; per user, a run of the same outcome is one line.
    runs: list[list[PollEvent]] = []
    open_runs: dict[str, list[PollEvent]] = {}
    for event in result.polls:
        current = open_runs.get(event.extension)
        if current and (current[-1].outcome, current[-1].detail) == (event.outcome, event.detail):
            current.append(event)
            continue
        open_runs[event.extension] = [event]
        if verbose or event.outcome != "ok":
            runs.append(open_runs[event.extension])
    runs.sort(key=lambda run: run[0].at)
    for run in runs:
        first, final = run[0], run[-1]
        when = local(first.at) if len(run) == 1 else f"{local(first.at)} .. {local(final.at)}"
        times = f" (x{len(run)})" if len(run) > 1 else ""
        lines.append(
            f"  {when}  poll {first.extension} ({first.mailbox}): "
            f"{first.outcome}{times} {first.detail}".rstrip()
        )
    if explain is not None:
        lines.append(f"  decisions for user {explain}, per poll:")
        lines.extend(trace(result.polls, explain, clock) or ["  (no polls of that user)"])
    for failure in result.failures:
        lines.append(f"  {scenario.path}:{failure.line}: {failure.message}")
        lines.extend(f"      why: {text}" for text in failure.explanation)
    if result.error:
        lines.append(f"  {scenario.path}: harness error: {result.error}")
    return "\n".join(lines)
