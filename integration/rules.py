"""Calendar -> presence rules (R3..R13 of R1..R14) as a pure, clock-driven state machine.

One ``UserRuleState`` per polled user. At every successful poll the scheduler calls
``step(state, appointments, now, current_presence=..., settings=..., user=...)`` and
gets back a ``StepResult``: the new state, the presence commands to send
(``SetPresence``, ``ReturnToOffice``) and a ``Decision`` per appointment read
(``integration.decisions``: the verdict, the rule and its facts, built by
``integration.ruletrace``); when a poll fails it calls ``poll_failed(state, now)``.
The records live in ``integration.rulestate``. Nothing here
reads a clock, talks to Exchange or to the PBX: ``now`` is the PBX clock at the poll,
``current_presence`` what the PBX reports right before it. If sending the commands
fails, keep the *old* state and call ``poll_failed`` on it: the state assumes that its
commands took effect (otherwise the next poll would take them for a manual change, R8).
A step returns at most one command; the gateway must set presence with
``set_by=ENGINE_SET_BY`` so that R8 can tell the engine's own presence from a manual one.

R1/R2 (who is polled, how) belong to the scheduler and the sources; R14 to the PBX.
How each remaining rule is read, where the contract leaves room:

- R3 start minute. An appointment's start minute is ``[start floored to the minute,
  +60 s)``. It sets presence at the first successful poll inside that minute (a second
  poll in the same minute does nothing more). If its start minute passed with no
  successful poll in it (``last successful poll < start minute``: engine not yet
  running, polls failing) it sets presence only with ``catch_up``, at the first
  successful poll while it is still in progress (before its end minute). A start
  minute that *had* a poll is never caught up, e.g. when the keyword was only added
  to the subject later.
- R4 3-minute rule. ``start - first_seen < lead_time`` ignores the appointment for
  good; ``first_seen`` is the poll time (PBX clock) that first saw the appointment id
  with its current start, compared to the start as Exchange reports it (R13). ``created``
  does not matter while polls work. After a gap (the engine's first poll, or the first
  success after failed polls) the engine could not have seen what changed during the
  gap, so an appointment (or new start) first seen then is dated to the latest of the
  last successful poll and its own ``modified``/``created`` stamp (Exchange clock,
  capped at ``now``); with neither it counts as old. So an appointment created
  yesterday is honoured when the engine starts at 11:59 or at 12:10 (then via
  catch-up), and one created during an outage 1 minute before its start is ignored.
- R4 and the client. The PBX client (myPortal's "Exchange Calendar Integration")
  writes a presence it sets into the calendar as an appointment from that moment
  (subject: the status's keyword) and sets the presence itself (not the engine's,
  R8). The engine first sees it at or after its start: ignored for good by R4, so the
  engine never sets it again nor returns it to office; the decision adds that the PBX
  already shows that status, set by someone else (``presence_set_by``).
- R4 and moves (R11). A new start is judged afresh against the poll that first saw
  it, even for an appointment ignored before. An appointment whose presence is
  active (or was overridden, R8) and whose new start keeps it in progress is not
  restarted: only its subject and end are taken over.
- R5 keywords: ``integration.keywords``; the latest subject counts. An active
  appointment whose keyword changes changes presence (reason ``changed``); one that
  loses its keyword ends as if deleted (R11).
- R6 return time = the appointment's end; if the end of the appointment whose presence
  is shown moves while it is active, the return time follows (reason ``changed``).
- R7 end. An appointment is in progress until its end minute (``end`` floored): at the
  first poll at or after that, with auto back to office, presence returns to office;
  without it, nothing is sent (the PBX extends the return time) and the engine lets
  go of the presence. Extending an appointment that ended does not revive it (moving
  its start into the future does: a new start, judged by R4).
  An appointment shorter than its own minute (start and end in one minute) never sets
  presence.
- R8 manual change: the PBX reports a status other than the one the engine last set,
  or ``set_by`` other than ``ENGINE_SET_BY`` (the PBX's 15-minute extension keeps
  ``set_by``). Then every appointment whose presence the engine set or was holding
  for an overlap (R9) is left alone until it ends: no set back, no resume, no return
  to office. Appointments starting later set presence as usual. ``current_presence``
  None means "unknown" and detects nothing.
- R9 overlaps. Among in-progress appointments that set (or, at one poll, would have
  set) presence, the one with the latest start is shown; equal starts: the one ending
  first, then the lower id. When it ends (or goes, R11) the next such one is shown
  again (reason ``resume``), with or without auto back to office, since its status is
  more accurate than letting the ended one linger.
- R10 each occurrence is its own ``Appointment`` (unique id); nothing special here.
- R11 a deletion is the appointment missing from the read. Deleted/shortened/moved
  away while shown: R7 applies at that poll (office with auto back, else nothing).
- R11 and meetings. A meeting counts as any appointment whatever the owner's answer:
  accepted, tentative (the rules ignore the busy status) or not answered yet (the
  calendar attendant put it in the calendar as tentative); its subject decides (R5).
  A cancelled meeting (the organizer cancelled; Exchange keeps the attendee's item,
  marked IsCancelled / apptstateflags asfCanceled, free, its subject prefixed
  "Canceled: " or "Abgesagt: ", so "Canceled: Team Meeting" still holds "Meeting")
  behaves as deleted: it never sets presence (verdict ``cancelled``), and one whose
  presence is shown when the cancellation arrives ends at the first poll that sees it
  (R7: office with auto back). A declined meeting is not in the calendar at all.
- R12 all-day events (``all_day``) set presence at the first successful poll of their
  day: in their start minute (midnight) as R3 says, and when that minute had no
  successful poll (2- or 5-minute polling, an engine started or restarted during the
  day, an outage over midnight) at the first successful poll after it while the event
  is in progress, with catch-up on or off. "The day" is the event's own span: it starts
  at the midnight Exchange stores (the local midnight of the zone it was made in, the
  scenario's), so no zone is needed here. Several days are one event: presence is set
  once, at the first successful poll of the first day the engine sees, so an engine
  started on day two of a three-day "Holiday" sets vacation at its first poll, with the
  event's end as return time (R6); it ends by R7 at its last midnight. Everything else
  is as for any appointment: R4 still judges it (one created, or first seen, during its
  own day starts less than lead_time after it was seen: ignored for good, all its days),
  a day whose first poll saw it without a keyword is ``passed`` (R3), a manual change
  holds for the rest of the event, over its midnights (R8), and a meeting inside it
  wins while it lasts and hands back to it (R9). Like catch-up, a restarted engine
  cannot know of a manual change made before it started (the PBX does not say when
  presence changed): an all-day event in progress sets its presence again at the new
  engine's first poll unless the PBX shows the engine's own presence for it (adopted).
- R13 nothing is corrected: appointment times are compared with the PBX clock as is.
- Engine restart: a fresh state (no poll yet) adopts a presence the PBX says the
  engine set, if an in-progress keyword appointment matches its status (the latest
  start, R9); so auto back to office still happens at its end. R4 does not stand in
  the way: the new engine dates what it sees by Exchange's stamps, so an appointment
  the old engine honoured and that was edited after its start would look too fresh,
  though the presence shows the old engine set it. When no appointment in progress
  has that status, the appointment behind it ended or went while the engine was down
  (the read does not reach back): with auto back to office presence returns to office
  at that first poll (R7's "first poll after the end"; verdict ``orphaned``), without
  it the presence stays and the PBX extends it. An appointment starting at that poll
  sets presence as usual instead. A presence the PBX says someone else set is never
  touched (R8).

The calendar read must cover in-progress appointments and reach at least
``lead_time`` + one poll interval ahead, else appointments entering the window are
first seen too late (R4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from integration import keywords
from integration.appointments import Appointment
from integration.decisions import Decision, ManualChange, Verdict
from integration.rulestate import (
    DEFAULT_LEAD_TIME,
    ENGINE_SET_BY,
    MINUTE,
    OFFICE,
    Command,
    CurrentPresence,
    EnginePresence,
    Phase,
    Reason,
    ReturnToOffice,
    RuleSettings,
    RuleUser,
    SetPresence,
    Settings,
    Tracked,
    User,
    UserRuleState,
    minute_of,
)
from integration.ruletrace import PollTrace

__all__ = [
    "DEFAULT_LEAD_TIME",
    "ENGINE_SET_BY",
    "MINUTE",
    "OFFICE",
    "Command",
    "CurrentPresence",
    "Decision",
    "EnginePresence",
    "Phase",
    "Reason",
    "ReturnToOffice",
    "RuleSettings",
    "RuleUser",
    "SetPresence",
    "Settings",
    "StepResult",
    "Tracked",
    "User",
    "UserRuleState",
    "minute_of",
    "poll_failed",
    "step",
]

# -- helpers ----------------------------------------------------------------


def _aware_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"poll time must be timezone-aware, got naive {now}")
    return now.astimezone(UTC)


def _check_order(state: UserRuleState, now: datetime) -> None:
    if state.last_poll is not None and now < state.last_poll:
        raise ValueError(f"poll at {now} is before the last poll at {state.last_poll}")


def _in_progress(appointment: Appointment, now: datetime) -> bool:
    """Inside ``[start minute, end minute)``: the span R3 and R7 give presence."""
    return minute_of(appointment.start) <= now < minute_of(appointment.end)


def _gap_reference(
    appointment: Appointment, last_poll: datetime | None, now: datetime
) -> datetime | None:
    """R4 after a gap: the earliest the engine could have seen this version."""
    known = [t for t in (last_poll, appointment.last_changed) if t is not None]
    return min(max(known), now) if known else None


def _first_sight(
    appointment: Appointment, now: datetime, state: UserRuleState, lead_time: timedelta
) -> Tracked:
    """A new appointment, or a new start: judge it by R4."""
    gap = state.after_gap
    seen = _gap_reference(appointment, state.last_poll, now) if gap else now
    ignored = seen is not None and appointment.start - seen < lead_time  # R4
    return Tracked(
        appointment,
        appointment.start,
        seen,
        Phase.IGNORED if ignored else Phase.WAITING,
        dated_after_gap=gap,
    )


def _observe(
    old: Tracked | None,
    appointment: Appointment,
    now: datetime,
    state: UserRuleState,
    lead_time: timedelta,
) -> Tracked:
    if old is None:
        return _first_sight(appointment, now, state, lead_time)
    if appointment.start == old.seen_start:
        return replace(old, appointment=appointment)  # R11: the latest version counts
    if old.phase in (Phase.STARTED, Phase.OVERRIDDEN) and _in_progress(appointment, now):
        # Moved while active but still in progress: not a new start (R4 judges starts).
        return replace(old, appointment=appointment, seen_start=appointment.start)
    return _first_sight(appointment, now, state, lead_time)  # R4 + R11: moved


def _advance(
    tracked: Tracked, status: str | None, now: datetime, last_poll: datetime | None, catch_up: bool
) -> tuple[Tracked, Reason | None]:
    """Move one appointment's phase on at this poll; the start reason if it starts."""
    appointment = tracked.appointment
    start_minute = minute_of(appointment.start)
    ended = now >= minute_of(appointment.end)
    if tracked.phase is Phase.WAITING:
        if now < start_minute:
            return tracked, None
        if ended:  # R7 reached before it could start (sub-minute, or an outage)
            return _done(tracked, Verdict.TOO_SHORT), None
        in_start_minute = now < start_minute + MINUTE
        if status is None:  # R5: no keyword, no presence; it may still get one this minute
            return (
                (tracked, None) if in_start_minute else (_done(tracked, Verdict.NO_KEYWORD), None)
            )
        if in_start_minute:
            return replace(tracked, phase=Phase.STARTED), Reason.START  # R3
        missed = last_poll is None or last_poll < start_minute
        if appointment.all_day and missed:  # R12: the first successful poll of its day
            return replace(tracked, phase=Phase.STARTED), Reason.ALL_DAY
        if catch_up and missed:
            return replace(tracked, phase=Phase.STARTED), Reason.CATCH_UP  # R3 catch-up
        if missed:  # R3: its start minute had no successful poll
            return replace(_done(tracked, Verdict.MISSED), missed_after=last_poll), None
        return _done(tracked, Verdict.PASSED), None  # R3: start minute passed
    if tracked.phase is Phase.STARTED and (ended or status is None):
        return _done(tracked, Verdict.ENDED if ended else Verdict.REMOVED), None  # R7 / R11
    if tracked.phase is Phase.OVERRIDDEN and ended:
        return _done(tracked, Verdict.ENDED), None
    return tracked, None


def _done(tracked: Tracked, why: Verdict) -> Tracked:
    return replace(tracked, phase=Phase.DONE, why=why)


def _manually_changed(owned: EnginePresence, current: CurrentPresence) -> bool:
    """R8: the PBX shows a presence the engine did not set."""
    if current.status != owned.status:
        return True
    return current.set_by is not None and current.set_by != ENGINE_SET_BY


def _shown(candidates: Iterable[Tracked]) -> Tracked | None:
    """R9: latest start wins; equal starts: the one ending first, then the lower id."""
    best: Tracked | None = None
    for t in candidates:
        a = t.appointment
        if best is None:
            best = t
            continue
        b = best.appointment
        if (a.start, b.end, b.id) > (b.start, a.end, a.id):
            best = t
    return best


def _adopt(
    tracked: dict[str, Tracked],
    statuses: Mapping[str, str | None],
    current: CurrentPresence | None,
    now: datetime,
) -> EnginePresence | None:
    """Engine restart: take back the presence the PBX says the engine set."""
    if not _engine_set(current):
        return None
    assert current is not None
    matching = [
        t
        for t in tracked.values()
        if t.phase in (Phase.WAITING, Phase.IGNORED)
        and statuses[t.appointment.id] == current.status
        and _in_progress(t.appointment, now)
    ]
    chosen = _shown(matching)
    if chosen is None:
        return None
    tracked[chosen.appointment.id] = replace(chosen, phase=Phase.STARTED)
    return EnginePresence(current.status, chosen.appointment.end, chosen.appointment.id)


def _engine_set(current: CurrentPresence | None) -> bool:
    """The PBX says the engine set this presence (and it is not office)."""
    return current is not None and current.set_by == ENGINE_SET_BY and current.status != OFFICE


def _end_reason(
    appointment_id: str, old: Mapping[str, Tracked], new: Mapping[str, Tracked], now: datetime
) -> Reason:
    """R7 if the shown appointment's (latest known) end minute was reached, else R11."""
    latest = new.get(appointment_id) or old.get(appointment_id)
    if latest is not None and now >= minute_of(latest.appointment.end):
        return Reason.END
    return Reason.REMOVED


# -- the two entry points ---------------------------------------------------


def poll_failed(state: UserRuleState, now: datetime) -> UserRuleState:
    """A poll at ``now`` did not read the calendar: remember the gap (R3, R4)."""
    _check_order(state, _aware_utc(now))
    return replace(state, missed_poll=True)


class StepResult(NamedTuple):
    """What one successful poll gives: the new state, the commands to send (at most
    one), and a decision for every appointment read (and for each that vanished
    while it still mattered), in the order the read listed them."""

    state: UserRuleState
    commands: list[Command]
    decisions: list[Decision]


_DEFAULTS = Settings()
_DEFAULT_USER = User()


def step(
    state: UserRuleState,
    appointments: Iterable[Appointment],
    now: datetime,
    *,
    current_presence: CurrentPresence | None,
    settings: RuleSettings = _DEFAULTS,
    user: RuleUser = _DEFAULT_USER,
) -> StepResult:
    """One successful poll at ``now`` (PBX clock) that read ``appointments``.

    ``current_presence`` is the user's presence on the PBX right before this poll's
    commands. Returns the new state, the commands to send, in order (at most one),
    and the decisions behind them (``integration.decisions``).
    """
    now = _aware_utc(now)
    _check_order(state, now)
    table = keywords.table_for(user.language)
    rows: dict[str, Appointment] = {}
    for appointment in appointments:
        if appointment.id in rows:
            raise ValueError(f"appointment id {appointment.id!r} appears twice in one read")
        rows[appointment.id] = appointment
    matches = {key: table.match(a.subject) for key, a in rows.items()}  # R5
    # A cancelled meeting stays in the calendar but sets nothing (R11: as if deleted).
    statuses = {
        key: m.status if m and not rows[key].cancelled else None for key, m in matches.items()
    }

    owned = state.engine_presence
    before = dict(state.tracked)
    if (
        owned is not None
        and current_presence is not None
        and _manually_changed(owned, current_presence)  # R8
    ):
        change = ManualChange(now, current_presence.status, current_presence.set_by)
        before = {
            key: replace(t, phase=Phase.OVERRIDDEN, manual=change)
            if t.phase is Phase.STARTED
            else t
            for key, t in before.items()
        }
        owned = None

    # R4, R10, R11: take in the latest versions; rows no longer read are deleted.
    tracked = {
        key: _observe(before.get(key), a, now, state, settings.lead_time) for key, a in rows.items()
    }
    adopted: str | None = None
    orphan: CurrentPresence | None = None  # the engine's presence nothing explains
    if state.last_poll is None and owned is None:
        owned = _adopt(tracked, statuses, current_presence, now)
        adopted = owned.appointment_id if owned is not None else None
        if owned is None and _engine_set(current_presence):
            orphan = current_presence

    started_now: dict[str, Reason] = {}
    for key, t in tracked.items():
        tracked[key], reason = _advance(t, statuses[key], now, state.last_poll, settings.catch_up)
        if reason is not None:
            started_now[key] = reason

    shown = _shown(t for t in tracked.values() if t.phase is Phase.STARTED)  # R9
    previous = owned
    commands: list[Command] = []
    if shown is None:
        if orphan is not None and user.auto_back_to_office:  # restart: its appointment went
            commands.append(ReturnToOffice(Reason.END))
        if owned is not None:
            if user.auto_back_to_office:  # R7 (R11: deleted or shortened while active)
                reason = _end_reason(owned.appointment_id, state.tracked, tracked, now)
                commands.append(ReturnToOffice(reason, owned.appointment_id))
            owned = None  # without auto back the presence stays; the PBX extends it
    else:
        a = shown.appointment
        status = statuses[a.id]
        assert status is not None  # STARTED implies a keyword (_advance)
        wanted = EnginePresence(status, a.end, a.id)  # R6: return time = end
        if wanted != owned:
            if a.id in started_now:
                reason = started_now[a.id]  # R3 (R9: the later start wins)
            elif owned is not None and owned.appointment_id == a.id:
                reason = Reason.CHANGED
            else:
                reason = Reason.RESUME  # R9
            commands.append(SetPresence(status, a.end, reason, a.id))
            owned = wanted

    new_state = UserRuleState(
        tracked=tracked, last_poll=now, missed_poll=False, engine_presence=owned
    )
    trace = PollTrace(
        now, state, settings, user, shown, previous, commands, adopted, current_presence
    )
    decisions = [trace.decide(tracked[key], matches[key], started_now.get(key)) for key in rows]
    if orphan is not None and shown is None:
        decisions.append(trace.orphaned(orphan))
    for key, gone in state.tracked.items():
        if key not in rows and (decision := trace.vanished(gone)) is not None:
            decisions.append(decision)
    return StepResult(new_state, commands, decisions)
