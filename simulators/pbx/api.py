"""The PBX's HTTP JSON API: a thin WSGI translation over ``simulators.pbx.pbx.Pbx``.

Everything the sync engine needs (list users, read and set presence), plus
calls, the journal and voicemails for tests and support staff. Bodies are JSON
(``Content-Type: application/json``); times are ISO 8601 with a UTC offset,
written in the PBX's time zone, and read in any offset (a time without one is
refused). Paths may end with a slash.

Endpoints and shapes::

    GET  /api/system          -> {"calendar_integration": true, "timezone": "Europe/Berlin",
                                  "now": "2026-01-05T12:00:00+01:00"}
    GET  /api/users           -> {"users": [USER, ...]}            (extension order)
    GET  /api/users/{ext}     -> USER
    GET  /api/users/{ext}/presence -> PRESENCE
    PUT  /api/users/{ext}/presence <- {"status": "lunch",            required
                                       "return_time": "2026-01-05T13:00:00+01:00" | null,
                                       "set_by": "exchange",         default "client"
                                       "reason": "appointment Lunch"}  default ""
                              -> PRESENCE (as now set)
    GET  /api/presence        -> {"presence": [PRESENCE, ...]}     (every user)
    GET  /api/journal[?user=100][&since=ISO][&transitions_only=true]
                              -> {"journal": [ENTRY, ...]}        (oldest first)
    POST /api/calls           <- {"to": "100", "from": "+4930555", "message_seconds": 3}
                              -> CALL                             (message_seconds optional)
    GET  /api/calls[?to=100]  -> {"calls": [CALL, ...]}
    GET  /api/voicemails[?user=100] -> {"voicemails": [VOICEMAIL, ...]}
    GET  /api/voicemails/{id}/audio -> the WAV file (audio/wav)
    GET  /api/directory?q=carla[&limit=20]
                              -> {"entries": [ENTRY, ...], "external_error": null | "..."}
                                 PBX users first, then Exchange public folder contacts
    ENTRY     = {"name", "source": "pbx" | "exchange", "company", "email", "folder",
                 "numbers": [{"label": "business", "number": "+49 30 5550"}, ...]}

    USER      = {"extension": "100", "name": "User Test", "email": "user1@domain.net" | null,
                 "language": "en" | "de", "auto_back_to_office": false,
                 "calendar_integration": true, "mobile": "+4917012345678" | null,
                 "forward_to_mobile": ["sick", ...]}
    PRESENCE  = {"extension": "100", "status": "lunch", "return_time": ISO | null,
                 "set_by": "exchange", "since": ISO, "extensions": 0}
    ENTRY     = {"seq": 1, "at": ISO, "user": "100", "old_status": "office",
                 "new_status": "lunch", "old_return_time": ISO | null, "return_time": ISO | null,
                 "set_by": "exchange", "cause": "set" | "extension", "reason": "...",
                 "transition": true}
    CALL      = {"to": "100", "from": "200", "at": ISO, "status": "lunch",
                 "return_time": ISO | null, "routed_to": "extension" | "voicemail" | "mobile",
                 "destination": "100", "language": "en", "announcement": "..." | null,
                 "voicemail_id": 1 | null}
    VOICEMAIL = {"id": 1, "extension": "100", "from": "200", "at": ISO,
                 "duration_seconds": 3.0, "announcement": "...",
                 "audio_url": "/api/voicemails/1/audio"}

Statuses: office, meeting, sick, break, out_of_office, vacation, lunch, gone_home;
``office`` takes no return time. Presence ``set_by`` is who last set it; the
PBX's own 15-minute extension moves ``return_time`` and counts ``extensions``
but keeps ``set_by`` (its journal entries say ``"pbx"``, cause ``"extension"``).

Errors: ``{"error": "return_time: needs a timezone (UTC offset)", "field": "return_time"}``
with 400 (bad input; ``field`` names it, or ``"body"``/a query parameter), 404
(unknown path, extension or voicemail), 405 (with ``Allow``), 409 (conflict),
413 (body over 64 KiB), 415 (body not JSON), 500 (a bug; never a traceback).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from simulators.pbx.model import (
    CallResult,
    Conflict,
    InvalidInput,
    JournalEntry,
    PbxError,
    Presence,
    UnknownUser,
    User,
    Voicemail,
)
from simulators.pbx.pbx import Pbx

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
StartResponse = Callable[..., Any]
Handler = Callable[["_Request", list[str]], tuple[int, Any]]


class HttpError(Exception):
    """An answer other than 2xx, carried as JSON."""

    def __init__(
        self, status: int, message: str, field: str | None = None, allow: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.allow = status, message, field, allow


class _Request:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET")).upper()

    def query(self, allowed: Iterable[str]) -> dict[str, str]:
        """Query parameters, each at most once, none unknown."""
        raw = str(self.environ.get("QUERY_STRING", ""))
        try:
            parsed = parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw))
        except ValueError:
            raise HttpError(400, "malformed query string", "query") from None
        allowed = set(allowed)
        result = {}
        for name, values in parsed.items():
            if name not in allowed:
                raise HttpError(400, f"unknown query parameter (allowed: {sorted(allowed)})", name)
            if len(values) != 1:
                raise HttpError(400, "given more than once", name)
            result[name] = values[0]
        return result

    def json_object(self, allowed: Iterable[str]) -> dict[str, Any]:
        """The body as a JSON object with no keys outside ``allowed``."""
        content_type = str(self.environ.get("CONTENT_TYPE", ""))
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise HttpError(415, "the body must be application/json", "body")
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise HttpError(400, "bad Content-Length", "body") from None
        if length > MAX_BODY:
            raise HttpError(413, f"the body is larger than {MAX_BODY} bytes", "body")
        raw = self.environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, f"not valid JSON ({exc})", "body") from None
        if not isinstance(body, dict):
            raise HttpError(400, "must be a JSON object", "body")
        for key in body:
            if key not in allowed:
                raise HttpError(400, f"unknown field (allowed: {', '.join(allowed)})", key)
        return body


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # the PBX keeps times of this range only
LATEST = datetime(4500, 12, 31, 23, 59, 59, tzinfo=UTC)


def _time(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be an ISO 8601 date-time string or null", field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date-time: {value!r}", field) from None
    if parsed.tzinfo is None:
        raise InvalidInput("needs a UTC offset, e.g. 2026-01-05T13:00:00+01:00", field)
    # Kept far from datetime's ends: a return time in 9999 overflowed when shown in
    # the PBX's zone or extended by 15 minutes, and broke /api/presence for good.
    if not EARLIEST.year <= parsed.year <= LATEST.year:
        raise InvalidInput(
            f"must lie between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()}",
            field,
        )
    return parsed


def _flag(value: str, field: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise InvalidInput("must be true or false", field)


class PbxApi:
    """The WSGI application. ``PbxApi(pbx)`` can be mounted in any WSGI server."""

    def __init__(self, pbx: Pbx) -> None:
        self.pbx = pbx
        # (path pattern, {method: handler}); groups become handler arguments.
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"/api/system"), {"GET": self._system}),
            (re.compile(r"/api/users"), {"GET": self._users}),
            (re.compile(r"/api/users/([^/]+)"), {"GET": self._user}),
            (
                re.compile(r"/api/users/([^/]+)/presence"),
                {"GET": self._get_presence, "PUT": self._put_presence},
            ),
            (re.compile(r"/api/presence"), {"GET": self._presences}),
            (re.compile(r"/api/journal"), {"GET": self._journal}),
            (re.compile(r"/api/calls"), {"GET": self._calls, "POST": self._call}),
            (re.compile(r"/api/voicemails"), {"GET": self._voicemails}),
            (re.compile(r"/api/voicemails/([^/]+)/audio"), {"GET": self._audio}),
            (re.compile(r"/api/directory"), {"GET": self._directory}),
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request = _Request(environ)
        try:
            status, payload = self._dispatch(request)
        except HttpError as exc:
            return self._error(start_response, exc)
        except UnknownUser as exc:
            return self._error(start_response, HttpError(404, str(exc), exc.field))
        except Conflict as exc:
            return self._error(start_response, HttpError(409, str(exc), exc.field))
        except PbxError as exc:
            return self._error(start_response, HttpError(400, str(exc), exc.field))
        except Exception:
            log.exception("PBX API failed on %s %s", request.method, environ.get("PATH_INFO"))
            return self._error(start_response, HttpError(500, "internal error"))
        if isinstance(payload, bytes):  # the one binary answer: a voicemail's WAV
            headers = [("Content-Type", "audio/wav"), ("Content-Length", str(len(payload)))]
            start_response(f"{status} OK", headers)
            return [payload]
        return self._json(start_response, status, payload)

    # -- plumbing -----------------------------------------------------------

    def _dispatch(self, request: _Request) -> tuple[int, Any]:
        path = str(request.environ.get("PATH_INFO", "")) or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        for pattern, methods in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allow = ", ".join(sorted(methods))
                raise HttpError(405, f"{request.method} not allowed here", allow=allow)
            return handler(request, list(match.groups()))
        raise HttpError(404, f"no such resource: {path}")

    @staticmethod
    def _json(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        reason = {200: "OK", 201: "Created"}.get(status, "OK")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        start_response(f"{status} {reason}", headers)
        return [body]

    @staticmethod
    def _error(start_response: StartResponse, exc: HttpError) -> list[bytes]:
        reasons = {
            400: "Bad Request",
            404: "Not Found",
            405: "Method Not Allowed",
            409: "Conflict",
            413: "Content Too Large",
            415: "Unsupported Media Type",
            500: "Internal Server Error",
        }
        body = json.dumps({"error": exc.message, "field": exc.field}).encode("utf-8")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        if exc.allow:
            headers.append(("Allow", exc.allow))
        start_response(f"{exc.status} {reasons.get(exc.status, 'Error')}", headers)
        return [body]

    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(self.pbx.timezone).isoformat()

    # -- shapes ---------------------------------------------------------------

    @staticmethod
    def _user_json(user: User) -> dict[str, Any]:
        return {
            "extension": user.extension,
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "auto_back_to_office": user.auto_back_to_office,
            "calendar_integration": user.calendar_integration,
            "mobile": user.mobile,
            "forward_to_mobile": sorted(s.value for s in user.forward_to_mobile),
        }

    def _presence_json(self, extension: str, presence: Presence) -> dict[str, Any]:
        return {
            "extension": extension,
            "status": presence.status.value,
            "return_time": self._iso(presence.return_time),
            "set_by": presence.set_by,
            "since": self._iso(presence.since),
            "extensions": presence.extensions,
        }

    def _entry_json(self, entry: JournalEntry) -> dict[str, Any]:
        return {
            "seq": entry.seq,
            "at": self._iso(entry.at),
            "user": entry.user,
            "old_status": entry.old_status.value,
            "new_status": entry.new_status.value,
            "old_return_time": self._iso(entry.old_return_time),
            "return_time": self._iso(entry.return_time),
            "set_by": entry.set_by,
            "cause": entry.cause,
            "reason": entry.reason,
            "transition": entry.is_transition,
        }

    def _call_json(self, call: CallResult) -> dict[str, Any]:
        return {
            "to": call.to,
            "from": call.caller,
            "at": self._iso(call.at),
            "status": call.status.value,
            "return_time": self._iso(call.return_time),
            "routed_to": call.routed_to,
            "destination": call.destination,
            "language": call.language,
            "announcement": call.announcement,
            "voicemail_id": None if call.voicemail is None else call.voicemail.id,
        }

    def _voicemail_json(self, message: Voicemail) -> dict[str, Any]:
        return {
            "id": message.id,
            "extension": message.extension,
            "from": message.caller,
            "at": self._iso(message.at),
            "duration_seconds": message.duration_seconds,
            "announcement": message.announcement,
            "audio_url": f"/api/voicemails/{message.id}/audio",
        }

    # -- handlers -------------------------------------------------------------

    def _system(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        request.query(())
        return 200, {
            "calendar_integration": self.pbx.calendar_integration,
            "timezone": str(self.pbx.timezone),
            "now": self._iso(self.pbx.now()),
        }

    def _users(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        request.query(())
        return 200, {"users": [self._user_json(u) for u in self.pbx.users()]}

    def _user(self, request: _Request, args: list[str]) -> tuple[int, Any]:
        request.query(())
        return 200, self._user_json(self.pbx.user(args[0]))

    def _get_presence(self, request: _Request, args: list[str]) -> tuple[int, Any]:
        request.query(())
        return 200, self._presence_json(args[0], self.pbx.presence(args[0]))

    def _put_presence(self, request: _Request, args: list[str]) -> tuple[int, Any]:
        request.query(())
        self.pbx.user(args[0])  # 404 before judging the body
        body = request.json_object(("status", "return_time", "set_by", "reason"))
        if "status" not in body:
            raise HttpError(400, "required", "status")
        presence = self.pbx.set_presence(
            args[0],
            body["status"],
            _time(body.get("return_time"), "return_time"),
            set_by=body.get("set_by", "client"),
            reason=body.get("reason", ""),
        )
        return 200, self._presence_json(args[0], presence)

    def _presences(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        request.query(())
        everyone = self.pbx.presences()
        order = [u.extension for u in self.pbx.users()]
        return 200, {"presence": [self._presence_json(e, everyone[e]) for e in order]}

    def _journal(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        query = request.query(("user", "since", "transitions_only"))
        since = _time(query.get("since"), "since")
        only = _flag(query.get("transitions_only", "false"), "transitions_only")
        with _renamed("user"):
            entries = self.pbx.journal(query.get("user"), since, transitions_only=only)
        return 200, {"journal": [self._entry_json(e) for e in entries]}

    def _call(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        request.query(())
        body = request.json_object(("to", "from", "message_seconds"))
        for field in ("to", "from"):
            if not isinstance(body.get(field), str):
                raise HttpError(400, "required, a string", field)
        with _renamed("to"):
            self.pbx.user(body["to"])
        result = self.pbx.call(body["to"], body["from"], **_optional(body, "message_seconds"))
        return 200, self._call_json(result)

    def _calls(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        query = request.query(("to",))
        return 200, {"calls": [self._call_json(c) for c in self.pbx.calls(query.get("to"))]}

    def _voicemails(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        query = request.query(("user",))
        if "user" in query:
            with _renamed("user"):
                self.pbx.user(query["user"])
        messages = self.pbx.voicemails(query.get("user"))
        return 200, {"voicemails": [self._voicemail_json(m) for m in messages]}

    def _directory(self, request: _Request, _: list[str]) -> tuple[int, Any]:
        query = request.query(("q", "limit"))
        if not query.get("q"):
            raise HttpError(400, "required", "q")
        limit_text = query.get("limit", "20")
        if not limit_text.isdigit():
            raise HttpError(400, "must be a number", "limit")
        entries, problem = self.pbx.search_directory(query["q"], int(limit_text))
        return 200, {
            "entries": [
                {
                    "name": e.name,
                    "source": e.source,
                    "company": e.company,
                    "numbers": [{"label": label, "number": n} for label, n in e.numbers],
                    "email": e.email,
                    "folder": e.folder,
                }
                for e in entries
            ],
            "external_error": problem,
        }

    def _audio(self, request: _Request, args: list[str]) -> tuple[int, Any]:
        request.query(())
        # isascii: "²" is a digit to str.isdigit; 18 digits: int() of thousands raises.
        if not (args[0].isascii() and args[0].isdigit() and len(args[0]) <= 18):
            shown = args[0] if len(args[0]) <= 40 else args[0][:37] + "..."
            raise HttpError(404, f"no voicemail {shown!r}", "id")
        return 200, self.pbx.voicemail(int(args[0])).audio


@contextmanager
def _renamed(field: str) -> Iterator[None]:
    """Report an unknown extension under the name the client used for it."""
    try:
        yield
    except UnknownUser as exc:
        raise UnknownUser(exc.message, field) from None


def _optional(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: body[name] for name in names if name in body}
