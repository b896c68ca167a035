"""The timeline model: one lane per user, whatever the data came from.

The report of a scenario run (``harness run --report``) and the live view of
``harness serve`` draw the same picture with the same renderer
(``scenarios.outputs.svg``). This module owns what is drawn, as plain frozen
records, plus the builders that turn the usual sources into them:

- appointments as Exchange held them over time: each appointment's versions
  (created, moved, renamed, changed, deleted) with the instant each began
  (``appointment_tracks``, from the store's change history);
- presence as the PBX showed it: segments with status, return time and who set
  it (``presence_segments``, from the PBX journal);
- poll ticks (ok, failed, skipped), calls, mails and failed expectations;
- optional per-poll decisions (what the engine decided about each appointment);
- fault windows, which span every lane.

``to_json``/``from_json`` carry a ``Timeline`` over HTTP and into JSON reports.
Times are aware UTC; ``Timeline.timezone`` is the zone labels are shown in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

PollOutcome = Literal["ok", "failed", "skipped"]
POLL_OUTCOMES: tuple[PollOutcome, ...] = ("ok", "failed", "skipped")

# What a new version of an appointment changed, named for people (first match wins).
CHANGE_LABELS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"start", "end"}), "moved"),
    (frozenset({"subject"}), "renamed"),
)


@dataclass(frozen=True, slots=True)
class AppointmentVersion:
    """An appointment as Exchange held it from ``at`` until the next version.

    ``change`` says what made this version: ``created``, ``moved``, ``renamed``,
    ``moved, renamed``, ``changed`` (another field) or ``deleted`` (then subject,
    start and end are the last ones known)."""

    at: datetime
    subject: str
    start: datetime
    end: datetime
    change: str = "created"

    @property
    def deleted(self) -> bool:
        return self.change == "deleted"


@dataclass(frozen=True, slots=True)
class AppointmentTrack:
    """One appointment (a single, or one occurrence of a series) and its versions."""

    id: str
    versions: tuple[AppointmentVersion, ...]
    occurrence: bool = False

    @property
    def current(self) -> AppointmentVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class PresenceSegment:
    start: datetime
    end: datetime
    status: str
    return_time: datetime | None = None
    set_by: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PollTick:
    at: datetime
    outcome: PollOutcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A call, a mail or a failed expectation: an instant and what to say about it."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the engine decided about one appointment at one poll."""

    at: datetime
    user: str
    appointment_id: str
    subject: str
    verdict: str


@dataclass(frozen=True, slots=True)
class FaultSpan:
    service: str
    kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Lane:
    """Everything about one user. ``user`` is the extension."""

    user: str
    title: str = ""
    mailbox: str | None = None
    presence: tuple[PresenceSegment, ...] = ()
    appointments: tuple[AppointmentTrack, ...] = ()
    polls: tuple[PollTick, ...] = ()
    calls: tuple[Mark, ...] = ()
    mails: tuple[Mark, ...] = ()
    failures: tuple[Mark, ...] = ()
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    """The window ``[start, end)`` of lanes, in ``timezone`` for the labels."""

    start: datetime
    end: datetime
    timezone: str = "UTC"
    lanes: tuple[Lane, ...] = ()
    faults: tuple[FaultSpan, ...] = ()
    now: datetime | None = None  # a "now" line (the live view)
    title: str = ""
    notes: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------ builders
class PresenceChange(Protocol):
    """A PBX journal entry, as ``simulators.pbx.JournalEntry`` has it."""

    @property
    def at(self) -> datetime: ...

    @property
    def old_status(self) -> Any: ...

    @property
    def new_status(self) -> Any: ...

    @property
    def old_return_time(self) -> datetime | None: ...

    @property
    def return_time(self) -> datetime | None: ...

    @property
    def set_by(self) -> str: ...

    @property
    def reason(self) -> str: ...


def presence_segments(
    changes: Iterable[PresenceChange],
    start: datetime,
    end: datetime,
    *,
    initial: tuple[str, datetime | None, str] | None = None,
) -> tuple[PresenceSegment, ...]:
    """Segments covering ``[start, end)`` from one user's journal entries (in order).

    Before the first entry the user had its ``old_status``; ``initial`` (status,
    return time, set by) says what it was when there is no entry at all. An
    extension of the return time (same status) starts a new segment too: the
    picture shows the return time the PBX showed."""
    rows = sorted(changes, key=lambda c: c.at)
    if rows:
        first = rows[0]
        status: str = str(first.old_status)
        returning, by, reason = first.old_return_time, "", ""
    elif initial is not None:
        status, returning, by = initial
        reason = ""
    else:
        return ()
    segments: list[PresenceSegment] = []
    since = start
    for change in rows:
        if change.at >= end:
            break
        if change.at > since:
            segments.append(PresenceSegment(since, change.at, status, returning, by, reason))
            since = change.at
        status, returning = str(change.new_status), change.return_time
        by, reason = change.set_by, change.reason
    if since < end:
        segments.append(PresenceSegment(since, end, status, returning, by, reason))
    return tuple(segments)


class StoreChange(Protocol):
    """A store change record, as ``simulators.exchange.history.ItemChange`` has it."""

    @property
    def at(self) -> datetime: ...

    @property
    def change(self) -> str: ...

    @property
    def item_id(self) -> str: ...

    @property
    def fields(self) -> tuple[str, ...]: ...

    @property
    def subject(self) -> str: ...

    @property
    def start(self) -> datetime | None: ...

    @property
    def end(self) -> datetime | None: ...

    @property
    def occurrence(self) -> Any: ...


def change_label(fields: Iterable[str]) -> str:
    """``moved``, ``renamed``, both, or ``changed`` for the fields an update changed."""
    names = set(fields)
    labels = [label for keys, label in CHANGE_LABELS if names & keys]
    return ", ".join(labels) or "changed"


def appointment_tracks(changes: Iterable[StoreChange]) -> tuple[AppointmentTrack, ...]:
    """One track per appointment id, versions in time order, tracks by first version.

    Only records with a start and end count (calendar items); ``cleared`` drops
    everything before it."""
    versions: dict[str, list[AppointmentVersion]] = {}
    occurrences: set[str] = set()
    for change in sorted(changes, key=lambda c: c.at):
        if change.change == "cleared":
            versions.clear()
            continue
        if change.start is None or change.end is None:
            continue
        if change.change == "created":
            label = "created"
        elif change.change == "deleted":
            label = "deleted"
        else:
            label = change_label(change.fields)
        versions.setdefault(change.item_id, []).append(
            AppointmentVersion(change.at, change.subject, change.start, change.end, label)
        )
        if change.occurrence is not None:
            occurrences.add(change.item_id)
    tracks = [
        AppointmentTrack(key, tuple(rows), key in occurrences) for key, rows in versions.items()
    ]
    tracks.sort(key=lambda t: (t.versions[0].at, t.current.start, t.id))
    return tuple(tracks)


class PollLike(Protocol):
    @property
    def at(self) -> datetime: ...

    @property
    def outcome(self) -> str: ...

    @property
    def detail(self) -> str: ...


def poll_ticks(events: Iterable[PollLike]) -> tuple[PollTick, ...]:
    """Ticks from the engine's poll events (``integration.scheduler.PollEvent``)."""
    ticks = []
    for event in events:
        outcome = event.outcome if event.outcome in POLL_OUTCOMES else "failed"
        ticks.append(PollTick(event.at, outcome, event.detail))  # type: ignore[arg-type]
    return tuple(sorted(ticks, key=lambda t: t.at))


# ---------------------------------------------------------------------- JSON
def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def _maybe_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def to_json(timeline: Timeline) -> dict[str, Any]:
    """A JSON-ready dict (times as ISO 8601 UTC)."""
    return {
        "start": _iso(timeline.start),
        "end": _iso(timeline.end),
        "timezone": timeline.timezone,
        "now": _iso(timeline.now),
        "title": timeline.title,
        "notes": list(timeline.notes),
        "faults": [
            {"service": f.service, "kind": f.kind, "start": _iso(f.start), "end": _iso(f.end)}
            for f in timeline.faults
        ],
        "lanes": [_lane_json(lane) for lane in timeline.lanes],
    }


def _mark_json(mark: Mark) -> dict[str, Any]:
    return {"at": _iso(mark.at), "text": mark.text}


def _lane_json(lane: Lane) -> dict[str, Any]:
    return {
        "user": lane.user,
        "title": lane.title,
        "mailbox": lane.mailbox,
        "presence": [
            {
                "start": _iso(s.start),
                "end": _iso(s.end),
                "status": s.status,
                "return_time": _iso(s.return_time),
                "set_by": s.set_by,
                "reason": s.reason,
            }
            for s in lane.presence
        ],
        "appointments": [
            {
                "id": t.id,
                "occurrence": t.occurrence,
                "versions": [
                    {
                        "at": _iso(v.at),
                        "subject": v.subject,
                        "start": _iso(v.start),
                        "end": _iso(v.end),
                        "change": v.change,
                    }
                    for v in t.versions
                ],
            }
            for t in lane.appointments
        ],
        "polls": [{"at": _iso(p.at), "outcome": p.outcome, "detail": p.detail} for p in lane.polls],
        "calls": [_mark_json(m) for m in lane.calls],
        "mails": [_mark_json(m) for m in lane.mails],
        "failures": [_mark_json(m) for m in lane.failures],
        "decisions": [
            {
                "at": _iso(d.at),
                "user": d.user,
                "appointment_id": d.appointment_id,
                "subject": d.subject,
                "verdict": d.verdict,
            }
            for d in lane.decisions
        ],
    }


def from_json(data: Mapping[str, Any]) -> Timeline:
    """The ``Timeline`` that ``to_json`` wrote; ``ValueError``/``KeyError`` on bad data."""

    def marks(rows: Iterable[Mapping[str, Any]]) -> tuple[Mark, ...]:
        return tuple(Mark(_time(r["at"]), str(r["text"])) for r in rows)

    lanes = []
    for lane in data.get("lanes", []):
        lanes.append(
            Lane(
                user=str(lane["user"]),
                title=str(lane.get("title", "")),
                mailbox=lane.get("mailbox"),
                presence=tuple(
                    PresenceSegment(
                        _time(s["start"]),
                        _time(s["end"]),
                        str(s["status"]),
                        _maybe_time(s.get("return_time")),
                        str(s.get("set_by", "")),
                        str(s.get("reason", "")),
                    )
                    for s in lane.get("presence", [])
                ),
                appointments=tuple(
                    AppointmentTrack(
                        str(t["id"]),
                        tuple(
                            AppointmentVersion(
                                _time(v["at"]),
                                str(v["subject"]),
                                _time(v["start"]),
                                _time(v["end"]),
                                str(v.get("change", "created")),
                            )
                            for v in t["versions"]
                        ),
                        bool(t.get("occurrence", False)),
                    )
                    for t in lane.get("appointments", [])
                    if t["versions"]
                ),
                polls=tuple(
                    PollTick(_time(p["at"]), p["outcome"], str(p.get("detail", "")))
                    for p in lane.get("polls", [])
                    if p["outcome"] in POLL_OUTCOMES
                ),
                calls=marks(lane.get("calls", [])),
                mails=marks(lane.get("mails", [])),
                failures=marks(lane.get("failures", [])),
                decisions=tuple(
                    Decision(
                        _time(d["at"]),
                        str(d["user"]),
                        str(d["appointment_id"]),
                        str(d["subject"]),
                        str(d["verdict"]),
                    )
                    for d in lane.get("decisions", [])
                ),
            )
        )
    return Timeline(
        start=_time(data["start"]),
        end=_time(data["end"]),
        timezone=str(data.get("timezone", "UTC")),
        lanes=tuple(lanes),
        faults=tuple(
            FaultSpan(str(f["service"]), str(f["kind"]), _time(f["start"]), _time(f["end"]))
            for f in data.get("faults", [])
        ),
        now=_maybe_time(data.get("now")),
        title=str(data.get("title", "")),
        notes=tuple(str(n) for n in data.get("notes", [])),
    )


__all__ = [
    "AppointmentTrack",
    "AppointmentVersion",
    "Decision",
    "FaultSpan",
    "Lane",
    "Mark",
    "PollTick",
    "PresenceSegment",
    "Timeline",
    "appointment_tracks",
    "change_label",
    "from_json",
    "poll_ticks",
    "presence_segments",
    "to_json",
]
