"""What a scenario run leaves for its report: a ``Recording`` of one run.

- ``timeline``: the ``scenarios.outputs.lanes.Timeline`` of the run, one lane per
  PBX user (appointments as Exchange held them, presence as the PBX showed it,
  poll ticks, calls, mails, failed expectations with their explanation, the
  decisions that changed), fault windows across the lanes;
- ``requests``: the site's request journal (EWS, WebDAV, OWA, ...);
- ``decisions``: every decision that differed from the same appointment's at the
  user's previous poll, as a sentence, with the last poll that repeated it.

Everything is on the scenario's time axis: the PBX and the engine run on the PBX
clock (``pbx:``, R13) and Exchange on its own (``exchange.clock_skew``); their
stamps are put back on the scenario clock here. ``StoreRecorder`` stamps each
store change with the scenario instant it happened at. The records are plain
frozen dataclasses, so a ``ScenarioResult`` carrying one pickles (worker
processes send results back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from integration.decisions import Decision as EngineDecision
from integration.scheduler import PollEvent
from scenarios.explain.sentences import Clock, sentence
from scenarios.format.model import Fault, Scenario
from scenarios.outputs.lanes import (
    AppointmentTrack,
    AppointmentVersion,
    Decision,
    FaultSpan,
    Lane,
    Mark,
    PollTick,
    Timeline,
    appointment_tracks,
    presence_segments,
)
from scenarios.run.pbxclock import PbxClock
from simulators.clock import utc_now
from simulators.exchange.ews.middleware import JournalEntry as RequestEntry
from simulators.exchange.history import ItemChange
from simulators.exchange.model import CalendarItem
from simulators.exchange.store import ExchangeStore, StoreError
from simulators.pbx import JournalEntry, Pbx

# The lane of failures that no user's expectation made (a mail, a contact search).
SCENARIO_LANE = "scenario"
ENGINE_PROTOCOLS = ("ews", "webdav")  # one of them is the run's variant


class FailureLike(Protocol):
    """A failed expectation, as ``scenarios.run.runner.Failure`` has it."""

    @property
    def line(self) -> int: ...

    @property
    def message(self) -> str: ...

    @property
    def explanation(self) -> tuple[str, ...]: ...

    @property
    def user(self) -> str | None: ...

    @property
    def at(self) -> datetime | None: ...


@dataclass(frozen=True)
class RequestRow:
    """One answered request, on the scenario clock."""

    at: datetime
    service: str
    method: str
    path: str
    status: int
    operation: str | None = None
    mailbox: str | None = None
    account: str | None = None
    fault: str | None = None

    @property
    def summary(self) -> str:
        what = f" ({self.operation})" if self.operation else ""
        return f"{self.method} {self.path}{what}"


@dataclass(frozen=True)
class DecisionRow:
    """A decision that changed at a poll; ``until`` is the last poll (scenario clock)
    of the user that repeated it unchanged, ``repeats`` how many did."""

    at: datetime  # the poll, scenario clock
    pbx_at: datetime  # the same poll on the PBX clock (what the engine saw as now)
    user: str
    appointment_id: str
    subject: str
    verdict: str
    rule: str
    sentence: str
    until: datetime | None = None
    repeats: int = 0


@dataclass(frozen=True)
class Recording:
    timeline: Timeline
    requests: tuple[RequestRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()


class StoreRecorder:
    """The store's calendar changes of one run, stamped with the scenario clock.

    The store stamps a change with Exchange's clock (the scenario clock plus the
    skew), or with the ``created`` stamp a seed item carries; the first become the
    scenario instant, the second stay as written."""

    def __init__(self, store: ExchangeStore) -> None:
        self.store = store
        self.changes: list[ItemChange] = []
        self._detach = store.on_change(self._record)

    def _record(self, change: ItemChange) -> None:
        if change.change == "cleared":
            self.changes.clear()
            return
        if change.item_kind != "calendar":
            return
        if change.at == self.store.clock.now():
            change = replace(change, at=utc_now())
        self.changes.append(change)

    def close(self) -> None:
        self._detach()


@dataclass(frozen=True)
class RunFacts:
    """What the runner hands over at the end of a run."""

    scenario: Scenario
    variant: str
    pbx: Pbx
    pbx_clock: PbxClock
    store: ExchangeStore
    changes: Sequence[ItemChange]
    journal: Sequence[JournalEntry]  # on the scenario clock already
    polls: Sequence[PollEvent]  # on the PBX clock
    failures: Sequence[FailureLike]
    outages: Sequence[tuple[str, datetime, datetime]]
    requests: Sequence[RequestEntry]
    clock: Clock  # how sentences write times
    # (service, label, from, until) of the faults the injector held (not refusals)
    injected: Sequence[tuple[str, str, datetime, datetime]] = ()


def record(facts: RunFacts) -> Recording:
    """The recording of a finished (or broken-off) run."""
    scenario = facts.scenario
    start, end = scenario.start, scenario.end
    true = facts.pbx_clock.true
    skew = scenario.exchange.clock_skew
    rows = decision_rows(facts.polls, true, facts.clock)
    lanes: list[Lane] = []
    presences = facts.pbx.presences()
    for user in facts.pbx.users():
        ext = user.extension
        mailbox = user.email.lower() if user.email else None
        presence = presences[ext]
        mine = [p for p in facts.polls if p.extension == ext]
        ticks = tuple(
            PollTick(true(p.at), p.outcome, p.detail)  # type: ignore[arg-type]
            for p in mine
        )
        mails: tuple[Mark, ...] = ()
        tracks: tuple[AppointmentTrack, ...] = ()
        if mailbox is not None:
            mails = tuple(
                Mark(m.created - skew, f"{m.subject!r} from {m.sender}")
                for m in facts.store.messages(mailbox)
            )
            tracks = store_tracks(
                facts.store, [c for c in facts.changes if c.mailbox == mailbox], start, end
            )
        lanes.append(
            Lane(
                user=ext,
                title=user.name,
                mailbox=mailbox,
                presence=presence_segments(
                    [e for e in facts.journal if e.user == ext],
                    start,
                    end,
                    initial=(str(presence.status), presence.return_time, presence.set_by),
                ),
                appointments=tracks,
                polls=ticks,
                calls=tuple(
                    Mark(
                        true(c.at),
                        f"from {c.caller}: {c.status}, routed to {c.routed_to} ({c.destination})",
                    )
                    for c in facts.pbx.calls(ext)
                ),
                mails=mails,
                failures=_marks(f for f in facts.failures if f.user == ext),
                decisions=tuple(
                    Decision(r.at, r.user, r.appointment_id, r.subject, r.sentence)
                    for r in rows
                    if r.user == ext
                ),
            )
        )
    known = {lane.user for lane in lanes}
    loose = [f for f in facts.failures if f.user not in known]
    if loose:
        lanes.append(Lane(user=SCENARIO_LANE, title="(no user)", failures=_marks(loose, end)))
    timeline = Timeline(
        start,
        end,
        str(scenario.timezone),
        tuple(lanes),
        fault_spans(scenario, facts.variant, facts.outages, facts.injected),
        title=f"{scenario.path} ({scenario.name})" if scenario.name else str(scenario.path),
        notes=_notes(facts.pbx_clock, scenario),
    )
    requests = tuple(
        RequestRow(
            e.at, e.service, e.method, e.path, e.status, e.operation, e.mailbox, e.account, e.fault
        )
        for e in facts.requests
    )
    return Recording(timeline, requests, rows)


def _marks(failures: Iterable[FailureLike], fallback: datetime | None = None) -> tuple[Mark, ...]:
    marks = []
    for failure in failures:
        at = failure.at or fallback
        if at is None:
            continue
        text = f"line {failure.line}: {failure.message}"
        if failure.explanation:
            text += " | why: " + " | ".join(failure.explanation)
        marks.append(Mark(at, text))
    return tuple(marks)


def _notes(pbx_clock: PbxClock, scenario: Scenario) -> tuple[str, ...]:
    notes = []
    if not pbx_clock.is_true:
        offset = pbx_clock.offset(scenario.start).total_seconds()
        way = "ahead of" if offset > 0 else "behind"
        notes.append(
            f"the PBX clock is {abs(offset):g} s {way} the scenario clock at the start: "
            "polls are drawn at the scenario instant they happened"
        )
    skew = scenario.exchange.clock_skew.total_seconds()
    if skew:
        notes.append(
            f"Exchange's clock is {abs(skew):g} s {'ahead' if skew > 0 else 'behind'}: "
            "its changes are drawn at the scenario instant they happened"
        )
    return tuple(notes)


def fault_spans(
    scenario: Scenario,
    variant: str,
    outages: Iterable[tuple[str, datetime, datetime]],
    injected: Iterable[tuple[str, str, datetime, datetime]] = (),
) -> tuple[FaultSpan, ...]:
    """The run's outages, named by the ``fault`` step that made each (else a restart);
    services down over the same window in the same way are one span.

    A file for both variants shuts both Exchange protocols; the run of one variant
    is not touched by the other's outage, so it is not drawn."""
    kinds = {(s.service, s.at): s.kind for s in scenario.steps if isinstance(s, Fault)}
    windows: dict[tuple[datetime, datetime, str], list[str]] = {}
    for service, start, end in outages:
        if service in ENGINE_PROTOCOLS and service != variant:
            continue
        key = (start, min(end, scenario.end), kinds.get((service, start), "restart"))
        windows.setdefault(key, []).append(service)
    for service, label, start, end in injected:
        if service in ENGINE_PROTOCOLS and service != variant:
            continue
        windows.setdefault((start, min(end, scenario.end), label), []).append(service)
    return tuple(
        FaultSpan(", ".join(dict.fromkeys(services)), kind, start, end)
        for (start, end, kind), services in windows.items()
    )


def decision_rows(
    polls: Iterable[PollEvent], true: Callable[[datetime], datetime], clock: Clock
) -> tuple[DecisionRow, ...]:
    """Per user, each decision that differs from that appointment's decision at the
    user's previous good poll; repeats are folded into it (``until``, ``repeats``)."""
    rows: list[DecisionRow] = []
    open_rows: dict[tuple[str, str], int] = {}  # (user, appointment) -> index in rows
    previous: dict[str, dict[str, EngineDecision]] = {}
    for event in polls:
        if event.outcome != "ok":
            continue
        before = previous.get(event.extension, {})
        at = true(event.at)
        for decision in event.decisions:
            key = (event.extension, decision.appointment_id)
            last = before.get(decision.appointment_id)
            if last is not None and _same(last, decision) and key in open_rows:
                index = open_rows[key]
                rows[index] = replace(rows[index], until=at, repeats=rows[index].repeats + 1)
                continue
            open_rows[key] = len(rows)
            rows.append(
                DecisionRow(
                    at=at,
                    pbx_at=event.at,
                    user=event.extension,
                    appointment_id=decision.appointment_id,
                    subject=decision.subject,
                    verdict=str(decision.verdict),
                    rule=decision.rule,
                    sentence=sentence(decision, clock.on(event.at)),
                )
            )
        previous[event.extension] = {d.appointment_id: d for d in event.decisions}
    return tuple(rows)


def _same(a: EngineDecision, b: EngineDecision) -> bool:
    return (a.verdict, a.subject, a.start, a.end, a.rule) == (
        b.verdict,
        b.subject,
        b.start,
        b.end,
        b.rule,
    )


def store_tracks(
    store: ExchangeStore, changes: list[ItemChange], start: datetime, end: datetime
) -> tuple[AppointmentTrack, ...]:
    """Singles and changed occurrences from the history; the occurrences of a series
    in the window from the calendar as it is now, each dated to the series' creation."""
    series = {c.item_id: c for c in changes if c.recurring and c.occurrence is None}
    singles = appointment_tracks([c for c in changes if c.item_id not in series])
    by_id = {t.id: t for t in singles}
    for master_id, last in series.items():
        if last.deleted:
            continue
        try:
            master = store.item(master_id)
        except StoreError:
            continue
        if not isinstance(master, CalendarItem):
            continue
        folder = store.folder(master.folder_id)
        duration = master.end - master.start
        for row in store.calendar_view(folder, start, end + timedelta(seconds=1)):
            if row.master.id != master_id:
                continue
            original = row.original_start or row.start
            first = AppointmentVersion(
                series_created(master, changes), master.subject, original, original + duration
            )
            known = by_id.get(row.id)
            versions = (first, *known.versions) if known else (first,)
            by_id[row.id] = AppointmentTrack(row.id, versions, occurrence=True)
    tracks = sorted(by_id.values(), key=lambda t: (t.versions[0].at, t.current.start, t.id))
    return tuple(tracks)


def series_created(master: CalendarItem, changes: Iterable[ItemChange]) -> datetime:
    """When the series was made, as recorded (else the item's own stamp)."""
    for change in changes:
        if change.item_id == master.id and change.change == "created":
            return change.at
    return master.created


__all__ = [
    "DecisionRow",
    "FailureLike",
    "Recording",
    "RequestRow",
    "RunFacts",
    "StoreRecorder",
    "decision_rows",
    "fault_spans",
    "record",
    "store_tracks",
]
