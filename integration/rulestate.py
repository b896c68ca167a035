"""The data of the presence rules: settings, commands, and what the engine remembers.

``integration.rules`` holds the transitions (``step``, ``poll_failed``) over these
records, ``integration.ruletrace`` the decision trace; both read nothing else.
Everything is immutable: a poll makes new records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from integration import keywords
from integration.appointments import Appointment
from integration.decisions import ManualChange, Verdict

OFFICE = "office"
ENGINE_SET_BY = "engine"  # the PBX's set_by for presence the engine set (R8)
DEFAULT_LEAD_TIME = timedelta(minutes=3)
MINUTE = timedelta(minutes=1)


class Reason(StrEnum):
    """Why a command was issued; the rule ids are in the comments."""

    START = "start"  # R3: first poll inside the start minute (R9: a later start wins)
    CATCH_UP = "catch_up"  # R3: start minute missed, catch-up on, still in progress
    ALL_DAY = "all_day"  # R12: an all-day event at the first successful poll since its start
    RESUME = "resume"  # R9: the shown appointment ended, an earlier one still runs
    CHANGED = "changed"  # R5/R6/R11: the shown appointment's keyword or end changed
    END = "end"  # R7: end minute reached (also shortened into the past, R11)
    REMOVED = "removed"  # R11: deleted, moved away or lost its keyword while shown


class Phase(StrEnum):
    """Where one appointment stands for the engine."""

    WAITING = "waiting"  # honoured by R4, its start minute not reached yet
    IGNORED = "ignored"  # R4: for good, unless its start moves
    STARTED = "started"  # set presence (or stands by under a later one, R9)
    OVERRIDDEN = "overridden"  # R8: someone else changed presence; hands off
    DONE = "done"  # ended, or its start minute passed without setting presence


@dataclass(frozen=True, slots=True)
class SetPresence:
    status: str
    return_time: datetime
    reason: Reason
    appointment_id: str


@dataclass(frozen=True, slots=True)
class ReturnToOffice:
    reason: Reason
    appointment_id: str | None = None
    status: str = OFFICE


Command = SetPresence | ReturnToOffice


@dataclass(frozen=True, slots=True)
class CurrentPresence:
    """What the PBX reports at the poll; ``set_by`` None when it does not say."""

    status: str
    return_time: datetime | None = None
    set_by: str | None = None


class RuleSettings(Protocol):
    """The polling settings the rules read (``integration.config.PollingConfig`` fits)."""

    @property
    def lead_time(self) -> timedelta: ...

    @property
    def catch_up(self) -> bool: ...


class RuleUser(Protocol):
    """The PBX user settings the rules read."""

    @property
    def language(self) -> str: ...

    @property
    def auto_back_to_office(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Settings:
    lead_time: timedelta = DEFAULT_LEAD_TIME
    catch_up: bool = False


@dataclass(frozen=True, slots=True)
class User:
    language: str = keywords.DEFAULT_LANGUAGE
    auto_back_to_office: bool = False


@dataclass(frozen=True, slots=True)
class Tracked:
    """One appointment as the engine knows it: latest version, R4 facts, phase, and
    for the decision trace why it is done and which manual change it gave way to."""

    appointment: Appointment
    seen_start: datetime  # the start R4 judged
    first_seen: datetime | None  # R4 reference; None: older than anything we know
    phase: Phase
    dated_after_gap: bool = False  # first_seen is a gap's dating, not a poll (R4)
    why: Verdict | None = None  # DONE: the verdict that ended it
    manual: ManualChange | None = None  # OVERRIDDEN: the change noticed (R8)
    missed_after: datetime | None = None  # MISSED: the last good poll before its start


@dataclass(frozen=True, slots=True)
class EnginePresence:
    """The presence the engine last set and still answers for."""

    status: str
    return_time: datetime
    appointment_id: str


@dataclass(frozen=True)
class UserRuleState:
    """Everything the engine remembers about one user between polls (treat as
    immutable; ``step`` returns a new one)."""

    tracked: Mapping[str, Tracked] = field(default_factory=dict)
    last_poll: datetime | None = None  # last successful poll (PBX clock)
    missed_poll: bool = False  # a poll failed since ``last_poll``
    engine_presence: EnginePresence | None = None

    @property
    def after_gap(self) -> bool:
        """The next poll follows a stretch the engine could not see."""
        return self.last_poll is None or self.missed_poll


def minute_of(instant: datetime) -> datetime:
    """The start of the minute holding ``instant`` (R3, R7)."""
    return instant.replace(second=0, microsecond=0)
