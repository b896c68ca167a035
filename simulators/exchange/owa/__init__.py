"""Outlook Web Access 2007 at /owa/: forms-based log-in and a plain calendar.

``OwaFrontEnd(store, auth)`` is the WSGI app the site mounts at /owa/. The pages
under /owa/auth/ (logon.aspx, owaauth.dll, logoff.aspx) need no log-in; everything
else passes the site's auth gate (``gate.AuthGate``; forms sessions from
``sessions.SiteAuth``, which the WebDAV front end shares) and then the calendar
(``calendar.OwaCalendar``) or, for ``?ae=Options``, the Options pages (``options``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.middleware import FAULT_KEY, OPERATION_KEY
from simulators.exchange.owa.calendar import OwaCalendar
from simulators.exchange.owa.gate import AuthGate
from simulators.exchange.owa.html import Reply, page
from simulators.exchange.owa.logon import logoff, logon_page, owaauth
from simulators.exchange.owa.options import options_page
from simulators.exchange.owa.sessions import AUTH_MODES, AuthMode, SiteAuth
from simulators.exchange.store import ExchangeStore

OWA_PREFIX = "/owa/"


class OwaFrontEnd:
    """WSGI app of /owa/ (the site strips the /owa prefix into SCRIPT_NAME)."""

    def __init__(self, store: ExchangeStore, auth: SiteAuth) -> None:
        self.store = store
        self.auth = auth
        self.calendar = OwaCalendar(store, auth)
        self.gate = AuthGate(self._calendar, auth, "owa")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "").lower()
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/auth/"):
            environ[OPERATION_KEY] = "OWA " + path.removeprefix("/auth/")
            if path == "/auth/logon.aspx":
                return self._send(environ, start_response, logon_page(environ))
            if path == "/auth/owaauth.dll":
                return self._send(environ, start_response, owaauth(environ, self.auth))
            if path == "/auth/logoff.aspx":
                return self._send(environ, start_response, logoff(environ, self.auth))
            return self._send(
                environ, start_response, page("Not found", "", status="404 Not Found")
            )
        environ[OPERATION_KEY] = f"OWA {method} {path or '/'}"
        return self.gate(environ, start_response)

    def _calendar(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        account = environ[ACCOUNT_KEY]
        query = {k.lower(): v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        own = self.store.mailboxes.get((account.smtp or "").lower())
        if query.get("ae", "").lower() == "options" and own is not None:
            host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
            reply = options_page(account, own, query.get("t", ""), host)
        else:
            reply = self.calendar.handle(environ, account)
        return self._send(environ, start_response, reply)

    @staticmethod
    def _send(environ: dict[str, Any], start_response: Callable[..., Any], reply: Reply) -> Any:
        status, headers, body = reply
        if status[:1] in ("4", "5"):
            environ.setdefault(FAULT_KEY, status)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [b"" if method_is_head(environ) else body]


def method_is_head(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "HEAD"


__all__ = ["AUTH_MODES", "OWA_PREFIX", "AuthMode", "OwaFrontEnd", "SiteAuth"]
