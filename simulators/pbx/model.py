"""What the fake PBX is made of: users, presence, journal entries, calls, voicemails.

Plain records with their own validation and no behaviour; ``simulators.pbx.pbx``
changes them. Every time is a timezone-aware instant. Validation failures are
``InvalidInput`` naming the field, so the HTTP API can answer 400 with that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from simulators.pbx.voicemail import message_wav

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de")

_EXTENSION = re.compile(r"^[0-9]{1,15}$")
_MOBILE = re.compile(r"^\+?[0-9][0-9 ]{1,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Status(StrEnum):
    """The presence statuses of OpenScape Business (contract R5's targets)."""

    OFFICE = "office"
    MEETING = "meeting"
    SICK = "sick"
    BREAK = "break"
    OUT_OF_OFFICE = "out_of_office"
    VACATION = "vacation"
    LUNCH = "lunch"
    GONE_HOME = "gone_home"


class PbxError(Exception):
    """Anything the PBX refuses; ``field`` names the offending input, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class InvalidInput(PbxError):
    """A value that is not acceptable (wrong type, unknown status, naive time ...)."""


class UnknownUser(PbxError):
    """No user has that extension (or voicemail that id)."""


class Conflict(PbxError):
    """The change clashes with existing data (extension or e-mail already taken)."""


def parse_status(value: object, field: str = "status") -> Status:
    """``value`` as a ``Status``; ``InvalidInput`` listing the statuses otherwise."""
    if isinstance(value, Status):
        return value
    if isinstance(value, str):
        try:
            return Status(value)
        except ValueError:
            pass
    allowed = ", ".join(s.value for s in Status)
    raise InvalidInput(f"must be one of {allowed}, not {value!r}", field)


def require_aware(value: datetime | None, field: str) -> datetime | None:
    """Refuse naive datetimes: the PBX never guesses a timezone."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidInput("needs a timezone (UTC offset)", field)
    return value


@dataclass(frozen=True)
class User:
    """A PBX subscriber as the admin screens show it.

    ``email`` joins the user to an Exchange mailbox (R1); ``language`` is the
    voicemail language, which picks the keyword table (R5) and the announcement
    (R14). ``forward_to_mobile`` holds the statuses whose calls go to ``mobile``
    instead of voicemail.
    """

    extension: str
    name: str
    email: str | None = None
    language: str = "en"
    auto_back_to_office: bool = False
    calendar_integration: bool = True
    mobile: str | None = None
    forward_to_mobile: frozenset[Status] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.extension, str) or not _EXTENSION.match(self.extension):
            raise InvalidInput("must be 1 to 15 digits", "extension")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput("must be a non-empty string", "name")
        if self.email is not None and (
            not isinstance(self.email, str) or not _EMAIL.match(self.email)
        ):
            raise InvalidInput(f"not an e-mail address: {self.email!r}", "email")
        if self.language not in SUPPORTED_LANGUAGES:
            raise InvalidInput(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}", "language")
        for name in ("auto_back_to_office", "calendar_integration"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput("must be true or false", name)
        if self.mobile is not None and (
            not isinstance(self.mobile, str) or not _MOBILE.match(self.mobile)
        ):
            raise InvalidInput(f"not a phone number: {self.mobile!r}", "mobile")
        statuses = frozenset(parse_status(s, "forward_to_mobile") for s in self.forward_to_mobile)
        object.__setattr__(self, "forward_to_mobile", statuses)


@dataclass(frozen=True)
class Presence:
    """A user's presence: status, expected return, who set it and since when.

    ``since`` is when the status began; ``set_by`` is who last set the presence.
    The PBX's own 15-minute extension (R7) moves ``return_time`` but leaves
    ``set_by`` and ``since`` alone, so the sync engine still recognises the
    presence it set (R8); ``extensions`` counts those moves since the last set.
    """

    status: Status
    return_time: datetime | None
    set_by: str
    since: datetime
    extensions: int = 0


@dataclass(frozen=True)
class JournalEntry:
    """One change of one user's presence.

    ``cause`` is ``"set"`` (someone set the presence, ``set_by`` says who) or
    ``"extension"`` (the PBX moved the return time; ``set_by`` is ``"pbx"``).
    ``at`` is the instant the change took effect; for an extension, the instant
    it was due, whenever it was computed.
    """

    seq: int
    at: datetime
    user: str
    old_status: Status
    new_status: Status
    old_return_time: datetime | None
    return_time: datetime | None
    set_by: str
    cause: str
    reason: str

    @property
    def is_transition(self) -> bool:
        """A status change; a moved return time alone is not one."""
        return self.old_status != self.new_status


@dataclass(frozen=True)
class Voicemail:
    """A message left on a user's voicemail box; ``audio`` is its WAV file.

    The recording is made from the length when it is asked for, not kept: a
    600-second message is 9.6 MB of WAV, and a PBX that kept every one grew by that
    for each call (124 MB for ten)."""

    id: int
    extension: str
    caller: str
    at: datetime
    duration_seconds: float
    announcement: str

    @property
    def audio(self) -> bytes:
        return message_wav(self.duration_seconds)


@dataclass(frozen=True)
class CallResult:
    """Where a call went (R14) and what the caller heard.

    ``routed_to`` is ``"extension"`` (it rings), ``"voicemail"`` or ``"mobile"``;
    ``destination`` is the extension, the mailbox's extension or the mobile
    number. ``announcement`` is None when the call simply rings.
    """

    to: str
    caller: str
    at: datetime
    status: Status
    return_time: datetime | None
    routed_to: str
    destination: str
    language: str
    announcement: str | None
    voicemail: Voicemail | None = None


@dataclass(frozen=True)
class PresenceState:
    """What the PBX remembers of its users' presence, to be kept across a restart:
    each user's presence, the instant of their last change (the floor of the R7
    extensions) and the journal, oldest first. Users are the PBX's own (its directory
    is not part of it)."""

    presence: dict[str, Presence]
    last_change: dict[str, datetime]
    journal: tuple[JournalEntry, ...]
