"""What the engine asks of a calendar source, and how a failed read is classified.

A source (EWS, WebDAV) reads one mailbox's calendar over a window and returns plain
``Appointment`` records; the scheduler never sees XML or HTTP. When a read fails, the
error class says what the scheduler should do about it:

- ``MailboxNotFound``: the PBX user's address has no mailbox; skip and report (R1).
- ``AccessDenied``: the service account may not read it (impersonation or FullAccess
  missing, or its own credentials refused); report, the admin must act.
- ``SourceUnavailable``: Exchange could not answer now (refused, timeout, 5xx,
  ErrorServerBusy); retry at the next poll.
- ``SourceProtocolError``: Exchange answered something the engine does not
  understand; report with the server's words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from integration.appointments import Appointment


class SourceError(Exception):
    """A failed calendar read, with the mailbox and the server's own code and words."""

    def __init__(self, message: str, *, mailbox: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.mailbox = mailbox
        self.code = code  # e.g. the EWS ResponseCode or "HTTP 503"

    def __str__(self) -> str:
        prefix = f"{self.mailbox}: " if self.mailbox else ""
        suffix = f" ({self.code})" if self.code and self.code not in self.message else ""
        return f"{prefix}{self.message}{suffix}"


class MailboxNotFound(SourceError):
    """The mailbox (or its calendar) does not exist."""


class AccessDenied(SourceError):
    """The service account may not read this mailbox, or may not log in at all."""


class SourceUnavailable(SourceError):
    """Exchange could not be reached or could not answer now; worth retrying."""

    def __init__(
        self,
        message: str,
        *,
        mailbox: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, mailbox=mailbox, code=code)
        self.retry_after = retry_after  # seconds, when the server said (BackOffMilliseconds)


class SourceProtocolError(SourceError):
    """Exchange's answer was not what the protocol promises."""


@runtime_checkable
class CalendarSource(Protocol):
    """Reads calendars; one instance serves every mailbox, concurrently."""

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments of ``mailbox`` overlapping ``[start, end)`` (aware datetimes),
        recurring series expanded into occurrences. Raises a ``SourceError``."""
        ...
