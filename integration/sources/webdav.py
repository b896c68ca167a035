"""The engine's WebDAV client for Exchange 2007: one SEARCH per mailbox and poll.

Owns how a calendar read over Exchange WebDAV, the older access path (R2), is carried
out and how each way it fails is classified. Per mailbox, the calendar folder is found
once, by a PROPFIND of the mailbox root for ``urn:schemas:httpmail:calendar`` (its name
is localised: ``Kalender`` in a German mailbox), and cached. Each read is then a SEARCH
on that folder made with the service account's FullAccess right; bounding both dtstart
and dtend makes Exchange expand recurring series into instance rows. Large results are
read in pages (``Range: rows=``, answered with ``Content-Range``).

A read costs one template join, one HTTP exchange on a pooled keep-alive connection
and one lxml parse. The wire format is ``webdav_xml``'s; logging in (HTTP Basic or the
OWA forms log-in, and again after ``440 Login Timeout``) is ``owa_auth``'s.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote, urlsplit

import httpx

from integration.appointments import Appointment
from integration.http import (
    USER_AGENT,
    ExchangeHttpClient,
    check_concurrency,
    check_http_url,
    exchange_client,
    exchange_login,
    retry_after,
)
from integration.sources.base import (
    AccessDenied,
    MailboxNotFound,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.sources.owa_auth import NoCookies, WebDavAuth, rejection, transport_failure
from integration.sources.webdav_xml import (
    PROPFIND_CALENDAR,
    SearchTemplate,
    parse_calendar_folder,
    parse_content_range,
    parse_search,
)
from integration.transport import PreparedRequests

if TYPE_CHECKING:
    from integration.config import ExchangeConfig, PollingConfig

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE: Final = 200
_PREPARED: Final = ("SEARCH", "PROPFIND")
MAX_PAGES: Final = 50  # 10,000 rows in one 24 h window is a broken calendar, not a busy one


@dataclass(frozen=True)
class CalendarFolder:
    """Where one mailbox's calendar is: the SEARCH URL and the body prefix for it."""

    url: str
    scope: str
    prefix: bytes


class WebDavCalendarSource(ExchangeHttpClient):
    """Reads calendars over Exchange 2007 WebDAV as one service account with FullAccess.

    ``server_url`` is the ``/exchange/`` root. One instance serves every mailbox;
    ``concurrency`` bounds both the reads in flight and the keep-alive connection
    pool. Use ``async with`` or call ``aclose()``.
    """

    def __init__(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        verify: bool | ssl.SSLContext = True,
        ca_file: str | None = None,
        concurrency: int = 50,
        timeout: float = 10.0,
        page_size: int = DEFAULT_PAGE_SIZE,
        login_retry_delay: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = check_http_url(server_url)
        check_concurrency(concurrency)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.server_url = server_url if server_url.endswith("/") else server_url + "/"
        self.username = username
        self.timeout = timeout
        self.page_size = page_size
        self.truncated_reads = 0  # reads cut at MAX_PAGES pages, since start
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._template = SearchTemplate()
        self._folders: dict[str, CalendarFolder] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._auth = WebDavAuth(
            self.server_url,
            username,
            password,
            timeout=timeout,
            login_retry_delay=login_retry_delay,
        )
        self._client = exchange_client(
            headers={"Accept": "text/xml", "User-Agent": USER_AGENT},
            cookies=CookieJar(policy=NoCookies()),  # the forms session is sent explicitly
            timeout=timeout,
            connections=concurrency,
            idle_connections=concurrency,
            verify=verify,
            ca_file=ca_file,
            transport=transport,
        )
        # SEARCH and PROPFIND written once per method (integration.transport), each
        # request adding its own headers; not with a test transport.
        self._prepared = (
            {m: PreparedRequests(self._client, m, self._origin + "/") for m in _PREPARED}
            if transport is None
            else {}
        )

    @classmethod
    def from_config(
        cls, exchange: ExchangeConfig, polling: PollingConfig | None = None
    ) -> WebDavCalendarSource:
        """A source for the [exchange] and [polling] sections of the engine's config."""
        return cls(
            **exchange_login(exchange, "webdav"),
            concurrency=polling.concurrency if polling else 50,
            timeout=polling.request_timeout.total_seconds() if polling else 10.0,
        )

    @property
    def auth_mode(self) -> str | None:
        """``basic`` or ``forms`` once the server was asked, else None."""
        return self._auth.mode

    @property
    def logins(self) -> int:
        """Forms log-ins attempted since start."""
        return self._auth.logins

    def request_body(self, folder_path: str, start: datetime, end: datetime) -> bytes:
        """The exact SEARCH body ``read`` sends for the calendar folder at ``folder_path``."""
        _check_window(start, end)
        return self._template.render(self._template.folder_prefix(folder_path), start, end)

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments of ``mailbox`` overlapping ``[start, end)``, occurrences expanded."""
        if not _plausible_address(mailbox):
            raise MailboxNotFound(f"not an e-mail address: {mailbox!r}", mailbox=mailbox)
        _check_window(start, end)
        async with self._slots:
            folder = await self._calendar_folder(mailbox)
            try:
                return await self._search(mailbox, folder, start, end)
            except _FolderGone:
                # Renamed, moved or recreated since we cached it: ask once more.
                self._folders.pop(mailbox.lower(), None)
                folder = await self._calendar_folder(mailbox)
                try:
                    return await self._search(mailbox, folder, start, end)
                except _FolderGone:
                    raise MailboxNotFound(
                        f"calendar folder {folder.scope} not found",
                        mailbox=mailbox,
                        code="HTTP 404",
                    ) from None

    async def calendar_folder(self, mailbox: str) -> str:
        """The URL ``read`` searches for ``mailbox`` (found once, then cached)."""
        async with self._slots:
            return (await self._calendar_folder(mailbox)).url

    async def _calendar_folder(self, mailbox: str) -> CalendarFolder:
        key = mailbox.lower()
        cached = self._folders.get(key)
        if cached is not None:
            return cached
        url = self.server_url + quote(mailbox, safe="@!$&'()*+,;=-._~") + "/"
        headers = {"Depth": "0", "Content-Type": 'text/xml; charset="utf-8"'}
        response = await self._request("PROPFIND", url, mailbox, PROPFIND_CALENDAR, headers)
        status = response.status_code
        if status != 207:
            raise self._mailbox_error(response, mailbox, f"PROPFIND {url}")
        found = parse_calendar_folder(response.content, mailbox)
        if found is None:
            raise MailboxNotFound("mailbox has no calendar folder", mailbox=mailbox)
        path = urlsplit(found).path if "://" in found else found
        if not path.startswith("/"):
            raise SourceProtocolError(f"calendar folder is not a URL: {found!r}", mailbox=mailbox)
        path = path.rstrip("/") + "/"
        scope = unquote(path)
        # The folder's path on the server we were configured with, whatever host it names.
        folder = CalendarFolder(self._origin + path, scope, self._template.folder_prefix(scope))
        self._folders[key] = folder
        return folder

    async def _search(
        self, mailbox: str, folder: CalendarFolder, start: datetime, end: datetime
    ) -> list[Appointment]:
        body = self._template.render(folder.prefix, start, end)
        found: dict[str, Appointment] = {}
        first = 0
        for _ in range(MAX_PAGES):
            last = first + self.page_size - 1
            headers = {"Content-Type": 'text/xml; charset="utf-8"', "Range": f"rows={first}-{last}"}
            response = await self._request("SEARCH", folder.url, mailbox, body, headers)
            status = response.status_code
            if status == 416 and first > 0:
                break  # asked past the end: the previous page was the last
            if status not in (206, 207):
                if status == 404:
                    raise _FolderGone()
                raise self._mailbox_error(response, mailbox, f"SEARCH {folder.url}")
            page = parse_search(response.content, mailbox)
            before = len(found)
            for appointment in page.appointments:
                found.setdefault(appointment.id, appointment)  # pages may overlap
            got = parse_content_range(response.headers.get("content-range"))
            if got is not None:
                if got[2] is None or got[1] + 1 >= got[2]:
                    break
                first = got[1] + 1
            elif page.rows != self.page_size or len(found) == before:
                break  # short page, a server ignoring Range, or nothing new
            else:
                first += page.rows
        else:
            self.truncated_reads += 1
            log.warning(
                "%s: calendar search cut after %d pages of %d rows",
                mailbox,
                MAX_PAGES,
                self.page_size,
            )
        return list(found.values())

    async def _request(
        self, method: str, url: str, mailbox: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """One request with the current credentials; after a refused session (440,
        the log-in page) one new log-in and one retry, then AccessDenied."""
        credentials = await self._auth.credentials(self._client, mailbox)
        response = await self._send(method, url, mailbox, body, {**headers, **credentials.headers})
        reason = rejection(response, credentials)
        if reason is None:
            return response
        credentials = await self._auth.renew(self._client, credentials, reason, mailbox)
        response = await self._send(method, url, mailbox, body, {**headers, **credentials.headers})
        reason = rejection(response, credentials)
        if reason is not None:
            raise AccessDenied(
                f"session of {self.username} refused again after a new log-in ({reason})",
                mailbox=mailbox,
                code=f"HTTP {response.status_code}",
            )
        return response

    async def _send(
        self, method: str, url: str, mailbox: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        prepared = self._prepared.get(method)
        try:
            if prepared is not None and prepared.usable and url.startswith(self._origin + "/"):
                target = quote(url[len(self._origin) :], safe="/%@:!$&'()*+,;=-._~").encode()
                return await prepared.send(target, body, headers)
            return await self._client.request(method, url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self._origin, self.timeout, mailbox) from None

    def _mailbox_error(self, response: httpx.Response, mailbox: str, what: str) -> SourceError:
        """The error a non-multistatus answer about a mailbox or its calendar means."""
        status = response.status_code
        code = f"HTTP {status}"
        if status == 404:
            return MailboxNotFound(f"no mailbox at {self.server_url}", mailbox=mailbox, code=code)
        if status == 403:
            return AccessDenied(
                f"{self.username} may not open this mailbox (FullAccess missing)",
                mailbox=mailbox,
                code=code,
            )
        if status == 401:
            return AccessDenied(
                f"service account credentials refused for {self.username}",
                mailbox=mailbox,
                code=code,
            )
        words = _server_words(response)
        if status >= 500:
            return SourceUnavailable(
                f"{what}: server error {words}".strip(),
                mailbox=mailbox,
                code=code,
                retry_after=retry_after(response),
            )
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            return SourceProtocolError(
                f"{what}: redirected to {target}: is server_url the /exchange/ root?",
                mailbox=mailbox,
                code=code,
            )
        if status == 400:
            return SourceProtocolError(
                f"{what} refused: {words}".strip(), mailbox=mailbox, code=code
            )
        return SourceProtocolError(
            f"{what}: unexpected answer {words}".strip(), mailbox=mailbox, code=code
        )


class _FolderGone(Exception):
    """SEARCH answered 404: the cached calendar folder is no longer there."""


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if not start < end:
        raise ValueError(f"empty window: {start.isoformat()} .. {end.isoformat()}")


def _plausible_address(mailbox: str) -> bool:
    local, at, domain = mailbox.partition("@")
    return (
        bool(at and local and domain)
        and mailbox.isprintable()
        and not any(c in mailbox for c in ' /\\?#"')
    )


_TAG = re.compile(rb"<[^>]*>")


def _server_words(response: httpx.Response) -> str:
    """The reason phrase and the gist of the body (tags stripped), for error messages."""
    text = _TAG.sub(b" ", response.content[:4000]).decode("utf-8", "replace")
    gist = " ".join(text.split())[:300]
    reason = response.reason_phrase or ""
    return f"{reason}: {gist}" if gist and gist != reason else reason
