"""Public folder contact search over Exchange 2007 WebDAV.

Owns the two SEARCH requests and their answers: a shallow SEARCH of ``/public/`` for
its visible subfolders (``"DAV:isfolder" = True AND "DAV:ishidden" = False``), keeping
contact folders (``outlookfolderclass`` IPF.Contact; a folder that does not say is
kept, its SEARCH simply finds no persons); then per folder a shallow SEARCH for
``urn:content-classes:person`` items whose cn, givenName, sn, o or email1 is ``LIKE
'%query%'``, ordered by cn and cut with ``Range: rows=``. Deep traversal is refused in
the public folder tree, so contacts in subfolders are not found (as the vendor
documents). The folder list is cached for ``folder_ttl`` seconds.

Logging in is the calendar source's (``owa_auth.WebDavAuth``: Basic or the OWA forms
log-in, detected on the ``/exchange/`` root, renewed after ``440 Login Timeout``).

The query is a SQL string literal (single quotes doubled) inside XML (escaped). LIKE
has wildcards (``%``, ``_``, and ``[...]`` classes on some servers) and Exchange
documents no escape for them, so each of ``% _ [`` in a query is sent as ``_`` (any one
character, which includes itself) and the rows are then checked here for the literal
substring: hostile or odd queries find exactly what they say, on any dialect.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from email.utils import parseaddr
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote, urlsplit

import httpx

from integration.contacts.model import (
    DEFAULT_FOLDER_TTL,
    MAX_LIMIT,
    ContactHit,
    FirstLevelSearch,
    FolderCache,
    PublicFolder,
)
from integration.http import (
    USER_AGENT,
    ExchangeHttpClient,
    check_concurrency,
    check_http_url,
    exchange_client,
    exchange_login,
)
from integration.sources.base import (
    AccessDenied,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.sources.owa_auth import NoCookies, WebDavAuth, rejection, transport_failure
from integration.sources.webdav_xml import DavRow, parse_multistatus

if TYPE_CHECKING:
    from integration.config import ExchangeConfig

log = logging.getLogger(__name__)

CONTACT_FOLDER_CLASS: Final = "IPF.Contact"
_CONTACTS: Final = "urn:schemas:contacts:"
_FOLDER_CLASS: Final = "{http://schemas.microsoft.com/exchange/}outlookfolderclass"
_DISPLAYNAME: Final = "{DAV:}displayname"
# The searched properties, in the OR's order, and the returned ones.
SEARCHED: Final = ("cn", "givenName", "sn", "o", "email1")
_RETURNED: Final = {
    "cn": "display_name",
    "givenName": "given_name",
    "sn": "surname",
    "o": "company",
    "email1": "email",
    "telephoneNumber": "business_phone",
    "mobile": "mobile_phone",
    "homePhone": "home_phone",
}
_LIKE_SPECIAL: Final = "%_["
_XML_HEAD: Final = '<?xml version="1.0" encoding="utf-8"?><g:searchrequest xmlns:g="DAV:"><g:sql>'
_XML_TAIL: Final = "</g:sql></g:searchrequest>"


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def like_pattern(query: str) -> tuple[str, bool]:
    """``'%query%'`` as an SQL string literal, and whether it matches exactly the
    substring (False: a wildcard character became ``_``; check the rows)."""
    exact = not any(c in _LIKE_SPECIAL for c in query)
    tamed = "".join("_" if c in _LIKE_SPECIAL else c for c in query)
    return "'%" + tamed.replace("'", "''") + "%'", exact


def scope_path(path: str) -> str:
    """A folder path as it may stand in ``SCOPE('SHALLOW TRAVERSAL OF "..."')``:
    percent-encoded, so no quote of either kind ends the URL or the SQL string."""
    # "%" stays: the path is already encoded as the server wrote it in its hrefs.
    return quote(path, safe="/%@!$&()*+,;=-._~{}")


def folders_body(public_path: str) -> bytes:
    """The SEARCH for the visible first-level folders of the public folder tree."""
    sql = (
        'SELECT "DAV:displayname", "DAV:href", '
        '"http://schemas.microsoft.com/exchange/outlookfolderclass" '
        f"FROM SCOPE('SHALLOW TRAVERSAL OF \"{scope_path(public_path)}\"') "
        'WHERE "DAV:isfolder" = True AND "DAV:ishidden" = False'
    )
    return (_XML_HEAD + _xml_text(sql) + _XML_TAIL).encode("utf-8")


def contacts_body(folder_path: str, query: str) -> tuple[bytes, bool]:
    """The SEARCH for one folder's persons matching ``query``, and whether its LIKE is
    exact (see ``like_pattern``)."""
    pattern, exact = like_pattern(query)
    select = ", ".join(['"DAV:href"', *(f'"{_CONTACTS}{name}"' for name in _RETURNED)])
    likes = " OR ".join(f'"{_CONTACTS}{name}" LIKE {pattern}' for name in SEARCHED)
    sql = (
        f"SELECT {select} FROM SCOPE('SHALLOW TRAVERSAL OF \"{scope_path(folder_path)}\"') "
        'WHERE "DAV:isfolder" = false AND "DAV:ishidden" = false'
        " AND \"DAV:contentclass\" = 'urn:content-classes:person'"
        f' AND ({likes}) ORDER BY "{_CONTACTS}cn" ASC'
    )
    return (_XML_HEAD + _xml_text(sql) + _XML_TAIL).encode("utf-8"), exact


def _is_contact_class(folder_class: str) -> bool:
    return folder_class == CONTACT_FOLDER_CLASS or folder_class.startswith(
        CONTACT_FOLDER_CLASS + "."
    )


def parse_folders(content: bytes, public_path: str) -> list[PublicFolder]:
    """The contact folders of the first-level SEARCH answer, by path (``id``)."""
    found: list[PublicFolder] = []
    root = public_path.rstrip("/")
    for row in parse_multistatus(content):
        path = urlsplit(row.href).path if "://" in row.href else row.href
        if not path.startswith("/"):
            raise SourceProtocolError(f"public folder href is not a URL: {row.href!r}")
        path = path.rstrip("/") + "/"
        if path.rstrip("/") == root:
            continue  # a server listing the scope itself
        folder_class = row.props.get(_FOLDER_CLASS, ("", None))[0].strip()
        if folder_class and not _is_contact_class(folder_class):
            continue  # calendars, mail and post folders hold no contacts
        name = row.props.get(_DISPLAYNAME, ("", None))[0].strip()
        found.append(PublicFolder(id=path, name=name or unquote(path.rstrip("/").rsplit("/")[-1])))
    return found


def contact_from_row(row: DavRow, folder_name: str) -> ContactHit:
    """One person row as a ``ContactHit``."""
    fields: dict[str, str] = {}
    for name, field in _RETURNED.items():
        text, _ = row.props.get(f"{{{_CONTACTS}}}{name}", ("", None))
        if text.strip():
            fields[field] = text.strip()
    if "email" in fields and "<" in fields["email"]:
        # Exchange may write email1 as '"Name" <address>': keep the address.
        fields["email"] = parseaddr(fields["email"])[1] or fields["email"]
    display = fields.pop("display_name", "")
    if not display:
        display = " ".join(p for p in (fields.get("given_name"), fields.get("surname")) if p)
    return ContactHit(display_name=display, folder=folder_name, **fields)


class _FolderSkipped(Exception):
    """This folder cannot be searched (403, 404); the others can."""


class WebDavContactSearch(FirstLevelSearch, ExchangeHttpClient):
    """Searches the first-level public contact folders over WebDAV as the service account.

    ``server_url`` is the ``/exchange/`` root of the configuration (authentication is
    detected there); ``public_url`` the public folder root, by default ``/public/`` on
    the same server. ``folder_ttl`` (seconds) is how long the folder list is reused.
    Use ``async with`` or call ``aclose()``.
    """

    def __init__(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        public_url: str | None = None,
        verify: bool | ssl.SSLContext = True,
        ca_file: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 8,
        folder_ttl: float = DEFAULT_FOLDER_TTL,
        clock: Callable[[], float] | None = None,
        login_retry_delay: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = check_http_url(server_url)
        check_concurrency(concurrency)
        self.server_url = server_url if server_url.endswith("/") else server_url + "/"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        public = urlsplit(public_url or self._origin + "/public/")
        if public.scheme not in ("http", "https") or not public.hostname:
            raise ValueError(f"public_url must be an http(s) URL, not {public_url!r}")
        self.public_path = public.path.rstrip("/") + "/"
        self._public_origin = f"{public.scheme}://{public.netloc}"
        self.username = username
        self.timeout = timeout
        self.folder_cache: FolderCache[PublicFolder] = FolderCache(folder_ttl, clock)
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
            verify=verify,
            ca_file=ca_file,
            transport=transport,
        )

    @classmethod
    def from_config(
        cls,
        exchange: ExchangeConfig,
        *,
        folder_ttl: float = DEFAULT_FOLDER_TTL,
        timeout: float = 10.0,
    ) -> WebDavContactSearch:
        """A search for the [exchange] section of the engine's configuration."""
        return cls(**exchange_login(exchange, "webdav"), timeout=timeout, folder_ttl=folder_ttl)

    @property
    def auth_mode(self) -> str | None:
        """``basic`` or ``forms`` once the server was asked, else None."""
        return self._auth.mode

    async def _find_folders(self) -> list[PublicFolder]:
        url = self._public_origin + self.public_path
        response = await self._request("SEARCH", url, folders_body(self.public_path), {})
        if response.status_code not in (206, 207):
            raise self._error(response, f"SEARCH {url}")
        folders = parse_folders(response.content, self.public_path)
        log.debug("public contact folders: %s", ", ".join(f.name for f in folders) or "none")
        return folders

    async def _search_folder(
        self, folder: PublicFolder, query: str, limit: int
    ) -> list[ContactHit]:
        body, exact = contacts_body(folder.id, query)
        rows = limit if exact else MAX_LIMIT  # room for the rows the check below drops
        url = self._public_origin + scope_path(folder.id)
        async with self._slots:
            response = await self._request("SEARCH", url, body, {"Range": f"rows=0-{rows - 1}"})
        status = response.status_code
        if status == 416:
            return []  # nothing to page through: no match
        if status in (403, 404):
            if status == 404:
                self.folder_cache.invalidate()  # deleted or renamed since the list was read
            log.warning(
                "public folder %r skipped: HTTP %d %s", folder.name, status, response.reason_phrase
            )
            return []
        if status not in (206, 207):
            raise self._error(response, f"SEARCH {url}")
        hits = [contact_from_row(row, folder.name) for row in parse_multistatus(response.content)]
        return hits if exact else [hit for hit in hits if hit.matches(query)]

    async def _request(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """One request with the current credentials; after a refused session (440, the
        log-in page) one new log-in and one retry, then AccessDenied."""
        sent = {"Content-Type": 'text/xml; charset="utf-8"', **headers}
        credentials = await self._auth.credentials(self._client, "")
        response = await self._send(method, url, body, {**sent, **credentials.headers})
        reason = rejection(response, credentials)
        if reason is None:
            return response
        credentials = await self._auth.renew(self._client, credentials, reason, "")
        response = await self._send(method, url, body, {**sent, **credentials.headers})
        reason = rejection(response, credentials)
        if reason is not None:
            raise AccessDenied(
                f"session of {self.username} refused again after a new log-in ({reason})",
                code=f"HTTP {response.status_code}",
            )
        return response

    async def _send(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        try:
            return await self._client.request(method, url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self._origin, self.timeout, None) from None

    def _error(self, response: httpx.Response, what: str) -> SourceError:
        """The error a non-multistatus answer means."""
        status = response.status_code
        code = f"HTTP {status}"
        reason = response.reason_phrase or ""
        if status == 401:
            return AccessDenied(
                f"service account credentials refused for {self.username}", code=code
            )
        if status == 403:
            return AccessDenied(f"{what}: {self.username} may not read public folders", code=code)
        if status >= 500:
            return SourceUnavailable(f"{what}: server error {reason}".strip(), code=code)
        if status == 404:
            return SourceProtocolError(f"{what}: no public folders there", code=code)
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            return SourceProtocolError(f"{what}: redirected to {target}", code=code)
        words = " ".join(response.text[:300].split()) if status == 400 else reason
        return SourceProtocolError(f"{what}: refused: {words}".strip(), code=code)
