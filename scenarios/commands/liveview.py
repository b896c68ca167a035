"""The live view of ``harness serve``: one WSGI app with the dashboard and its data.

    /                       the dashboard page (static HTML; its script fetches the rest)
    /static/NAME            its style sheet and script
    /control/...            the control API (``scenarios.commands.control``)
    /api/mail/...           the SMTP sink's inspection API (``simulators.smtp.api``)

The control server serves it at its root; the HTTPS site mounts it at
``/_harness/`` outside the request journal and fault injection (real clients
never see it), read-only: there only GET and HEAD are answered, changes go to
the control server. Pages use relative links, so both places work alike. Every
page carries a Content-Security-Policy that allows nothing from elsewhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from simulators.exchange.ews.middleware import WsgiApp

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
HARNESS_PREFIX = "/_harness/"
STATIC: dict[str, str] = {  # the only files served, and their types
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
# Inline styles are needed for the SVG timeline's own <style>; nothing else inline.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def _asset(name: str) -> bytes:
    return resources.files("scenarios.commands").joinpath("static", name).read_bytes()


def _guarded(start_response: StartResponse, download: bool) -> StartResponse:
    """Mail is untrusted content: never let a part run as a page of this site."""

    def guarded(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        names = {name.lower() for name, _ in headers}
        headers = [
            *headers,
            ("Content-Security-Policy", "default-src 'none'; sandbox"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if download and "content-disposition" not in names:
            headers.append(("Content-Disposition", "attachment"))
        return (
            start_response(status, headers, exc_info)
            if exc_info
            else start_response(status, headers)
        )

    return guarded


class LiveView:
    """Routes to the dashboard, its assets, the control API and the mail API."""

    def __init__(self, control: WsgiApp, mail: WsgiApp, *, read_only: bool = False) -> None:
        self.control = control
        self.mail = mail
        self.read_only = read_only
        self._assets = {name: _asset(name) for name in STATIC}
        self._page = _asset("dashboard.html")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception:  # a bug: a plain 500, the traceback to the log only
            log.exception("live view failed on %s", environ.get("PATH_INFO"))
            return self._answer(
                start_response, 500, "application/json", b'{"error": "internal error"}'
            )

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if path == "":  # /_harness without the slash: relative links need it
            location = str(environ.get("SCRIPT_NAME", "")) + "/"
            start_response(
                "301 Moved Permanently", [("Location", location), ("Content-Length", "0")]
            )
            return [b""]
        if self.read_only and method not in ("GET", "HEAD"):
            body = json.dumps(
                {
                    "error": "read-only here: send changes to the control server (ready file: control)"
                }
            ).encode()
            return self._answer(
                start_response, 405, "application/json", body, [("Allow", "GET, HEAD")]
            )
        lowered = path.lower()
        if lowered.startswith("/control"):
            return self.control(environ, start_response)
        if lowered.startswith("/api/mail"):
            return self.mail(
                environ,
                _guarded(start_response, download="/raw" in lowered or "/attachments/" in lowered),
            )
        if path in ("/", "/index.html"):
            return self._static(environ, start_response, "text/html; charset=utf-8", self._page)
        if path.startswith("/static/") and path[8:] in STATIC:
            name = path[8:]
            return self._static(environ, start_response, STATIC[name], self._assets[name])
        body = json.dumps({"error": f"no such resource: {path[:200]}"}).encode()
        return self._answer(start_response, 404, "application/json", body)

    def _static(
        self, environ: dict[str, Any], start_response: StartResponse, kind: str, body: bytes
    ) -> Iterable[bytes]:
        if str(environ.get("REQUEST_METHOD", "GET")).upper() not in ("GET", "HEAD"):
            return self._answer(
                start_response,
                405,
                "application/json",
                b'{"error": "use GET"}',
                [("Allow", "GET, HEAD")],
            )
        answer = self._answer(start_response, 200, kind, body)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else answer

    @staticmethod
    def _answer(
        start_response: StartResponse,
        status: int,
        kind: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        reasons = {
            200: "OK",
            404: "Not Found",
            405: "Method Not Allowed",
            500: "Internal Server Error",
        }
        headers = [
            ("Content-Type", kind),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
            *(extra or []),
        ]
        start_response(f"{status} {reasons[status]}", headers)
        return [body]


__all__ = ["HARNESS_PREFIX", "LiveView"]
