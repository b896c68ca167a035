"""A token in front of the harness's own APIs (the PBX's JSON API, the control API).

On loopback only the machine's own users reach them, and they stay open. Bound
anywhere else, ``harness serve`` puts ``BearerGate`` in front: each request needs
``Authorization: Bearer TOKEN`` and otherwise gets a 401 naming what is missing.
A browser cannot add that header to the live view's requests, so opening a page
once with ``?token=TOKEN`` sets a cookie (HttpOnly, SameSite=Strict) that counts
the same. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
COOKIE = "harness_token"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class BearerGate:
    """Passes requests that carry ``token`` to ``app``; answers 401 to the others."""

    def __init__(self, app: WsgiApp, token: str, realm: str = "harness") -> None:
        if not token:
            raise ValueError("a gate needs a token")
        self.app = app
        self._token = token.encode("utf-8")
        self.realm = realm

    def _presented(self, environ: dict[str, Any]) -> tuple[str | None, bool]:
        """(the token the request carries, whether it came in the query)."""
        scheme, _, value = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        if query.get("token"):
            return query["token"][-1], True
        try:
            cookie = SimpleCookie(str(environ.get("HTTP_COOKIE", "")))
        except CookieError:
            return None, False
        morsel = cookie.get(COOKIE)
        return (morsel.value if morsel else None), False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        token, from_query = self._presented(environ)
        if token is None or not hmac.compare_digest(token.encode("utf-8"), self._token):
            return self._refuse(start_response, given=token is not None)
        if not from_query:
            return self.app(environ, start_response)
        # The app sees the query without the token (the control API refuses unknown names).
        rest = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        environ["QUERY_STRING"] = urlencode([(k, v) for k, v in rest if k != "token"])

        def with_cookie(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            path = str(environ.get("SCRIPT_NAME", "")) or "/"
            cookie = f"{COOKIE}={token}; Path={path}; HttpOnly; SameSite=Strict"
            headers = [*headers, ("Set-Cookie", cookie)]
            return start_response(status, headers, exc_info)

        return self.app(environ, with_cookie)

    def _refuse(self, start_response: Callable[..., Any], *, given: bool) -> list[bytes]:
        message = (
            "the token is wrong"
            if given
            else "this API needs a token: send Authorization: Bearer TOKEN (the ready file's token)"
        )
        body = json.dumps({"error": message}).encode()
        challenge = f'Bearer realm="{self.realm}"' + (', error="invalid_token"' if given else "")
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("WWW-Authenticate", challenge),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


def gated(token: str | None) -> Callable[[WsgiApp], WsgiApp]:
    """Middleware: ``BearerGate`` with ``token``, or the app as it is without one."""

    def wrap(app: WsgiApp) -> WsgiApp:
        return BearerGate(app, token) if token else app

    return wrap


__all__ = ["COOKIE", "BearerGate", "gated", "is_loopback"]
