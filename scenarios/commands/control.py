"""The harness's control API beside the served simulators (``harness serve``).

A small JSON API for scripts and support staff, separate from the protocols the
fakes speak, so that nothing a real client sees changes:

    GET    /control/status                 -> {"services": {...}, "now": ISO}
    GET    /control/journal[?service=&operation=&mailbox=&since=ISO]
                                           -> {"requests": [REQUEST, ...]}
    GET    /control/faults                 -> {"faults": [FAULT, ...]}
    POST   /control/faults  {"service": "ews", "kind": "unavailable", "duration": "5m"}
                                           -> FAULT (201)
    DELETE /control/faults                 -> {"faults": []}

    REQUEST = {"at", "service", "method", "path", "status", "operation", "mailbox",
               "impersonated", "account", "fault"}
    FAULT   = {"service", "kind", "start", "end"}

Errors are ``{"error": "..."}`` with 400, 404, 405 or 415; never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from integration.config import parse_duration
from simulators.clock import utc_now
from simulators.site import RunningSite

StartResponse = Callable[..., Any]
MAX_BODY = 64 * 1024


class _HttpError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class ControlApi:
    def __init__(self, site: RunningSite, services: dict[str, str]) -> None:
        self.site = site
        self.services = services

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, payload = self._route(environ)
        except _HttpError as exc:
            status, payload = exc.status, {"error": str(exc)}
        except Exception as exc:  # a bug: say so plainly, keep serving
            status, payload = "500 Internal Server Error", {"error": f"internal error: {exc}"}
        body = json.dumps(payload, indent=1).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _route(self, environ: dict[str, Any]) -> tuple[str, Any]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        method = environ.get("REQUEST_METHOD", "GET")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/control/status":
            self._allow(method, "GET")
            return "200 OK", {"services": self.services, "now": utc_now().isoformat()}
        if path == "/control/journal":
            self._allow(method, "GET")
            return "200 OK", {"requests": self._journal(query)}
        if path == "/control/faults":
            self._allow(method, "GET", "POST", "DELETE")
            faults = self.site.faults
            if method == "POST":
                spec = self._json(environ)
                try:
                    window = faults.add(
                        str(spec["service"]),
                        str(spec.get("kind", "unavailable")),
                        parse_duration(str(spec["duration"])),
                    )
                except KeyError as exc:
                    raise _HttpError("400 Bad Request", f"missing field {exc}") from None
                except ValueError as exc:
                    raise _HttpError("400 Bad Request", str(exc)) from None
                return "201 Created", self._fault(window)
            if method == "DELETE":
                faults.clear()
            return "200 OK", {"faults": [self._fault(w) for w in faults.windows()]}
        raise _HttpError("404 Not Found", f"no such resource: {path or '/'}")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise _HttpError("405 Method Not Allowed", f"use {', '.join(allowed)}")

    @staticmethod
    def _json(environ: dict[str, Any]) -> dict[str, Any]:
        if "json" not in environ.get("CONTENT_TYPE", ""):
            raise _HttpError("415 Unsupported Media Type", "send application/json")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _HttpError("400 Bad Request", "bad Content-Length") from None
        if length > MAX_BODY:
            raise _HttpError("400 Bad Request", "body too large")
        try:
            data = json.loads(environ["wsgi.input"].read(length) or b"null")
        except ValueError as exc:
            raise _HttpError("400 Bad Request", f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _HttpError("400 Bad Request", "body must be a JSON object")
        return data

    def _journal(self, query: dict[str, str]) -> list[dict[str, Any]]:
        since = None
        if "since" in query:
            try:
                since = datetime.fromisoformat(query["since"])
            except ValueError:
                raise _HttpError("400 Bad Request", "since: not an ISO 8601 time") from None
            # A naive time cannot be compared with the journal's; year 1 or 9999 with
            # an offset overflows when compared: both were 500s.
            if since.tzinfo is None:
                raise _HttpError("400 Bad Request", "since: needs a UTC offset, e.g. +01:00")
            if not 1970 <= since.year <= 4500:
                raise _HttpError("400 Bad Request", "since: must lie between 1970 and 4500")
        entries = self.site.journal.entries(
            service=query.get("service"),
            operation=query.get("operation"),
            mailbox=query.get("mailbox"),
            since=since,
        )
        return [
            {
                "at": _iso(e.at),
                "service": e.service,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "operation": e.operation,
                "mailbox": e.mailbox,
                "impersonated": e.impersonated,
                "account": e.account,
                "fault": e.fault,
            }
            for e in entries
        ]

    @staticmethod
    def _fault(window: Any) -> dict[str, Any]:
        return {
            "service": window.service,
            "kind": window.kind,
            "start": _iso(window.start),
            "end": _iso(window.end),
        }
