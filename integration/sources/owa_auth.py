"""How the WebDAV source logs in to Exchange 2007: HTTP Basic or the OWA forms log-in.

Owns telling the two apart the way DavMail and Outlook do (a GET of the ``/exchange/``
root without credentials or cookies: ``401`` means HTTP authentication; a redirect to
the OWA log-in page, ``440 Login Timeout`` or any other success means forms-based), the
``owaauth.dll`` log-in and its session cookies, and renewing them when Exchange answers
440 (the session expired) or the server switched modes.

Exchange 2007 answers the log-in POST with a redirect and session cookies whether or not
the password was right, so every log-in is confirmed by following that redirect: with a
wrong password the session is refused there (440, or a redirect back to ``logon.aspx``).
One log-in runs at a time; reads that hit 440 together wait for it and reuse its
session. After a refused log-in, reads fail at once for ``login_retry_delay`` seconds
instead of each trying again, so a wrong password does not lock the account out.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import Cookie, CookiePolicy
from http.cookies import CookieError, SimpleCookie
from typing import Final, Literal
from urllib.parse import urljoin, urlsplit
from urllib.request import Request

import httpx

from integration.http import transport_failure
from integration.sources.base import (
    AccessDenied,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)

log = logging.getLogger(__name__)

AuthMode = Literal["basic", "forms"]

LOGIN_TIMEOUT: Final = 440  # IIS/OWA "440 Login Timeout": no valid forms session
OWAAUTH_PATH: Final = "/owa/auth/owaauth.dll"
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
# Cookies a forms session consists of: 2007 sessionid + cadata (2003: cadata<n>).
_SESSION_COOKIE: Final = "sessionid"
_CADATA_PREFIX: Final = "cadata"


@dataclass(frozen=True)
class Credentials:
    """What each request carries: a Basic header or the session's cookies.

    ``generation`` tells a stale set from the current one, so that of many reads
    refused with the same session only the first logs in again.
    """

    mode: AuthMode
    headers: Mapping[str, str]
    generation: int


def is_logon_url(location: str | None) -> bool:
    """Whether a redirect goes to the OWA log-in page (2007 ``logon.aspx``, 2003
    ``owalogon.asp``)."""
    if not location:
        return False
    path = urlsplit(location).path.lower()
    return path.endswith("/logon.aspx") or path.endswith("/owalogon.asp")


def rejection(response: httpx.Response, credentials: Credentials) -> str | None:
    """Why Exchange refused the request's session in a way a new log-in may fix, or None.

    A 401 is such a refusal only for a forms session (the server now wants HTTP
    authentication); with Basic it means the password is wrong, which no retry fixes.
    """
    status = response.status_code
    if status == LOGIN_TIMEOUT:
        return "440 Login Timeout"
    if status in _REDIRECTS and is_logon_url(response.headers.get("location")):
        return f"HTTP {status} to the log-in page"
    if status == 401 and credentials.mode == "forms":
        return "HTTP 401: the server asks for HTTP authentication"
    return None


def session_cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies a response sets, by name, as sent (cleared ones left out)."""
    jar: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        try:
            parsed.load(header)
        except CookieError:
            continue  # one garbled cookie does not spoil the others
        for name, morsel in parsed.items():
            if morsel.value:
                jar[name] = morsel.coded_value
            else:
                jar.pop(name, None)  # "name=; expires=1970": Exchange clearing it
    return jar


class NoCookies(CookiePolicy):
    """A cookie jar policy that keeps nothing: httpx must not store or send cookies by
    itself, because a session's cookies go with requests explicitly, per generation."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: Cookie, request: Request) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: Request) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Request) -> bool:
        return False

    def path_return_ok(self, path: str, request: Request) -> bool:
        return False


def _is_session(cookies: Mapping[str, str]) -> bool:
    has_cadata = any(name.lower().startswith(_CADATA_PREFIX) for name in cookies)
    return has_cadata and any(name.lower() == _SESSION_COOKIE for name in cookies)


class WebDavAuth:
    """The service account's way in to one Exchange server, shared by all reads.

    ``server_url`` is the ``/exchange/`` root. Call ``credentials`` before a request
    and ``renew`` when ``rejection`` says the answer refused them.
    """

    def __init__(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        timeout: float,
        login_retry_delay: float = 15.0,
    ) -> None:
        self.server_url = server_url
        self.username = username
        self._password = password
        self._timeout = timeout
        self._login_retry_delay = login_retry_delay
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._basic = {"Authorization": f"Basic {token}"}
        parts = urlsplit(server_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._owaauth_path = OWAAUTH_PATH
        self._mode: AuthMode | None = None
        self._current: Credentials | None = None
        self._generation = 0
        self._refused: tuple[float, AccessDenied] | None = None  # (until, error)
        self._lock = asyncio.Lock()
        self.logins = 0  # forms log-ins attempted since start (for tests and logs)

    @property
    def mode(self) -> AuthMode | None:
        """What detection found: ``basic``, ``forms``, or None before the first read."""
        return self._mode

    async def credentials(self, client: httpx.AsyncClient, mailbox: str) -> Credentials:
        """The current credentials, detecting the mode and logging in on first use."""
        current = self._current
        if current is not None:
            return current
        async with self._lock:
            if self._current is not None:
                return self._current
            self._check_refused(mailbox)
            return await self._establish(client, mailbox, detect=self._mode is None)

    async def renew(
        self, client: httpx.AsyncClient, stale: Credentials, reason: str, mailbox: str
    ) -> Credentials:
        """New credentials after ``stale`` was refused for ``reason``; one log-in at a
        time, and none at all when another read already renewed them."""
        async with self._lock:
            current = self._current
            if current is not None and current.generation != stale.generation:
                return current
            self._check_refused(mailbox)
            # Basic refused with 440 or a log-in redirect, or forms answered with 401:
            # the server's mode changed under us, so find out again.
            detect = stale.mode == "basic" or reason.startswith("HTTP 401")
            log.info("%s: %s; %s", mailbox, reason, "detecting again" if detect else "new log-in")
            self._current = None
            return await self._establish(client, mailbox, detect=detect)

    def _check_refused(self, mailbox: str) -> None:
        if self._refused is None:
            return
        until, error = self._refused
        if asyncio.get_running_loop().time() < until:
            raise AccessDenied(error.message, mailbox=mailbox, code=error.code)
        self._refused = None

    async def _establish(
        self, client: httpx.AsyncClient, mailbox: str, *, detect: bool
    ) -> Credentials:
        if detect or self._mode is None:
            self._mode = await self._detect(client, mailbox)
        if self._mode == "basic":
            headers: Mapping[str, str] = self._basic
        else:
            headers = await self._login(client, mailbox)
        self._generation += 1
        self._current = Credentials(self._mode, headers, self._generation)
        return self._current

    async def _get(
        self, client: httpx.AsyncClient, url: str, mailbox: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        try:
            return await client.get(url, headers=dict(headers))
        except httpx.TransportError as exc:
            raise transport_failure(exc, url, self._timeout, mailbox) from None

    async def _detect(self, client: httpx.AsyncClient, mailbox: str) -> AuthMode:
        """A GET of the root with no credentials and no cookies; what the answer means."""
        response = await self._get(client, self.server_url, mailbox, {})
        status = response.status_code
        if status == 401:
            mode: AuthMode = "basic"
        elif status == LOGIN_TIMEOUT or 200 <= status < 400:
            mode = "forms"
            location = response.headers.get("location")
            if status in _REDIRECTS and is_logon_url(location):
                self._owaauth_path = _owaauth_beside(urljoin(self.server_url, location or ""))
        else:
            raise _http_failure(response, mailbox, f"authentication probe of {self.server_url}")
        log.info("%s asks for %s authentication", self.server_url, mode)
        return mode

    async def _login(self, client: httpx.AsyncClient, mailbox: str) -> Mapping[str, str]:
        """POST owaauth.dll, then follow its redirect to confirm the session."""
        url = self._origin + self._owaauth_path
        form = {
            "destination": self.server_url,
            "flags": "4",
            "forcedownlevel": "0",
            "trusted": "4",
            "isutf8": "1",
            "username": self.username,
            "password": self._password,
        }
        self.logins += 1
        try:
            response = await client.post(url, data=form)
        except httpx.TransportError as exc:
            raise transport_failure(exc, url, self._timeout, mailbox) from None
        status = response.status_code
        location = response.headers.get("location")
        cookies = session_cookies(response)
        if status >= 500 or status == 404:
            raise _http_failure(response, mailbox, f"OWA log-in at {url}")
        if not _is_session(cookies):
            if status in _REDIRECTS and (is_logon_url(location) or not cookies):
                raise self._refuse(mailbox, f"log-in answered HTTP {status} to {location}")
            raise SourceProtocolError(
                f"OWA log-in at {url} answered HTTP {status} without session cookies",
                mailbox=mailbox,
                code=f"HTTP {status}",
            )
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
        # Exchange 2007 sets cookies for any password: the destination tells.
        confirm = await self._get(client, self.server_url, mailbox, headers)
        refused = rejection(confirm, Credentials("forms", headers, 0))
        if refused is not None:
            raise self._refuse(mailbox, f"the new session got {refused}")
        if confirm.status_code >= 500:
            raise _http_failure(confirm, mailbox, f"session check at {self.server_url}")
        log.info("logged in to %s as %s (forms-based)", self._origin, self.username)
        return headers

    def _refuse(self, mailbox: str, detail: str) -> AccessDenied:
        error = AccessDenied(
            f"service account credentials refused for {self.username} ({detail})",
            mailbox=mailbox,
            code=f"HTTP {LOGIN_TIMEOUT}",
        )
        until = asyncio.get_running_loop().time() + self._login_retry_delay
        self._refused = (until, error)
        log.warning("forms log-in as %s refused: %s", self.username, detail)
        return error


def _owaauth_beside(logon_url: str) -> str:
    """The log-in POST path next to the log-in page (``/owa/auth/owaauth.dll``;
    Exchange 2003: ``/exchweb/bin/auth/owaauth.dll``)."""
    folder = urlsplit(logon_url).path.rsplit("/", 1)[0]
    return f"{folder}/owaauth.dll" if folder else OWAAUTH_PATH


def _http_failure(response: httpx.Response, mailbox: str, what: str) -> SourceError:
    status = response.status_code
    code = f"HTTP {status}"
    reason = response.reason_phrase or ""
    if status >= 500:
        return SourceUnavailable(
            f"{what}: server error {reason}".strip(), mailbox=mailbox, code=code
        )
    if status == 404:
        return SourceProtocolError(
            f"{what}: not found; server_url must be the /exchange/ root", mailbox=mailbox, code=code
        )
    return SourceProtocolError(
        f"{what}: unexpected answer {reason}".strip(), mailbox=mailbox, code=code
    )


__all__ = [
    "LOGIN_TIMEOUT",
    "OWAAUTH_PATH",
    "AuthMode",
    "Credentials",
    "NoCookies",
    "WebDavAuth",
    "is_logon_url",
    "rejection",
    "session_cookies",
    "transport_failure",
]
