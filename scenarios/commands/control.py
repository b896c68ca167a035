"""The harness's control API beside the served simulators (``harness serve``).

A small JSON API for scripts, support staff and the live view, separate from
the protocols the fakes speak, so that nothing a real client sees changes. The
routes are one table (``ControlApi.routes``); ``scenarios.commands.openapi``
describes each of them, and a test keeps the two in step:

    GET         /control/                 index with links (HTML for a browser)
    GET         /control/openapi.json     the OpenAPI 3.1 description
    GET         /control/status           services, clock, seed
    GET         /control/journal          HTTP requests of the site and the PBX API
    GET         /control/activity         latest requests of every protocol, SMTP too
    GET         /control/users            PBX users with their presence now
    GET|POST|DELETE /control/faults       faults in force (the catalogue, docs/faults.md)
    POST        /control/reset            empty journals, faults and mail; restore the seed
    GET|POST    /control/seed             the seed; load another (path or posted YAML)
    GET|POST    /control/clock            the served clock: real, offset, frozen, advance
    GET         /control/timeline         the timeline model (JSON)
    GET         /control/timeline.svg     the same, drawn

Errors are ``{"error": "..."}`` (a rejected seed adds ``problems``: the
loader's ``FILE:LINE: message`` lines) with 400, 404, 405 (with ``Allow``),
413 or 415; a bug answers 500 ``internal error`` and is logged, never shown.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from integration.config import parse_duration
from scenarios.commands import livedata
from scenarios.commands.controlfaults import FIELDS as FAULT_FIELDS
from scenarios.commands.controlfaults import add_fault, applied_json
from scenarios.commands.openapi import document
from scenarios.commands.served import Loaded, Served
from scenarios.format.loader import load_scenario, parse_scenario
from scenarios.format.model import ScenarioError
from scenarios.outputs.lanes import to_json
from scenarios.outputs.svg import Layout, render
from simulators.clock import CLOCK_MODES, utc_now

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
MAX_BODY = 64 * 1024
MAX_SEED = 2 * 1024 * 1024
MAX_WINDOW = timedelta(days=7)
MAX_CLOCK_OFFSET = timedelta(days=3650)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}


class HttpError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Raw:
    """A non-JSON answer."""

    content_type: str
    body: bytes


@dataclass(frozen=True)
class Route:
    handler: Callable[[Request], tuple[int, Any]]
    query: tuple[str, ...] = ()  # the query parameters it takes


class Request:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.base = str(environ.get("SCRIPT_NAME", "")).rstrip("/")

    def query(self, allowed: Iterable[str]) -> dict[str, str]:
        """Query parameters, each at most once, none unknown."""
        raw = str(self.environ.get("QUERY_STRING", ""))
        try:
            parsed = parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw))
        except ValueError:
            raise HttpError(400, "malformed query string") from None
        names = set(allowed)
        result = {}
        for name, values in parsed.items():
            if name not in names:
                known = ", ".join(sorted(names)) or "none"
                raise HttpError(400, f"unknown query parameter {name!r} (known: {known})")
            if len(values) != 1:
                raise HttpError(400, f"{name}: give it once")
            result[name] = values[0]
        return result

    @property
    def content_type(self) -> str:
        return str(self.environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()

    def body(self, limit: int) -> bytes:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise HttpError(400, "bad Content-Length") from None
        if length > limit:
            raise HttpError(413, f"the body is larger than {limit} bytes")
        return self.environ["wsgi.input"].read(length) if length > 0 else b""

    def json_object(self, allowed: Iterable[str]) -> dict[str, Any]:
        if self.content_type != "application/json":
            raise HttpError(415, "send application/json")
        try:
            data = json.loads(self.body(MAX_BODY) or b"null")
        except ValueError:
            raise HttpError(400, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise HttpError(400, "the body must be a JSON object")
        names = tuple(allowed)
        for key in data:
            if key not in names:
                raise HttpError(400, f"unknown field {key!r} (known: {', '.join(names)})")
        return data


def _time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise HttpError(400, f"{name}: needs a UTC offset, e.g. 2026-01-05T12:00:00+01:00")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise HttpError(400, f"{name}: not an ISO 8601 time") from None


def _duration(value: object, name: str, limit: timedelta = timedelta(days=3650)) -> timedelta:
    try:
        duration = parse_duration(str(value))
    except (ValueError, OverflowError):
        raise HttpError(400, f"{name}: not a duration like 30s, 5m, 1h30m or -40s") from None
    if abs(duration) > limit:
        raise HttpError(400, f"{name}: at most {limit.days} days")
    return duration


def _count(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise HttpError(400, f"{name}: a number from {low} to {high}")
    return int(value)


class ControlApi:
    """The WSGI app of ``/control/``; ``routes`` maps path -> method -> ``Route``."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.routes: dict[str, dict[str, Route]] = {
            "/control/": {"GET": Route(self._index)},
            "/control/openapi.json": {"GET": Route(self._openapi)},
            "/control/status": {"GET": Route(self._status)},
            "/control/journal": {
                "GET": Route(self._journal, ("service", "operation", "mailbox", "since", "limit"))
            },
            "/control/activity": {"GET": Route(self._activity, ("service", "limit"))},
            "/control/users": {"GET": Route(self._users)},
            "/control/faults": {
                "GET": Route(self._faults),
                "POST": Route(self._add_fault),
                "DELETE": Route(self._clear_faults),
            },
            "/control/reset": {"POST": Route(self._reset)},
            "/control/seed": {"GET": Route(self._seed), "POST": Route(self._load_seed)},
            "/control/clock": {"GET": Route(self._clock), "POST": Route(self._set_clock)},
            "/control/timeline": {"GET": Route(self._timeline, ("from", "to"))},
            "/control/timeline.svg": {"GET": Route(self._timeline_svg, ("from", "to", "width"))},
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        headers: list[tuple[str, str]] = []
        try:
            status, payload = self._dispatch(request)
        except HttpError as exc:
            status, payload = exc.status, {"error": exc.message, **exc.extra}
            if exc.status == 405:
                headers.append(("Allow", exc.extra.pop("allow")))
                payload.pop("allow", None)
        except Exception:  # a bug: say so plainly, keep serving, tell the log
            log.exception("control API failed on %s %s", request.method, environ.get("PATH_INFO"))
            status, payload = 500, {"error": "internal error"}
        if isinstance(payload, Raw):
            body, content_type = payload.body, payload.content_type
        else:
            body = json.dumps(payload, indent=1, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        headers += [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [b""] if request.method == "HEAD" else [body]

    def _dispatch(self, request: Request) -> tuple[int, Any]:
        path = str(request.environ.get("PATH_INFO", "")) or "/"
        key = path if path in self.routes else path.rstrip("/")
        if key == "/control":
            key = "/control/"
        methods = self.routes.get(key)
        if methods is None:
            raise HttpError(404, f"no such resource: {path[:200]}")
        method = "GET" if request.method == "HEAD" else request.method
        route = methods.get(method)
        if route is None:
            allow = ", ".join(sorted(methods))
            raise HttpError(
                405, f"{request.method[:20]} not allowed here; use {allow}", allow=allow
            )
        request.query(route.query)  # refuse unknown parameters before doing anything
        return route.handler(request)

    # ------------------------------------------------------------- the index
    def _index(self, request: Request) -> tuple[int, Any]:
        base = request.base
        links: list[dict[str, Any]] = [
            {"rel": "dashboard", "href": f"{base}/", "title": "the live view"},
            {"rel": "openapi", "href": f"{base}/control/openapi.json", "title": "this API"},
        ]
        for path, methods in self.routes.items():
            if path in ("/control/", "/control/openapi.json"):
                continue
            links.append(
                {
                    "rel": path.removeprefix("/control/"),
                    "href": base + path,
                    "methods": list(methods),
                }
            )
        links.append({"rel": "mail", "href": f"{base}/api/mail/messages", "title": "SMTP sink"})
        if "text/html" in str(request.environ.get("HTTP_ACCEPT", "")):
            items = "".join(
                f'<li><a href="{html.escape(link["href"])}">{html.escape(link["rel"])}</a> '
                f"{html.escape(' '.join(link.get('methods', [])) or link.get('title', ''))}</li>"
                for link in links
            )
            page = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'><title>harness control API"
                f"</title></head><body><h1>harness control API</h1><ul>{items}</ul></body></html>"
            )
            return 200, Raw("text/html; charset=utf-8", page.encode("utf-8"))
        return 200, {"name": "harness control API", "links": links}

    def _openapi(self, request: Request) -> tuple[int, Any]:
        return 200, document(request.base or "/")

    # -------------------------------------------------------------- reading
    def _status(self, request: Request) -> tuple[int, Any]:
        return 200, {
            "services": self.served.services,
            "now": self.served.clock.now().isoformat(),
            "clock": self._clock_json(),
            "seed": self._seed_json(),
        }

    def _journal(self, request: Request) -> tuple[int, Any]:
        query = request.query(self.routes["/control/journal"]["GET"].query)
        since = _time(query["since"], "since") if "since" in query else None
        limit = _count(query["limit"], "limit", 1, 100_000) if "limit" in query else None
        filters: dict[str, Any] = {
            "service": query.get("service"),
            "operation": query.get("operation"),
            "mailbox": query.get("mailbox"),
            "since": since,
        }
        served = self.served
        entries = served.site.journal.entries(**filters) + served.pbx_journal.entries(**filters)
        entries.sort(key=lambda e: e.at)
        if limit is not None:
            entries = entries[-limit:]
        return 200, {
            "requests": [
                {
                    "at": e.at.isoformat(),
                    "service": e.service,
                    "method": e.method,
                    "path": e.path,
                    "status": e.status,
                    "operation": e.operation,
                    "mailbox": e.mailbox,
                    "impersonated": e.impersonated,
                    "account": e.account,
                    "fault": e.fault,
                    "injected": e.injected,
                }
                for e in entries
            ]
        }

    def _activity(self, request: Request) -> tuple[int, Any]:
        query = request.query(("service", "limit"))
        limit = _count(query.get("limit", "100"), "limit", 1, 1000)
        return 200, {"activity": livedata.activity(self.served, limit, query.get("service"))}

    def _users(self, request: Request) -> tuple[int, Any]:
        return 200, {"users": livedata.users(self.served)}

    # --------------------------------------------------------------- faults
    def _faults(self, request: Request) -> tuple[int, Any]:
        faults = self.served.site.faults
        return 200, {
            "faults": [f.to_json() for f in faults.windows()],
            "applied": applied_json(faults),
        }

    def _add_fault(self, request: Request) -> tuple[int, Any]:
        spec = request.json_object(FAULT_FIELDS)
        try:
            fault = add_fault(self.served.site.faults, spec, _duration, _time)
        except ValueError as exc:  # the field's or the injector's own words
            raise HttpError(400, str(exc)) from None
        return 201, fault.to_json()

    def _clear_faults(self, request: Request) -> tuple[int, Any]:
        self.served.site.faults.clear()
        return 200, {"faults": [], "applied": []}

    # ---------------------------------------------------------- reset, seed
    def _seed_json(self) -> dict[str, Any]:
        loaded = self.served.loaded
        at = self.served.loaded_at
        return {
            "name": loaded.name,
            "source": loaded.source,
            "timezone": loaded.zone,
            "users": len(loaded.users),
            "appointments": len(loaded.seed.appointments),
            "loaded_at": at.isoformat() if at else None,
        }

    def _reset(self, request: Request) -> tuple[int, Any]:
        self.served.reset()
        return 200, {"seed": self._seed_json()}

    def _seed(self, request: Request) -> tuple[int, Any]:
        return 200, {"seed": self._seed_json()}

    def _load_seed(self, request: Request) -> tuple[int, Any]:
        try:
            if request.content_type in YAML_TYPES:
                raw = request.body(MAX_SEED)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise HttpError(400, "the seed is not UTF-8 text") from None
                scenario = parse_scenario(text, "<posted>")
                source = None
            elif request.content_type == "application/json":
                spec = request.json_object(("path",))
                if not isinstance(spec.get("path"), str) or not spec["path"]:
                    raise HttpError(400, "path: the seed or scenario file to load")
                scenario = load_scenario(spec["path"])
                source = spec["path"]
            else:
                raise HttpError(415, 'send YAML (application/yaml) or JSON {"path": "seed.yaml"}')
        except ScenarioError as exc:
            raise HttpError(400, "the seed was rejected", problems=exc.problems) from None
        self.served.load(Loaded.from_scenario(scenario, source))
        return 200, {"seed": self._seed_json()}

    # ---------------------------------------------------------------- clock
    def _clock_json(self) -> dict[str, Any]:
        clock = self.served.clock
        zone = self.served.pbx.timezone
        now = clock.now()
        exchange = self.served.store.clock.now()
        return {
            "mode": clock.mode,
            "now": now.astimezone(zone).isoformat(),
            "offset_seconds": int(clock.offset.total_seconds()),
            "exchange_now": exchange.astimezone(zone).isoformat(),
            "exchange_skew_seconds": int(self.served.store.clock.skew.total_seconds()),
            "timezone": str(zone),
        }

    def _clock(self, request: Request) -> tuple[int, Any]:
        return 200, self._clock_json()

    def _set_clock(self, request: Request) -> tuple[int, Any]:
        spec = request.json_object(("mode", "offset", "at", "advance"))
        clock = self.served.clock
        if ("mode" in spec) == ("advance" in spec):
            raise HttpError(400, "give either mode (real, offset, frozen) or advance")
        if "advance" in spec:
            if len(spec) > 1:
                raise HttpError(400, "advance goes alone")
            step = _duration(spec["advance"], "advance")
            self._near(clock.offset + step)
            clock.advance(step)
            return 200, self._clock_json()
        mode = spec["mode"]
        if mode not in CLOCK_MODES:
            raise HttpError(400, f"mode: one of {', '.join(CLOCK_MODES)}")
        at = _time(str(spec["at"]), "at") if spec.get("at") is not None else None
        if at is not None:
            self._near(at - utc_now())
        offset = spec.get("offset")
        if mode == "real":
            if at is not None or offset is not None:
                raise HttpError(400, "the real clock takes neither at nor offset")
            clock.set_real()
        elif mode == "offset":
            if (at is None) == (offset is None):
                raise HttpError(400, "offset mode: give offset (e.g. -1h) or at (an ISO time)")
            if at is not None:
                clock.set_to(at)
            else:
                clock.set_offset(_duration(offset, "offset"))
        else:
            if offset is not None:
                raise HttpError(400, "a frozen clock takes at (default: now), not offset")
            clock.freeze(at)
        return 200, self._clock_json()

    @staticmethod
    def _near(offset: timedelta) -> None:
        if abs(offset) > MAX_CLOCK_OFFSET:
            raise HttpError(400, "the clock may be at most 10 years from the machine's time")

    # ------------------------------------------------------------- timeline
    def _window(self, query: dict[str, str]) -> tuple[datetime, datetime]:
        start, end = livedata.default_window(self.served)
        if "from" in query:
            start = _time(query["from"], "from")
        if "to" in query:
            end = _time(query["to"], "to")
        if end <= start:
            raise HttpError(400, "to must be after from")
        if end - start > MAX_WINDOW:
            raise HttpError(400, "the window may span at most 7 days")
        return start, end

    def _timeline(self, request: Request) -> tuple[int, Any]:
        start, end = self._window(request.query(("from", "to")))
        return 200, to_json(livedata.timeline(self.served, start, end))

    def _timeline_svg(self, request: Request) -> tuple[int, Any]:
        query = request.query(("from", "to", "width"))
        start, end = self._window(query)
        width = _count(query.get("width", "1200"), "width", 400, 4000)
        svg = render(livedata.timeline(self.served, start, end), Layout(width=width))
        return 200, Raw("image/svg+xml; charset=utf-8", svg.encode("utf-8"))


__all__ = ["ControlApi", "HttpError", "Raw", "Request", "Route"]
