"""How the site authenticates /exchange/, /public/ and /owa/: the per-site auth mode
and the forms-based (OWA 2007) log-in sessions.

``SiteAuth.mode`` is ``"basic"`` (IIS Basic on every request) or ``"forms"`` (the
owaauth.dll log-in and session cookies), switchable at run time because scenarios
reuse one site and reset it per scenario. A forms session behaves like Exchange
2007's: owaauth.dll stores the credentials in the ``cadata`` cookie without checking
them, so a wrong password still gets cookies and the *next* request fails. Sessions
expire after ``idle_timeout`` of Exchange clock time (the scenario clock), so a frozen,
stepped clock expires them without timers.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any, Literal

from simulators.exchange.model import Account
from simulators.exchange.store import ExchangeStore

AuthMode = Literal["basic", "forms"]
AUTH_MODES: tuple[AuthMode, ...] = ("basic", "forms")

SESSION_COOKIE = "sessionid"
CADATA_COOKIE = "cadata"
USER_CONTEXT_COOKIE = "UserContext"
SESSION_COOKIES = (SESSION_COOKIE, CADATA_COOKIE, USER_CONTEXT_COOKIE)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)

SESSION_KEY = "harness.owa_session"  # environ key: the forms Session of the request


@dataclass
class Session:
    """One owaauth.dll log-in. ``account`` is None when the credentials were wrong."""

    id: str
    cadata: str
    canary: str  # OWA's CSRF canary; also the UserContext cookie
    username: str
    account: Account | None
    last_seen: datetime

    def set_cookie_headers(self, secure: bool) -> list[tuple[str, str]]:
        flags = "; path=/" + ("; secure" if secure else "") + "; HttpOnly"
        return [
            ("Set-Cookie", f"{SESSION_COOKIE}={self.id}{flags}"),
            ("Set-Cookie", f"{CADATA_COOKIE}={self.cadata}{flags}"),
            ("Set-Cookie", f"{USER_CONTEXT_COOKIE}={self.canary}; path=/"),
        ]


@dataclass(frozen=True)
class Lookup:
    """The outcome of reading a request's session cookies.

    ``state``: ``ok``; ``none`` (no session cookies); ``expired`` (idle too long);
    ``invalid`` (unknown or tampered cookies); ``bad_credentials`` (the log-in that made
    the session had a wrong user name or password).
    """

    state: Literal["ok", "none", "expired", "invalid", "bad_credentials"]
    session: Session | None = None


def clear_cookie_headers(secure: bool) -> list[tuple[str, str]]:
    """Set-Cookie headers that delete the session cookies, as Exchange sends on 440."""
    flags = "; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/" + ("; secure" if secure else "")
    return [("Set-Cookie", f"{name}={flags}") for name in SESSION_COOKIES]


def request_cookies(environ: dict[str, Any]) -> dict[str, str]:
    """The request's cookies by name; garbled headers count as no cookies."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


class SiteAuth:
    """The auth mode and the forms sessions of one site (thread-safe)."""

    def __init__(
        self,
        store: ExchangeStore,
        mode: AuthMode = "basic",
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.idle_timeout = idle_timeout
        self.clock = clock or store.clock.now
        # Exchange 2010 checks the password at log-in; 2007 (the default) does not.
        self.check_password_at_logon = False
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._basic_canaries: dict[str, str] = {}
        self._mode: AuthMode = "basic"
        self.mode = mode

    @property
    def mode(self) -> AuthMode:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in AUTH_MODES:
            raise ValueError(f"unknown WebDAV auth mode {value!r}; known: basic, forms")
        self._mode = value  # type: ignore[assignment]

    def reset(self, mode: str = "basic") -> None:
        """Forget every session and set the mode (a new scenario starts)."""
        self.mode = mode
        with self._lock:
            self._sessions.clear()
            self._basic_canaries.clear()

    # ------------------------------------------------------------- forms
    def logon(self, username: str, password: str) -> Session:
        """A new session for the credentials, right or wrong (Exchange 2007)."""
        account = self.store.authenticate(username, password) if username else None
        session = Session(
            id=secrets.token_hex(16),
            cadata=secrets.token_urlsafe(48),
            canary=secrets.token_hex(16),
            username=username,
            account=account,
            last_seen=self.clock(),
        )
        with self._lock:
            self._sessions[session.id] = session
        return session

    def logoff(self, environ: dict[str, Any]) -> None:
        """End the session of the request's cookies."""
        session_id = request_cookies(environ).get(SESSION_COOKIE)
        if session_id:
            self.logoff_session(session_id)

    def logoff_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def lookup(self, environ: dict[str, Any]) -> Lookup:
        """The request's session; a good one is touched (its idle time restarts)."""
        cookies = request_cookies(environ)
        session_id = cookies.get(SESSION_COOKIE)
        cadata = cookies.get(CADATA_COOKIE)
        if not session_id and not cadata:
            return Lookup("none")
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id or "")
            if session is None or not secrets.compare_digest(session.cadata, cadata or ""):
                return Lookup("invalid")
            if session.account is None:
                del self._sessions[session.id]
                return Lookup("bad_credentials", session)
            if now - session.last_seen >= self.idle_timeout:
                del self._sessions[session.id]
                return Lookup("expired", session)
            session.last_seen = now
            return Lookup("ok", session)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # ------------------------------------------------------------- canary
    def basic_canary(self, account: Account) -> str:
        """The CSRF canary of an account that uses OWA with Basic credentials."""
        key = account.upn.lower()
        with self._lock:
            return self._basic_canaries.setdefault(key, secrets.token_hex(16))


__all__ = [
    "AUTH_MODES",
    "SESSION_COOKIES",
    "SESSION_KEY",
    "AuthMode",
    "Lookup",
    "Session",
    "SiteAuth",
    "clear_cookie_headers",
    "request_cookies",
]
