"""The report of ``harness run --report FILE.html``: one self-contained page.

At the top a summary (runs, passed, failed, harness errors) and an index of every
run, failing ones first. Then one block per scenario file and variant, failing
ones first and open, passing ones folded: its failed expectations with their
explanation (``why:``), its timeline (the SVG of ``scenarios.outputs.svg``, the
one the live view draws), and below it, filterable by words and by user, the
engine's decisions (each change of an appointment's verdict; the ones a failure's
explanation names highlighted), presence changes and activity, and the request journal.

Nothing is fetched: the style sheet and the filter script
(``scenarios/outputs/static/``) and the SVGs are inlined; no external fonts or
images. Times are local to each scenario's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from importlib import resources

from scenarios.outputs.svg import render as render_svg
from scenarios.outputs.timeline import presence_change
from scenarios.run.recording import DecisionRow, Recording, RequestRow
from scenarios.run.runner import Failure, ScenarioResult


def _asset(name: str) -> str:
    return resources.files("scenarios.outputs").joinpath("static", name).read_text("utf-8")


def verdict(result: ScenarioResult) -> str:
    """``pass``, ``fail`` (an expectation) or ``error`` (the harness failed)."""
    if result.error:
        return "error"
    return "fail" if result.failures else "pass"


def failing_first(results: Sequence[ScenarioResult]) -> list[tuple[int, ScenarioResult]]:
    """(position in file order, result): errors and failures first, each group in file order."""
    rank = {"error": 0, "fail": 1, "pass": 2}
    return sorted(enumerate(results), key=lambda pair: (rank[verdict(pair[1])], pair[0]))


def render(results: Sequence[ScenarioResult], *, title: str = "harness run") -> str:
    """The whole page as a string."""
    counts = {v: sum(1 for r in results if verdict(r) == v) for v in ("pass", "fail", "error")}
    ordered = failing_first(results)
    bad = counts["fail"] + counts["error"]
    heading = f"{title}: {bad} of {len(results)} failed" if bad else f"{title}: all passed"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)}</title>",
        f"<style>{_asset('report.css')}</style></head><body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        _summary(counts, len(results)),
        _index(ordered),
        "</header><main>",
    ]
    alone = len(ordered) == 1  # a report of one run shows it, passed or not
    parts.extend(_run(position, result, alone) for position, result in ordered)
    parts.append("</main>")
    parts.append(f"<script>{_asset('report.js')}</script></body></html>")
    return "\n".join(parts)


def _summary(counts: dict[str, int], total: int) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    bad = counts["fail"] + counts["error"]
    cls = "bad" if bad else "good"
    text = (
        f'<p class="summary" id="summary"><span class="{cls}">'
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} harness errors"
        f'</span> <span class="muted">of {total} run{"" if total == 1 else "s"} '
        "(scenario file and variant); "
        f"written {generated}</span></p>"
    )
    if bad:
        text += (
            '<p class="toolbar"><label><input type="checkbox" id="failing-only"> '
            "show failing runs only</label></p>"
        )
    return text


def _index(ordered: Iterable[tuple[int, ScenarioResult]]) -> str:
    rows = []
    for position, result in ordered:
        v = verdict(result)
        first = ""
        if result.error:
            first = f"harness error: {result.error}"
        elif result.failures:
            f = result.failures[0]
            more = f" (+{len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
            first = f"{result.scenario.path}:{f.line}: {f.message}{more}"
        rows.append(
            f'<tr class="{v}"><td class="verdict {v}">{v.upper()}</td>'
            f'<td><a href="#run-{position}">{escape(_label(result))}</a></td>'
            f"<td>{escape(result.scenario.name)}</td>"
            f'<td class="message">{escape(first)}</td></tr>'
        )
    return (
        '<details class="table" open><summary>Runs</summary><div class="scroll">'
        '<table class="grid index" id="index"><thead><tr><th>result</th><th>file [variant]</th>'
        "<th>scenario</th><th>first failure</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></details>"
    )


def _label(result: ScenarioResult) -> str:
    return f"{result.scenario.path} [{result.variant}]"


class _Times:
    """Instants written in the scenario's zone, with the date when the run spans days."""

    def __init__(self, result: ScenarioResult) -> None:
        scenario = result.scenario
        self.zone = scenario.timezone
        first = scenario.start.astimezone(self.zone).date()
        last = scenario.end.astimezone(self.zone).date()
        self.fmt = "%H:%M:%S" if first == last else "%Y-%m-%d %H:%M:%S"

    def __call__(self, instant: datetime | None) -> str:
        if instant is None:
            return ""
        return instant.astimezone(self.zone).strftime(self.fmt)


def _run(position: int, result: ScenarioResult, alone: bool = False) -> str:
    v = verdict(result)
    scenario = result.scenario
    local = _Times(result)
    span = scenario.end - scenario.start
    head = (
        f'<span class="verdict {v}">{v.upper()}</span> {escape(_label(result))} '
        f'<span class="muted">{escape(scenario.name)} · {local(scenario.start)} to '
        f"{local(scenario.end)} {escape(str(scenario.timezone))} ({_hours(span)} simulated, "
        f"{result.seconds:.1f} s)</span>"
    )
    body = [_failures(result)]
    if result.error:
        body.append(f'<p class="harness-error">harness error: {escape(result.error)}</p>')
    recording = result.recording
    if recording is not None:
        body.append(f'<div class="timeline">{render_svg(recording.timeline)}</div>')
        users = [lane.user for lane in recording.timeline.lanes]
        body.append(_decisions(recording.decisions, result.failures, users, local, v != "pass"))
        body.append(_presence(result, users, local))
        body.append(_requests(recording, users, local))
    else:
        body.append('<p class="muted">no recording of this run</p>')
    opened = " open" if v != "pass" or alone else ""
    return (
        f'<details class="run {v}" id="run-{position}" data-verdict="{v}"{opened}>'
        f'<summary>{head}</summary><div class="body">' + "".join(body) + "</div></details>"
    )


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d} h"


def _failures(result: ScenarioResult) -> str:
    if not result.failures:
        return ""
    items = []
    for failure in result.failures:
        why = "".join(f"<li>{escape(text)}</li>" for text in failure.explanation)
        items.append(
            f'<li class="failure" data-user="{escape(failure.user or "")}">'
            f'<span class="where">{escape(str(result.scenario.path))}:{failure.line}:</span> '
            f'<span class="message">{escape(failure.message)}</span>'
            + (f'<ul class="why">{why}</ul>' if why else "")
            + "</li>"
        )
    return '<ol class="failures">' + "".join(items) + "</ol>"


def _near(row: DecisionRow, failures: Sequence[Failure]) -> bool:
    """The decision is one a failure of its user names in its explanation."""
    for failure in failures:
        if failure.user != row.user or failure.at is None or row.at > failure.at:
            continue
        if any(row.sentence in line for line in failure.explanation):
            return True
    return False


def _filterable(
    kind: str, title: str, head: Sequence[str], rows: list[str], users: Sequence[str], opened: bool
) -> str:
    options = "".join(f'<option value="{escape(u)}">user {escape(u)}</option>' for u in users)
    return (
        f'<details class="table {kind}"{" open" if opened else ""}>'
        f"<summary>{escape(title)} ({len(rows)})</summary>"
        f'<div class="filterable" data-table="{kind}"><div class="filters">'
        f'<input type="search" placeholder="filter: words to match" aria-label="filter {kind}">'
        f'<select aria-label="user"><option value="">every user</option>{options}</select>'
        f'<span class="count">{len(rows)} of {len(rows)} rows</span></div>'
        f'<div class="scroll"><table class="grid"><thead><tr>'
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></div></details>"
    )


def _decisions(
    decisions: Sequence[DecisionRow],
    failures: Sequence[Failure],
    users: Sequence[str],
    local: _Times,
    opened: bool,
) -> str:
    rows = []
    for d in decisions:
        when = local(d.at)
        if d.until is not None:
            when += f" .. {local(d.until)} (x{d.repeats + 1})"
        pbx = f" (PBX {local(d.pbx_at)})" if d.pbx_at != d.at else ""
        near = ' class="near"' if _near(d, failures) else ""
        rows.append(
            f'<tr data-user="{escape(d.user)}"{near}><td class="time">{escape(when + pbx)}</td>'
            f"<td>{escape(d.user)}</td><td>{escape(d.subject)}</td>"
            f"<td>{escape(d.verdict.replace('_', ' '))}</td><td>{escape(d.rule)}</td>"
            f"<td>{escape(d.sentence)}</td></tr>"
        )
    return _filterable(
        "decisions",
        "Decisions (each change of an appointment's verdict, per poll)",
        ("poll", "user", "appointment", "verdict", "rule", "why"),
        rows,
        users,
        opened,
    )


def _presence(result: ScenarioResult, users: Sequence[str], local: _Times) -> str:
    events: list[tuple[datetime, int, int, str]] = []
    for index, entry in enumerate(result.journal):
        change = presence_change(entry, local)
        by = entry.set_by + (f": {entry.reason}" if entry.reason else "")
        events.append(
            (
                entry.at,
                index,
                0,
                f'<tr data-user="{escape(entry.user)}"><td class="time">{local(entry.at)}</td>'
                f"<td>{escape(entry.user)}</td><td>{escape(change)}</td>"
                f"<td>{escape(by)}</td></tr>",
            )
        )
    for item in result.activity:
        events.append(
            (
                item.at,
                item.after,
                -1,
                f'<tr data-user=""><td class="time">{local(item.at)}</td><td></td>'
                f"<td>{escape(item.text)}</td><td></td></tr>",
            )
        )
    rows = [event[3] for event in sorted(events, key=lambda event: event[:3])]
    return _filterable(
        "presence",
        "Presence changes and activity",
        ("at", "user", "what", "set by"),
        rows,
        users,
        False,
    )


def _requests(recording: Recording, users: Sequence[str], local: _Times) -> str:
    by_mailbox = {
        lane.mailbox: lane.user for lane in recording.timeline.lanes if lane.mailbox is not None
    }
    rows = [_request(r, by_mailbox, local) for r in recording.requests]
    return _filterable(
        "requests",
        "Request journal",
        ("at", "service", "request", "status", "mailbox", "account", "fault"),
        rows,
        users,
        False,
    )


def _request(r: RequestRow, by_mailbox: dict[str, str], local: _Times) -> str:
    user = by_mailbox.get(r.mailbox or "", "")
    bad = ' class="bad"' if r.status >= 400 or r.status == 0 or r.fault else ""
    return (
        f'<tr data-user="{escape(user)}"><td class="time">{local(r.at)}</td>'
        f"<td>{escape(r.service)}</td><td>{escape(r.summary)}</td>"
        f"<td{bad}>{r.status}</td><td>{escape(r.mailbox or '')}</td>"
        f"<td>{escape(r.account or '')}</td><td>{escape(r.fault or '')}</td></tr>"
    )


def write(path: str, results: Sequence[ScenarioResult]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(render(results))


__all__ = ["failing_first", "render", "verdict", "write"]
