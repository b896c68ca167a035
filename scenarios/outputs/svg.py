"""Draw a ``scenarios.outputs.lanes.Timeline`` as one self-contained SVG.

No scripts, no external fonts or images, no ids (several timelines may share
one HTML page): a time axis in local time on top, one lane per user (its
appointments' versions, its presence, its poll ticks, calls, mails and failed
expectations), fault windows across every lane, a "now" line, and a legend.
Every element a person may ask about has a ``<title>`` tooltip; every text is
escaped (and characters XML cannot carry are replaced).

Cheap for hours of 30 s polls: a run of plain ``ok`` ticks is one path with one
tooltip; only ticks that failed, were skipped or carry decisions are drawn one
by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from scenarios.outputs.lanes import (
    AppointmentTrack,
    AppointmentVersion,
    Decision,
    Lane,
    Mark,
    PollTick,
    PresenceSegment,
    Timeline,
)
from scenarios.outputs.svgstyle import STATUS_COLOURS, STYLE, UNKNOWN_STATUS, esc, fit, num
from scenarios.outputs.svgstyle import legend as draw_legend

# Labels of failed expectations: at most this wide (the tooltip has the whole text),
# in at most this many rows when marks are close together.
FAIL_LABEL_MAX = 560
FAIL_LABEL_ROWS = 3
# Axis steps in seconds: the smallest that leaves room for each label.
AXIS_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class Layout:
    """Sizes in pixels."""

    width: int = 1200
    label_width: int = 170
    right: int = 16
    axis_height: int = 34
    appt_row: int = 15
    presence_row: int = 20
    event_row: int = 18
    lane_gap: int = 12
    max_appt_rows: int = 8
    legend_row: int = 18


class _Canvas:
    """Maps instants to x and collects SVG fragments."""

    def __init__(self, timeline: Timeline, layout: Layout) -> None:
        self.t = timeline
        self.layout = layout
        self.zone: tzinfo = _zone(timeline.timezone)
        self.x0 = layout.label_width
        self.x1 = layout.width - layout.right
        span = (timeline.end - timeline.start).total_seconds()
        self.span = span if span > 0 else 1.0
        self.parts: list[str] = []

    def x(self, at: datetime) -> float:
        offset = (at - self.t.start).total_seconds()
        return self.x0 + (self.x1 - self.x0) * offset / self.span

    def clamp(self, at: datetime) -> float:
        return min(max(self.x(at), self.x0), self.x1)

    def visible(self, start: datetime, end: datetime) -> bool:
        return end >= self.t.start and start <= self.t.end

    def local(self, at: datetime, seconds: bool = True) -> str:
        fmt = "%H:%M:%S" if seconds else "%H:%M"
        local = at.astimezone(self.zone)
        if local.date() != self.t.start.astimezone(self.zone).date():
            fmt = "%a %d %b " + fmt
        return local.strftime(fmt)

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return UTC


def _duration(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return ("-" if delta.total_seconds() < 0 else "") + text


def render(timeline: Timeline, layout: Layout | None = None) -> str:
    """The whole timeline as an ``<svg>`` document (a string)."""
    lay = layout or Layout()
    canvas = _Canvas(timeline, lay)
    lanes_top = lay.axis_height
    y = lanes_top
    lane_blocks: list[tuple[Lane, int, list[list[AppointmentTrack]]]] = []
    for lane in timeline.lanes:
        rows = _pack(lane.appointments, canvas, lay.max_appt_rows)
        lane_blocks.append((lane, y, rows))
        y += _lane_height(lay, rows) + lay.lane_gap
    lanes_bottom = max(y - lay.lane_gap, lanes_top + 20)
    legend = draw_legend(lay.width, lay.legend_row, lanes_bottom + 26)
    notes = [
        f'<text class="tl-s" x="6" y="{legend[1] + 8 + 14 * i}">{esc(note)}</text>'
        for i, note in enumerate(timeline.notes)
    ]
    height = legend[1] + 14 * len(notes) + (6 if notes else 0)
    _axis(canvas, lanes_top, lanes_bottom)
    fault_labels = _faults(canvas, lanes_top, lanes_bottom)
    if not timeline.lanes:
        canvas.add(f'<text class="tl-s" x="{canvas.x0}" y="{lanes_top + 14}">no users</text>')
    for lane, top, rows in lane_blocks:
        _lane(canvas, lane, top, rows)
    canvas.parts.extend(fault_labels)  # over the lanes: an appointment bar hides none
    _now(canvas, lanes_top, lanes_bottom)
    canvas.add('<g class="tl-legend">')
    canvas.parts.extend(legend[0])
    canvas.add("</g>")
    canvas.parts.extend(notes)
    title = esc(timeline.title or "Timeline")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{height}" '
        f'viewBox="0 0 {lay.width} {height}" role="img" class="tl-svg">'
        f"<title>{title}</title><style>{STYLE}</style>"
        f'<rect x="0" y="0" width="{lay.width}" height="{height}" fill="#fff"/>'
        + "".join(canvas.parts)
        + "</svg>"
    )


# ---------------------------------------------------------------- the axis
def _axis(c: _Canvas, top: int, bottom: int) -> None:
    step = _axis_step(c)
    zone = c.zone
    first_local = c.t.start.astimezone(zone)
    midnight = first_local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (first_local - midnight).total_seconds()
    tick = midnight + timedelta(seconds=-(-elapsed // step) * step)
    last_date = None
    c.add(f'<line class="tl-axis" x1="{c.x0}" y1="{top - 4}" x2="{c.x1}" y2="{top - 4}"/>')
    count = 0
    while tick.astimezone(UTC) <= c.t.end and count < 200:
        count += 1
        x = num(c.x(tick.astimezone(UTC)))
        label = tick.strftime("%H:%M:%S" if step < 60 else "%H:%M")
        c.add(f'<line class="tl-grid" x1="{x}" y1="{top - 4}" x2="{x}" y2="{bottom}"/>')
        c.add(f'<line class="tl-axis" x1="{x}" y1="{top - 8}" x2="{x}" y2="{top - 4}"/>')
        c.add(f'<text class="tl-t" x="{x}" y="{top - 11}" text-anchor="middle">{label}</text>')
        if tick.date() != last_date:
            last_date = tick.date()
            c.add(
                f'<text class="tl-s" x="{x}" y="{top - 23}" text-anchor="middle">'
                f"{esc(tick.strftime('%a %d %b %Y'))}</text>"
            )
        tick = tick + timedelta(seconds=step)
    c.add(
        f'<text class="tl-s" x="4" y="{top - 11}">{esc(c.t.timezone)} '
        f"{esc(c.t.start.astimezone(zone).strftime('UTC%z'))}</text>"
    )


def _axis_step(c: _Canvas) -> int:
    room = max((c.x1 - c.x0) / 90, 1)
    for step in AXIS_STEPS:
        if c.span / step <= room:
            return step
    return AXIS_STEPS[-1] * max(1, int(c.span / AXIS_STEPS[-1] / room) + 1)


def _faults(c: _Canvas, top: int, bottom: int) -> list[str]:
    """The windows (drawn now, under the lanes) and their labels (to draw over them)."""
    taken: list[tuple[float, float, int]] = []  # labels so far: x from, x to, row
    labels: list[str] = []
    for fault in c.t.faults:
        if not c.visible(fault.start, fault.end):
            continue
        x1, x2 = c.clamp(fault.start), c.clamp(fault.end)
        text = f"{fault.service} {fault.kind}"
        tip = f"fault: {text} {c.local(fault.start)} - {c.local(fault.end)}"
        # Windows that overlap would print their labels over each other: next row down.
        left, right = x1 + 3, x1 + 3 + len(text) * 5.6
        row = 0
        while any(row == r and left < b and a < right for a, b, r in taken):
            row += 1
        taken.append((left, right, row))
        c.add(
            f'<g class="tl-faultwindow"><title>{esc(tip)}</title>'
            f'<rect class="tl-fault" x="{num(x1)}" y="{top}" '
            f'width="{num(max(x2 - x1, 1.5))}" height="{bottom - top}"/></g>'
        )
        labels.append(
            f'<text class="tl-faulttext" x="{num(left)}" y="{top + 10 + 11 * row}">'
            f"<title>{esc(tip)}</title>{esc(text)}</text>"
        )
    return labels


def _now(c: _Canvas, top: int, bottom: int) -> None:
    now = c.t.now
    if now is None or not c.visible(now, now):
        return
    x = num(c.x(now))
    c.add(
        f'<g class="tl-nowline"><title>now: {esc(c.local(now))}</title>'
        f'<line class="tl-now" x1="{x}" y1="{top - 6}" x2="{x}" y2="{bottom}"/>'
        f'<text class="tl-nowtext" x="{x}" y="{bottom + 11}" text-anchor="middle">now</text></g>'
    )


# ----------------------------------------------------------------- a lane
def _lane_height(lay: Layout, rows: list[list[AppointmentTrack]]) -> int:
    return max(len(rows), 1) * lay.appt_row + lay.presence_row + lay.event_row + 6


def _extent(track: AppointmentTrack) -> tuple[datetime, datetime]:
    first = min(min(v.at, v.start) for v in track.versions)
    last = max(v.end for v in track.versions)
    return first, last


def _pack(
    tracks: Iterable[AppointmentTrack], c: _Canvas, limit: int
) -> list[list[AppointmentTrack]]:
    """Tracks into rows so that none overlaps (the last row takes the overflow)."""
    rows: list[list[AppointmentTrack]] = []
    ends: list[float] = []
    shown = [t for t in tracks if c.visible(*_extent(t))]
    for track in sorted(shown, key=lambda t: _extent(t)[0]):
        first, last = _extent(track)
        x_first = c.x(first)
        for index, end in enumerate(ends):
            if x_first >= end + 4:
                rows[index].append(track)
                ends[index] = c.x(last)
                break
        else:
            if len(rows) < limit:
                rows.append([track])
                ends.append(c.x(last))
            else:
                rows[-1].append(track)
                ends[-1] = max(ends[-1], c.x(last))
    return rows


def _lane(c: _Canvas, lane: Lane, top: int, rows: list[list[AppointmentTrack]]) -> None:
    lay = c.layout
    height = _lane_height(lay, rows)
    c.add(f'<g class="tl-lane" data-user="{esc(lane.user)}">')
    name = lane.title or lane.user
    mailbox = lane.mailbox or "no mailbox"
    who = fit(f"{lane.user} · {mailbox}", lay.label_width - 12, 5.6)
    c.add(
        f"<g><title>{esc(f'{name} ({lane.user}) {mailbox}')}</title>"
        f'<text class="tl-h" x="6" y="{top + 13}">{esc(fit(name, lay.label_width - 12, 7))}'
        f'</text><text class="tl-s" x="6" y="{top + 26}">{esc(who)}</text></g>'
    )
    c.add(f'<line class="tl-sep" x1="0" y1="{top + height}" x2="{lay.width}" y2="{top + height}"/>')
    for index, row in enumerate(rows):
        row_top = top + index * lay.appt_row
        for track in row:
            _track(c, track, row_top)
    presence_top = top + max(len(rows), 1) * lay.appt_row + 2
    for segment in lane.presence:
        _segment(c, segment, presence_top)
    event_top = presence_top + lay.presence_row + 2
    _polls(c, lane.polls, lane.decisions, event_top)
    for call in lane.calls:
        _call(c, call, event_top)
    for mail in lane.mails:
        _mail(c, mail, event_top)
    _failures(c, lane.failures, top, top + height, event_top)
    c.add("</g>")


def _track(c: _Canvas, track: AppointmentTrack, top: int) -> None:
    history = _history(c, track)
    bar_h = c.layout.appt_row - 4
    for index, version in enumerate(track.versions):
        superseded = index < len(track.versions) - 1
        _version(c, version, superseded, top, bar_h, history)


def _history(c: _Canvas, track: AppointmentTrack) -> str:
    lines = []
    for version in track.versions:
        line = (
            f"{version.change} at {c.local(version.at)}: {version.subject!r} "
            f"{c.local(version.start, False)} - {c.local(version.end, False)}"
        )
        if version.change != "deleted":
            ahead = version.start - version.at
            if ahead.total_seconds() >= 0:
                line += f" ({_duration(ahead)} before its start)"
            else:
                line += f" ({_duration(-ahead)} after its start)"
        lines.append(line)
    kind = "occurrence" if track.occurrence else "appointment"
    return f"{kind} {track.id}\n" + "\n".join(lines)


def _version(
    c: _Canvas, v: AppointmentVersion, superseded: bool, top: int, bar_h: int, tip: str
) -> None:
    state = "deleted" if v.deleted else ("earlier" if superseded else "current")
    parts = [f'<g class="tl-version" data-state="{state}"><title>{esc(tip)}</title>']
    if c.visible(v.start, v.end):
        x1, x2 = c.clamp(v.start), c.clamp(v.end)
        width = max(x2 - x1, 2.0)
        cls = "tl-del" if v.deleted else ("tl-old" if superseded else "tl-appt")
        parts.append(
            f'<rect class="{cls}" x="{num(x1)}" y="{top + 2}" width="{num(width)}" '
            f'height="{bar_h}" rx="2"/>'
        )
        if not superseded or v.deleted:
            label = f"{v.subject} {c.local(v.start, False)}-{c.local(v.end, False)}"
            text = fit(label, width - 6, 5.8)
            if text:
                deco = ' text-decoration="line-through"' if v.deleted else ""
                parts.append(
                    f'<text class="tl-s" x="{num(x1 + 3)}" y="{top + bar_h - 1}"{deco}>'
                    f"{esc(text)}</text>"
                )
    if c.visible(v.at, v.at):
        mid = top + 2 + bar_h / 2
        xa = c.x(v.at)
        if v.deleted:
            parts.append(f'<path class="tl-x" d="M{num(xa - 3)} {num(mid - 3)}l6 6m0 -6l-6 6"/>')
        else:
            if v.at < v.start:
                parts.append(
                    f'<line class="tl-lead" x1="{num(xa)}" y1="{num(mid)}" '
                    f'x2="{num(c.clamp(v.start))}" y2="{num(mid)}"/>'
                )
            parts.append(
                f'<path class="tl-seen" d="M{num(xa)} {num(mid - 3.5)}l3.5 3.5l-3.5 3.5l-3.5 -3.5z"/>'
            )
    parts.append("</g>")
    if len(parts) > 2:
        c.add("".join(parts))


def _segment(c: _Canvas, s: PresenceSegment, top: int) -> None:
    if not c.visible(s.start, s.end) or s.end <= c.t.start:
        return
    x1, x2 = c.clamp(s.start), c.clamp(s.end)
    fill, ink = STATUS_COLOURS.get(s.status, UNKNOWN_STATUS)
    height = c.layout.presence_row - 4
    label = s.status.replace("_", " ")
    if s.return_time is not None:
        label += f" → {c.local(s.return_time, False)}"
    tip = f"{s.status}"
    if s.return_time is not None:
        tip += f" until {c.local(s.return_time)}"
    tip += f"\n{c.local(s.start)} - {c.local(s.end)}"
    if s.set_by:
        tip += f"\nset by {s.set_by}"
    if s.reason:
        tip += f": {s.reason}"
    text = fit(label, x2 - x1 - 6, 6.2)
    c.add(
        f'<g class="tl-presence" data-status="{esc(s.status)}"><title>{esc(tip)}</title>'
        f'<rect x="{num(x1)}" y="{top}" width="{num(max(x2 - x1, 1))}" '
        f'height="{height}" fill="{fill}" stroke="#fff" stroke-width="0.5"/>'
        + (
            f'<text x="{num(x1 + 3)}" y="{top + height - 4}" fill="{ink}" '
            f'style="font:11px sans-serif">{esc(text)}</text>'
            if text
            else ""
        )
        + "</g>"
    )


def _polls(c: _Canvas, ticks: Iterable[PollTick], decisions: Iterable[Decision], top: int) -> None:
    ticks = sorted(ticks, key=lambda t: t.at)
    instants = {t.at for t in ticks}
    by_instant: dict[datetime, list[Decision]] = {}
    for decision in decisions:
        by_instant.setdefault(decision.at, []).append(decision)
    y1, y2 = top + 2, top + c.layout.event_row - 6
    run: list[PollTick] = []

    def flush() -> None:
        if not run:
            return
        path = "".join(f"M{num(c.x(t.at))} {y1}V{y2}" for t in run)
        if len(run) == 1:
            tip = f"poll ok at {c.local(run[0].at)}" + (
                f": {run[0].detail}" if run[0].detail else ""
            )
        else:
            tip = f"{len(run)} polls ok, {c.local(run[0].at)} - {c.local(run[-1].at)}"
        c.add(f'<path class="tl-ok" d="{path}"><title>{esc(tip)}</title></path>')
        run.clear()

    for tick in ticks:
        if not c.visible(tick.at, tick.at):
            continue
        here = by_instant.get(tick.at)
        if tick.outcome == "ok" and not here:
            run.append(tick)
            continue
        flush()
        tip = f"poll {tick.outcome} at {c.local(tick.at)}"
        if tick.detail:
            tip += f": {tick.detail}"
        tip += _decisions_text(here)
        cls = "tl-dec" if tick.outcome == "ok" else f"tl-{tick.outcome}"
        x = num(c.x(tick.at))
        c.add(
            f'<line class="{cls}" x1="{x}" y1="{y1}" x2="{x}" y2="{y2}">'
            f"<title>{esc(tip)}</title></line>"
        )
    flush()
    for at, rows in by_instant.items():  # decisions without a poll tick of their own
        if at in instants or not c.visible(at, at):
            continue
        x = num(c.x(at))
        c.add(
            f'<circle class="tl-call" cx="{x}" cy="{y2 + 3}" r="2">'
            f"<title>{esc('decisions at ' + c.local(at) + _decisions_text(rows))}</title></circle>"
        )


def _decisions_text(rows: list[Decision] | None) -> str:
    if not rows:
        return ""
    return "".join(f"\n{d.subject!r}: {d.verdict}" for d in rows)


def _call(c: _Canvas, call: Mark, top: int) -> None:
    if not c.visible(call.at, call.at):
        return
    x = c.x(call.at)
    y = top + c.layout.event_row / 2 - 2
    c.add(
        f'<g class="tl-callmark"><title>{esc("call at " + c.local(call.at) + ": " + call.text)}'
        "</title>"
        f'<circle class="tl-call" cx="{num(x)}" cy="{num(y)}" r="4.5"/></g>'
    )


def _mail(c: _Canvas, mail: Mark, top: int) -> None:
    if not c.visible(mail.at, mail.at):
        return
    x = c.x(mail.at) - 5
    y = top + c.layout.event_row / 2 - 6
    c.add(
        f'<g class="tl-mailmark"><title>{esc("mail at " + c.local(mail.at) + ": " + mail.text)}'
        "</title>"
        f'<rect class="tl-mail" x="{num(x)}" y="{num(y)}" width="10" height="7"/>'
        f'<path class="tl-mail" d="M{num(x)} {num(y)}l5 4l5 -4" fill="none"/></g>'
    )


def _failures(c: _Canvas, marks: Iterable[Mark], top: int, bottom: int, event_top: int) -> None:
    """Each failed expectation: a line across the lane, a marker, and a label. Labels of
    marks close together go up a row each (over the presence bar, then the
    appointments) rather than over each other; with every row taken, the marker and
    its tooltip are left alone, without a label."""
    shown = sorted((m for m in marks if c.visible(m.at, m.at)), key=lambda m: m.at)
    base = event_top + c.layout.event_row - 5
    ends: list[float] = []  # per label row, where its last label ends
    xs = [c.x(m.at) for m in shown]
    for index, mark in enumerate(shown):
        x = xs[index]
        # A label starts right of the markers that follow close on its own.
        after = x
        for later in xs[index + 1 :]:
            if later - after >= 14:
                break
            after = later
        label = fit(mark.text, min(c.x1 - after - 12, FAIL_LABEL_MAX), 5.8)
        left, right = after + 7, after + 7 + len(label) * 5.8
        row = next((i for i, end in enumerate(ends) if left >= end + 6), None)
        if row is None and len(ends) < FAIL_LABEL_ROWS:
            row = len(ends)
            ends.append(0.0)
        text = ""
        if label and row is not None:
            ends[row] = right
            text = (
                f'<text class="tl-faillabel" x="{num(left)}" y="{num(base - 11 * row)}">'
                f"{esc(label)}</text>"
            )
        c.add(
            f'<g class="tl-failure"><title>{esc("failed at " + c.local(mark.at) + ": " + mark.text)}'
            "</title>"
            f'<line class="tl-failline" x1="{num(x)}" y1="{top}" x2="{num(x)}" y2="{bottom}"/>'
            f'<path class="tl-fail" d="M{num(x)} {num(base - 9)}l5 9h-10z"/>' + text + "</g>"
        )


__all__ = ["Layout", "STATUS_COLOURS", "esc", "render"]
