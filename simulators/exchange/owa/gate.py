"""The authentication gate in front of the WebDAV and OWA front ends.

Per the site's ``SiteAuth.mode``: IIS Basic (401 with ``WWW-Authenticate: Basic``),
or OWA 2007 forms-based log-in, where a request without a session is redirected to
``/owa/auth/logon.aspx?url=..&reason=0`` when it is a GET and answered ``440 Login
Timeout`` otherwise, and an expired or invalid session gets 440 (or the redirect)
with its cookies cleared. A session whose log-in had a wrong password fails here, on
its first use, as in Exchange 2007 (GET: ``reason=2``). The gate puts the ``Account``
under ``ACCOUNT_KEY`` (the journal records it) and wsgidav's user name in environ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal
from urllib.parse import quote

from simulators.exchange.ews.auth import ACCOUNT_KEY, basic_credentials
from simulators.exchange.ews.middleware import FAULT_KEY
from simulators.exchange.model import Account
from simulators.exchange.owa.sessions import SESSION_KEY, SiteAuth, clear_cookie_headers
from simulators.http_out import basic_challenge

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

LOGON_PATH = "/owa/auth/logon.aspx"
LOGIN_TIMEOUT = "440 Login Timeout"

_UNAUTHORIZED_PAGE = (
    b"<html><head><title>You are not authorized to view this page</title></head>"
    b"<body><h1>You are not authorized to view this page</h1>"
    b"<h2>HTTP Error 401.1 - Unauthorized: Access is denied due to invalid credentials."
    b"</h2></body></html>\r\n"
)
_TIMEOUT_PAGE = b"<html><head><title>Login Timeout</title></head><body></body></html>\r\n"


def site_base(environ: dict[str, Any]) -> str:
    """``scheme://host[:port]`` as the client addressed the site."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port not in ("80", "443"):
            host = f"{host}:{port}"
    return f"{scheme}://{host}"


def request_url(environ: dict[str, Any]) -> str:
    """The absolute URL of the request, query included."""
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/@{}")
    query = environ.get("QUERY_STRING", "")
    return site_base(environ) + path + (f"?{query}" if query else "")


def logon_redirect(environ: dict[str, Any], reason: int, destination: str | None = None) -> str:
    """The logon.aspx URL Exchange redirects an unauthenticated browser to."""
    target = destination or request_url(environ)
    return f"{site_base(environ)}{LOGON_PATH}?url={quote(target, safe='')}&reason={reason}"


def is_secure(environ: dict[str, Any]) -> bool:
    return environ.get("wsgi.url_scheme") == "https"


class AuthGate:
    """Authenticate per the site's mode, then call ``app``.

    ``kind`` is ``"dav"`` (/exchange/, /public/) or ``"owa"`` (/owa/). OWA pages also
    accept a forms session in basic mode, so a browser can always use the log-in form.
    """

    def __init__(self, app: WsgiApp, auth: SiteAuth, kind: Literal["dav", "owa"]) -> None:
        self.app = app
        self.auth = auth
        self.kind = kind

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.auth.mode == "basic":
            account = self._basic(environ)
            if account is None and self.kind == "owa":
                account = self._forms_account(environ)
            if account is None:
                return self._unauthorized(environ, start_response)
            return self._admit(account, environ, start_response)
        lookup = self.auth.lookup(environ)
        if lookup.state == "ok" and lookup.session and lookup.session.account:
            environ[SESSION_KEY] = lookup.session
            return self._admit(lookup.session.account, environ, start_response)
        environ[FAULT_KEY] = f"LoginTimeout:{lookup.state}"
        clear = clear_cookie_headers(is_secure(environ)) if lookup.state != "none" else []
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            reason = 2 if lookup.state == "bad_credentials" else 0
            headers = [("Location", logon_redirect(environ, reason)), ("Content-Length", "0")]
            start_response("302 Found", headers + clear)
            return [b""]
        start_response(
            LOGIN_TIMEOUT,
            [("Content-Type", "text/html"), ("Content-Length", str(len(_TIMEOUT_PAGE)))] + clear,
        )
        return [_TIMEOUT_PAGE]

    def _basic(self, environ: dict[str, Any]) -> Account | None:
        credentials = basic_credentials(environ)
        return self.auth.store.authenticate(*credentials) if credentials else None

    def _forms_account(self, environ: dict[str, Any]) -> Account | None:
        lookup = self.auth.lookup(environ)
        if lookup.state == "ok" and lookup.session is not None:
            environ[SESSION_KEY] = lookup.session
            return lookup.session.account
        return None

    def _admit(
        self, account: Account, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        environ[ACCOUNT_KEY] = account
        environ["wsgidav.auth.user_name"] = account.upn
        environ["wsgidav.auth.realm"] = "exchange"
        environ["wsgidav.auth.roles"] = []
        return self.app(environ, start_response)

    @staticmethod
    def _unauthorized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[FAULT_KEY] = "Unauthorized"
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/html"),
                ("WWW-Authenticate", basic_challenge(environ)),
                ("Content-Length", str(len(_UNAUTHORIZED_PAGE))),
            ],
        )
        return [_UNAUTHORIZED_PAGE]


__all__ = [
    "LOGIN_TIMEOUT",
    "LOGON_PATH",
    "AuthGate",
    "is_secure",
    "logon_redirect",
    "request_url",
    "site_base",
]
