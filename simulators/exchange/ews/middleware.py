"""The request journal and fault injection: WSGI middleware around a front end.

The journal records every request a service answered (method, path, operation,
mailbox, status, fault code, time on the scenario clock); scenario tests count
polls with it, e.g. ``journal.entries(operation="FindItem", mailbox=...)``.

Fault injection makes a service misbehave for a window of scenario time: while a
window is active, ``unavailable`` answers 503 as IIS does when the application
pool is down, and ``busy`` answers the EWS ErrorServerBusy fault with the
back-off until the window ends. Windows are checked per request against the
clock, so a frozen, stepped clock opens and closes them without timers.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.clock import utc_now
from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.exchange.ews.errors import EwsFault, fault_document

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ClockFn = Callable[[], datetime]

log = logging.getLogger(__name__)

_INTERNAL_ERROR = b"Internal Server Error"
OPERATION_KEY = "harness.operation"
IMPERSONATED_KEY = "harness.impersonated"
FAULT_KEY = "harness.fault"  # the fault or per-request error code the service answered


@dataclass(frozen=True)
class JournalEntry:
    at: datetime
    service: str
    method: str
    path: str
    status: int
    operation: str | None = None
    mailbox: str | None = None  # impersonated mailbox, else the first mailbox touched
    impersonated: str | None = None
    account: str | None = None  # the authenticated account (UPN)
    fault: str | None = None
    body: bytes | None = field(default=None, repr=False)


class RequestJournal:
    """Thread-safe, bounded record of answered requests."""

    def __init__(
        self, clock: ClockFn = utc_now, keep_bodies: bool = False, limit: int = 100_000
    ) -> None:
        self.clock = clock
        self.keep_bodies = keep_bodies
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        *,
        service: str | None = None,
        operation: str | None = None,
        mailbox: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first (``until`` exclusive)."""
        wanted = mailbox.lower() if mailbox else None
        with self._lock:
            snapshot = list(self._entries)
        return [
            e
            for e in snapshot
            if (service is None or e.service == service)
            and (operation is None or e.operation == operation)
            and (wanted is None or e.mailbox == wanted)
            and (status is None or e.status == status)
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
        ]

    def count(self, **filters: Any) -> int:
        return len(self.entries(**filters))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Journaled:
    """Record each request of ``service`` after it has been answered.

    Also the last line of defence: an exception escaping the service becomes a
    plain 500 (logged), never a traceback on the wire.
    """

    def __init__(self, app: WsgiApp, journal: RequestJournal, service: str) -> None:
        self.app = app
        self.journal = journal
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        at = self.journal.clock()
        seen: list[str] = []

        def recording_start(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            seen.append(status)
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        try:
            result = self.app(environ, recording_start)
            try:
                chunks = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            # A bug must not reach the client as a traceback (or a dropped connection).
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            if seen:
                raise
            environ[FAULT_KEY] = "InternalServerError"
            chunks = [_INTERNAL_ERROR]
            recording_start(
                "500 Internal Server Error",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(_INTERNAL_ERROR)))],
            )
        account = environ.get(ACCOUNT_KEY)
        impersonated = environ.get(IMPERSONATED_KEY)
        self.journal.record(
            JournalEntry(
                at=at,
                service=self.service,
                method=environ.get("REQUEST_METHOD", ""),
                path=environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                status=int(seen[0].split(" ", 1)[0]) if seen else 0,
                operation=environ.get(OPERATION_KEY),
                mailbox=impersonated or environ.get(MAILBOX_TARGET_KEY),
                impersonated=impersonated,
                account=account.upn if account is not None else None,
                fault=environ.get(FAULT_KEY),
                body=b"".join(chunks) if self.journal.keep_bodies else None,
            )
        )
        return chunks


# -------------------------------------------------------------- faults
FAULT_KINDS = ("unavailable", "busy")

_UNAVAILABLE_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">'
    b'\r\n<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n<META HTTP-EQUIV="Content-Type" '
    b'Content="text/html; charset=us-ascii"></HEAD>\r\n<BODY><h2>Service Unavailable</h2>\r\n'
    b"<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n"
)


@dataclass(frozen=True)
class FaultWindow:
    service: str
    kind: str
    start: datetime
    end: datetime

    def covers(self, service: str, at: datetime) -> bool:
        return self.service == service and self.start <= at < self.end


class FaultInjector:
    """Windows of scenario time in which a service misbehaves."""

    def __init__(self, clock: ClockFn = utc_now) -> None:
        self.clock = clock
        self._windows: list[FaultWindow] = []
        self._lock = threading.Lock()

    def add(
        self,
        service: str,
        kind: str,
        duration: timedelta,
        start: datetime | None = None,
    ) -> FaultWindow:
        """Misbehave from ``start`` (default: now) for ``duration``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if duration <= timedelta():
            raise ValueError("a fault window needs a positive duration")
        begin = start or self.clock()
        window = FaultWindow(service, kind, begin, begin + duration)
        with self._lock:
            self._windows.append(window)
        return window

    def unavailable(
        self, service: str, duration: timedelta, start: datetime | None = None
    ) -> FaultWindow:
        return self.add(service, "unavailable", duration, start)

    def active(self, service: str, at: datetime | None = None) -> FaultWindow | None:
        moment = at or self.clock()
        with self._lock:
            for window in self._windows:
                if window.covers(service, moment):
                    return window
        return None

    def windows(self) -> list[FaultWindow]:
        with self._lock:
            return list(self._windows)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


class FaultInjecting:
    """Answer for ``service`` from the active fault window, if any."""

    def __init__(self, app: WsgiApp, injector: FaultInjector, service: str) -> None:
        self.app = app
        self.injector = injector
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        now = self.injector.clock()
        window = self.injector.active(self.service, now)
        if window is None:
            return self.app(environ, start_response)
        retry = max(int((window.end - now).total_seconds()), 1)
        if window.kind == "busy":
            back_off_ms = max(int((window.end - now).total_seconds() * 1000), 1)
            fault = EwsFault("ErrorServerBusy", values={"BackOffMilliseconds": str(back_off_ms)})
            body = fault_document(fault)
            environ[FAULT_KEY] = fault.code
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        environ[FAULT_KEY] = "ServiceUnavailable"
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/html; charset=us-ascii"),
                ("Retry-After", str(retry)),
                ("Content-Length", str(len(_UNAVAILABLE_PAGE))),
            ],
        )
        return [_UNAVAILABLE_PAGE]
