"""The request journal: WSGI middleware around a front end.

The journal records every request a service answered (method, path, operation,
mailbox, status, fault code, the injected fault, time on the scenario clock);
scenario tests count polls with it, e.g. ``journal.entries(operation="FindItem",
mailbox=...)``. Fault injection is ``simulators.faults`` (the catalogue, its
triggers and the appliers); a request a fault acted on names it in ``injected``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.clock import utc_now
from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.faults.injector import INJECTED_KEY, FaultInjector
from simulators.wsgi_server import WIRE_KEY

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
    injected: str | None = None  # the fault of the catalogue that acted (service:kind)


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
        wire = environ.get(WIRE_KEY)
        if wire is not None and wire.action in ("hold", "reset"):
            seen[:] = ["0 No answer"]  # nothing reached the client
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
                injected=environ.get(INJECTED_KEY),
            )
        )
        return chunks


__all__ = [
    "FAULT_KEY",
    "IMPERSONATED_KEY",
    "OPERATION_KEY",
    "FaultInjector",
    "JournalEntry",
    "Journaled",
    "RequestJournal",
]
