"""The plain appointment record every calendar source produces.

The EWS and WebDAV readers turn one calendar view (recurring series already expanded
into occurrences, R2/R10) into a list of ``Appointment`` rows; the presence rules
(``integration.rules``) read nothing else. Times are the instants Exchange reports,
normalised to aware UTC, never corrected for clock skew (R13).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

AppointmentKind = Literal["single", "occurrence", "exception"]
APPOINTMENT_KINDS: frozenset[str] = frozenset(get_args(AppointmentKind))


def _utc(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"Appointment.{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Appointment.{name} must be timezone-aware, got naive {value}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Appointment:
    """One calendar row: a single appointment or one occurrence of a series.

    ``id`` is unique per row: each occurrence of a series carries its own id (R10),
    so a moved or deleted occurrence affects only itself. ``created`` and
    ``modified`` are Exchange's stamps (Exchange clock) when the source has them.
    ``busy_status`` is passed through as the source spells it; the rules ignore it.
    A meeting (``is_meeting``) carries the mailbox owner's ``response`` as EWS spells
    it (``Accept``, ``Tentative``, ``NoResponseReceived``, ``Organizer``); the rules
    ignore it too. ``cancelled``: the organizer cancelled it and Exchange kept it in
    the calendar, marked cancelled (the rules treat it as gone, R11).
    """

    id: str
    subject: str
    start: datetime
    end: datetime
    all_day: bool = False
    created: datetime | None = None
    modified: datetime | None = None
    kind: AppointmentKind = "single"
    busy_status: str | None = None
    is_meeting: bool = False
    response: str | None = None
    cancelled: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Appointment.id must not be empty")
        # Normalise every instant to UTC so that rows from either source compare equal.
        object.__setattr__(self, "start", _utc("start", self.start))
        object.__setattr__(self, "end", _utc("end", self.end))
        if self.created is not None:
            object.__setattr__(self, "created", _utc("created", self.created))
        if self.modified is not None:
            object.__setattr__(self, "modified", _utc("modified", self.modified))
        if self.end < self.start:
            raise ValueError(
                f"Appointment {self.id!r} ends ({self.end}) before it starts ({self.start})"
            )
        if self.kind not in APPOINTMENT_KINDS:
            raise ValueError(
                f"Appointment.kind must be one of {sorted(APPOINTMENT_KINDS)}, got {self.kind!r}"
            )

    @property
    def last_changed(self) -> datetime | None:
        """The latest Exchange stamp we have: ``modified``, else ``created``."""
        return self.modified if self.modified is not None else self.created
