"""One engine decision as one sentence a support engineer understands.

``sentence(decision, clock)`` turns an ``integration.decisions.Decision`` into
plain words that name the rule, e.g. ``'Lunch' was first seen at 11:58:30, 1:30
before its start: ignored for good by the 3-minute rule (R4)``. ``Clock`` writes
instants in the scenario's time zone (the date only when it is not the day of
the poll), durations as ``m:ss`` or ``h:mm:ss``. When the PBX clock is not the
scenario clock (``pbx:`` skew or wall time, R13), ``Clock.poll`` writes a poll's
time on both clocks and the sentences where that clock decides (a start or end
minute) say so. ``SENTENCES`` is the table from verdict to the function that
words it; nothing here reads a clock or a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from integration import keywords
from integration.decisions import Decision, Verdict


@dataclass(frozen=True)
class Clock:
    """How times are written: local to ``zone``, dates left out on ``day``."""

    zone: tzinfo
    day: date | None = None
    # PBX clock reading -> scenario instant, when the two differ (None: they agree).
    pbx_true: Callable[[datetime], datetime] | None = None

    def at(self, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        if self.day is not None and local.date() == self.day:
            return local.strftime("%H:%M:%S")
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def minute(self, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        if self.day is not None and local.date() == self.day:
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")

    def on(self, instant: datetime) -> Clock:
        """The same clock, leaving out the date of ``instant``."""
        return dataclasses.replace(self, day=instant.astimezone(self.zone).date())

    def pbx_offset(self, reading: datetime) -> timedelta | None:
        """PBX clock minus scenario clock at a PBX reading; None when they agree."""
        if self.pbx_true is None:
            return None
        offset = reading - self.pbx_true(reading)
        return offset or None

    def poll(self, reading: datetime) -> str:
        """A poll's time: its PBX clock reading, and the scenario's when they differ."""
        offset = self.pbx_offset(reading)
        if offset is None:
            return self.at(reading)
        assert self.pbx_true is not None
        way = "ahead" if offset > timedelta(0) else "behind"
        return (
            f"{self.at(reading)} on the PBX clock ({self.at(self.pbx_true(reading))} "
            f"scenario time: the PBX clock is {duration(abs(offset.total_seconds()))} {way})"
        )

    def by_pbx(self) -> str:
        """`` by the PBX clock`` when that clock is not the scenario's, else nothing."""
        return " by the PBX clock" if self.pbx_true is not None else ""


def duration(seconds: float) -> str:
    """``90`` -> ``1:30``; ``3725`` -> ``1:02:05``; negative with a minus sign."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def _name(d: Decision) -> str:
    return f"all-day '{d.subject}'" if d.all_day else f"'{d.subject}'"


def _until(d: Decision, clock: Clock) -> str:
    return f"{d.status} until {clock.at(d.end)}"


def _rule_name(d: Decision) -> str:
    if d.lead_time == 180:
        return "the 3-minute rule (R4)"
    return f"the 3-minute rule (R4, lead time {duration(d.lead_time)})"


def _first_seen(d: Decision, clock: Clock) -> str:
    """Where R4's reference came from, and how far ahead of the start it was."""
    if d.first_seen is None:
        return "is older than anything the engine knows (no Exchange stamp at its first poll)"
    ahead = d.ahead or 0.0
    distance = f"{duration(ahead)} before its start" if ahead >= 0 else "after its start"
    if d.dated_after_gap:
        return (
            f"was first seen after a gap in polling and dated to {clock.at(d.first_seen)} "
            f"(the later of the last good poll and its Exchange stamp), {distance}"
        )
    return f"was first seen at {clock.at(d.first_seen)}{clock.by_pbx()}, {distance}"


def _last_poll(d: Decision, clock: Clock) -> str:
    if d.last_good_poll is None:
        return "the engine had not polled yet"
    return f"last good poll {clock.at(d.last_good_poll)}"


def _left(d: Decision) -> str:
    """What happened to presence when an appointment that was shown went."""
    if d.back_to_office is True:
        return ": presence back to office (auto back to office)"
    if d.back_to_office is False:
        return (
            ": without auto back to office presence stays, and the PBX moves the return "
            "time on by 15 minutes each time it is reached"
        )
    return ""


def _waiting(d: Decision, c: Clock) -> str:
    if d.all_day:
        when = f"at the first successful poll from {c.at(d.start)}, its day's start (R12)"
    else:
        when = f"at the first poll in its start minute {c.minute(d.start)}{c.by_pbx()} (R3)"
    return f"{_name(d)} {_first_seen(d, c)}: honoured by {_rule_name(d)}; it sets {d.status} {when}"


def _ignored(d: Decision, c: Clock) -> str:
    text = f"{_name(d)} {_first_seen(d, c)}: ignored for good by {_rule_name(d)}"
    if d.presence_set_by is not None:
        text += (
            f"; the PBX already shows {d.status}, set by {d.presence_set_by}: that presence "
            "is theirs (the client wrote this appointment as it set it), the engine leaves it"
        )
    return text


def _no_keyword(d: Decision, c: Clock) -> str:
    try:
        table = keywords.table_for(d.language)
        known = ", ".join(table.keywords)
        language = table.language
    except LookupError:
        known, language = "none", d.language
    return (
        f"{_name(d)} holds no keyword of the user's language {language} ({known}): "
        "it never changes presence (R5)"
    )


def _set(d: Decision, c: Clock) -> str:
    if d.all_day:
        return (
            f"{_name(d)} began at {c.at(d.start)} and this is the first successful poll of "
            f"its day ({_last_poll(d, c)}): presence set to {_until(d, c)} (R12, whatever "
            "the poll interval or catch-up)"
        )
    return (
        f"{_name(d)} starts in this minute ({c.minute(d.start)}){c.by_pbx()}: presence set "
        f"to {_until(d, c)} (R3)"
    )


def _caught_up(d: Decision, c: Clock) -> str:
    return (
        f"{_name(d)} started at {c.at(d.start)} while no poll succeeded ({_last_poll(d, c)}); "
        f"catch-up is on and it is still in progress: presence set to {_until(d, c)} "
        f"({d.rule} catch-up)"
    )


def _shown(d: Decision, c: Clock) -> str:
    return f"{_name(d)} is shown: {_until(d, c)} (R6: the return time is its end)"


def _resumed(d: Decision, c: Clock) -> str:
    return f"{_name(d)} is shown again now that the later one has gone: {_until(d, c)} (R9)"


def _changed(d: Decision, c: Clock) -> str:
    return f"{_name(d)} changed while shown: presence follows, {_until(d, c)} (R5/R6)"


def _standing_by(d: Decision, c: Clock) -> str:
    over = f"'{d.under_subject}'" if d.under_subject is not None else "a later appointment"
    return (
        f"{_name(d)} is in progress, but {over} started later and is shown: it stands by "
        "and is shown again if that one ends first (R9)"
    )


def _missed(d: Decision, c: Clock) -> str:
    return (
        f"{_name(d)}: its start minute {c.minute(d.start)} passed without a successful poll "
        f"({_last_poll(d, c)}) and catch-up is off: it does not set presence (R3)"
    )


def _passed(d: Decision, c: Clock) -> str:
    if d.all_day:
        return (
            f"{_name(d)}: the first poll of its day (from {c.at(d.start)}) saw it without a "
            "keyword: it is not set later (R12)"
        )
    return (
        f"{_name(d)}: its start minute {c.minute(d.start)} had a poll at which it did not set "
        "presence (it had no keyword then): it is not set later (R3)"
    )


def _too_short(d: Decision, c: Clock) -> str:
    return (
        f"{_name(d)} ends ({c.at(d.end)}) before a poll could set it in its start minute: "
        "it never sets presence (R7)"
    )


def _overridden(d: Decision, c: Clock) -> str:
    m = d.manual
    if m is None:
        change = "presence was changed by someone else"
    else:
        by = f" by {m.set_by}" if m.set_by else ""
        change = f"presence was changed to {m.status}{by} (noticed at {c.at(m.noticed_at)})"
    return (
        f"{_name(d)}: {change} after the engine set it: the engine leaves it alone, no "
        "set back and no return to office at its end (R8)"
    )


def _ended(d: Decision, c: Clock) -> str:
    if d.manual is not None:
        by = f" by {d.manual.set_by}" if d.manual.set_by else ""
        return (
            f"{_name(d)} ended at {c.at(d.end)}; presence had been changed to "
            f"{d.manual.status}{by} (noticed at {c.at(d.manual.noticed_at)}) after the engine "
            "set it, so the engine left it alone: no return to office (R8)"
        )
    return f"{_name(d)} ended at {c.at(d.end)}{c.by_pbx()}{_left(d)} (R7)"


def _removed(d: Decision, c: Clock) -> str:
    if d.keyword_lost:
        return f"{_name(d)} lost its keyword while shown: it ends now{_left(d)} (R11)"
    return (
        f"{_name(d)} is gone from the calendar read (deleted, or moved away) before its "
        f"end{_left(d)} (R11)"
    )


def _cancelled(d: Decision, c: Clock) -> str:
    held = f" though its subject holds the keyword {d.keyword}" if d.keyword else ""
    if d.back_to_office is not None:
        return (
            f"{_name(d)} was cancelled by its organizer while shown (Exchange keeps it in the "
            f"calendar, marked cancelled): it ends now{_left(d)} (R11)"
        )
    return (
        f"{_name(d)} is a cancelled meeting (Exchange keeps it in the calendar, marked "
        f"cancelled): it never sets presence{held} (R11)"
    )


def _orphaned(d: Decision, c: Clock) -> str:
    shown = f"{d.status} until {c.at(d.end)}" if d.end > d.start else str(d.status)
    return (
        f"the PBX shows {shown}, set by the engine before this (new) engine process, and no "
        "appointment in progress has that status: its appointment ended or went while the "
        f"engine was down{_left(d)} (R7)"
    )


SENTENCES: dict[Verdict, Callable[[Decision, Clock], str]] = {
    Verdict.WAITING: _waiting,
    Verdict.IGNORED: _ignored,
    Verdict.NO_KEYWORD: _no_keyword,
    Verdict.SET: _set,
    Verdict.CAUGHT_UP: _caught_up,
    Verdict.SHOWN: _shown,
    Verdict.RESUMED: _resumed,
    Verdict.CHANGED: _changed,
    Verdict.STANDING_BY: _standing_by,
    Verdict.MISSED: _missed,
    Verdict.PASSED: _passed,
    Verdict.TOO_SHORT: _too_short,
    Verdict.OVERRIDDEN: _overridden,
    Verdict.ENDED: _ended,
    Verdict.REMOVED: _removed,
    Verdict.ORPHANED: _orphaned,
    Verdict.CANCELLED: _cancelled,
}


def sentence(decision: Decision, clock: Clock) -> str:
    """``decision`` in one sentence, times written by ``clock``."""
    return SENTENCES[decision.verdict](decision, clock)


def short(decision: Decision) -> str:
    """A few words for a decision that did not change since the previous poll."""
    return f"'{decision.subject}': {decision.verdict.replace('_', ' ')} ({decision.rule})"
