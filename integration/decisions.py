"""What the rules decided about each appointment at one poll, as data.

``rules.step`` returns, beside its commands, one ``Decision`` for every appointment
it read (and for one that vanished from the read while it mattered). A decision
names its verdict, the rule that gave it and the facts the rule weighed (when the
appointment was first seen, its keyword, who changed presence by hand), so that
a person can be told *why* without reading the engine. The data is plain and
cheap: the real-time engine builds it at every poll; turning it into sentences
is for the outputs (``scenarios.explain``), not for the engine.

``VERDICT_RULES`` is the table from verdict to rule id; a decision's ``rule`` is
that entry except where the facts name another rule (an all-day event, R12; a
later start winning, R9; a keyword lost while shown, R11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Verdict(StrEnum):
    """Where one appointment stands after a poll, in the words of the rules."""

    WAITING = "waiting"  # honoured by R4, its start minute not reached yet
    IGNORED = "ignored"  # R4: first seen less than lead_time before its start; for good
    NO_KEYWORD = "no_keyword"  # R5: the subject holds no keyword of the user's language
    SET = "set"  # R3: this poll is in its start minute, presence set now
    CAUGHT_UP = "caught_up"  # R3: start minute missed, catch-up on: set now
    SHOWN = "shown"  # its presence is the one shown (set at an earlier poll)
    RESUMED = "resumed"  # R9: shown again now that a later one ended
    CHANGED = "changed"  # R5/R6: shown, and its keyword or end changed: presence follows
    STANDING_BY = "standing_by"  # R9: in progress under a later start
    MISSED = "missed"  # R3: its start minute had no successful poll, catch-up off
    PASSED = "passed"  # R3: its start minute had a poll that did not set it; never later
    TOO_SHORT = "too_short"  # R7: its end minute came before it could start
    OVERRIDDEN = "overridden"  # R8: presence changed by someone else; hands off
    ENDED = "ended"  # R7: its end minute reached (first poll at or after it)
    REMOVED = "removed"  # R11: deleted, moved away or lost its keyword while it mattered
    CANCELLED = "cancelled"  # R11: a cancelled meeting kept in the calendar: as deleted
    # Engine restart: the PBX shows a presence the engine set that no appointment in
    # progress explains (its appointment ended or went while the engine was down).
    ORPHANED = "orphaned"


VERDICT_RULES: dict[Verdict, str] = {
    Verdict.WAITING: "R4",
    Verdict.IGNORED: "R4",
    Verdict.NO_KEYWORD: "R5",
    Verdict.SET: "R3",
    Verdict.CAUGHT_UP: "R3",
    Verdict.SHOWN: "R6",
    Verdict.RESUMED: "R9",
    Verdict.CHANGED: "R6",
    Verdict.STANDING_BY: "R9",
    Verdict.MISSED: "R3",
    Verdict.PASSED: "R3",
    Verdict.TOO_SHORT: "R7",
    Verdict.OVERRIDDEN: "R8",
    Verdict.ENDED: "R7",
    Verdict.REMOVED: "R11",
    Verdict.ORPHANED: "R7",
    Verdict.CANCELLED: "R11",
}


@dataclass(frozen=True, slots=True)
class ManualChange:
    """R8: the presence the PBX showed when the engine noticed someone else's change."""

    noticed_at: datetime  # the poll that noticed it (PBX clock)
    status: str
    set_by: str | None  # who the PBX says set it (None: not said)


@dataclass(frozen=True, slots=True)
class Decision:
    """One appointment's verdict at one poll, with the facts behind it.

    ``first_seen`` is the R4 reference (the poll that first saw this start, or after
    a gap in polling the instant the appointment is dated to); ``dated_after_gap``
    says which. ``keyword``/``status`` are R5's match (None: no keyword).
    ``presence``/``return_time`` is what this appointment asks the PBX for when it
    is shown or set. ``under`` names the appointment whose presence is shown over
    this one (R9); ``manual`` the change that made the engine let go (R8).
    ``back_to_office`` tells, for ENDED and REMOVED, whether presence went back to
    office (auto back to office) or was left to the PBX.
    """

    appointment_id: str
    subject: str
    start: datetime
    end: datetime
    verdict: Verdict
    rule: str
    all_day: bool = False
    language: str = ""
    keyword: str | None = None
    status: str | None = None
    first_seen: datetime | None = None
    dated_after_gap: bool = False
    lead_time: float = 0.0  # seconds, the R4 threshold in force
    last_good_poll: datetime | None = None  # before this poll (R3 catch-up facts)
    catch_up: bool = False
    under: str | None = None  # R9: id of the appointment shown over this one
    under_subject: str | None = None
    manual: ManualChange | None = None
    back_to_office: bool | None = None
    keyword_lost: bool = False  # R11: it lost its keyword while shown
    # IGNORED: the PBX already shows this appointment's status, set by someone other
    # than the engine (the client that wrote the appointment as it set presence).
    presence_set_by: str | None = None

    @property
    def ahead(self) -> float | None:
        """Seconds from ``first_seen`` to the start (R4's distance), or None."""
        if self.first_seen is None:
            return None
        return (self.start - self.first_seen).total_seconds()
