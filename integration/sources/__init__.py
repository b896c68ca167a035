"""Calendar sources: how the engine reads Exchange calendars (EWS, WebDAV).

``base`` holds the protocol and the error classes every source raises; each
protocol lives in its own module and is imported from there.
"""

from integration.sources.base import (
    AccessDenied,
    CalendarSource,
    MailboxNotFound,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)

__all__ = [
    "AccessDenied",
    "CalendarSource",
    "MailboxNotFound",
    "SourceError",
    "SourceProtocolError",
    "SourceUnavailable",
]
