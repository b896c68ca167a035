"""What a public folder contact search returns, and the rules every protocol shares.

Owns ``ContactHit`` (one contact as the PBX directory shows it), the ``ContactSearch``
protocol the EWS and WebDAV implementations satisfy, the checks a query passes before
it goes on the wire, how per-folder results are merged, and the short-lived cache of
the first-level folder list (the folder tree changes rarely; every search needs it).

Only the first level of the public folder tree is searched: Exchange 2007 refuses deep
traversal of public folders over both EWS and WebDAV, and the PBX vendor documents that
contacts in subfolders are not found.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_QUERY_LENGTH = 200
DEFAULT_FOLDER_TTL = 300.0  # seconds the first-level folder list is reused


class InvalidQuery(ValueError):
    """A query or limit that cannot be sent to Exchange (empty, too long, control chars)."""


@dataclass(frozen=True)
class ContactHit:
    """One contact found in a first-level public folder; absent fields are ``""``."""

    display_name: str
    given_name: str = ""
    surname: str = ""
    company: str = ""
    email: str = ""
    business_phone: str = ""
    mobile_phone: str = ""
    home_phone: str = ""
    folder: str = ""  # display name of the public folder it was found in

    @property
    def phones(self) -> list[tuple[str, str]]:
        """The numbers it has, labelled ``business``, ``mobile``, ``home``, in that order."""
        labelled = (
            ("business", self.business_phone),
            ("mobile", self.mobile_phone),
            ("home", self.home_phone),
        )
        return [(label, number) for label, number in labelled if number]

    def matches(self, query: str) -> bool:
        """Whether ``query`` is a case-insensitive substring of a searched field."""
        needle = query.casefold()
        return any(
            needle in value.casefold()
            for value in (
                self.display_name,
                self.given_name,
                self.surname,
                self.company,
                self.email,
            )
        )


@runtime_checkable
class ContactSearch(Protocol):
    """Searches the contacts of the first-level public folders; safe to share between
    concurrent callers. Close it with ``aclose()`` (or ``async with``)."""

    async def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[ContactHit]:
        """Contacts whose display name, given name, surname, company or e-mail contains
        ``query`` (ignoring case), sorted by display name, at most ``limit``.

        Raises ``InvalidQuery`` for a query that cannot be sent, and a
        ``integration.sources.SourceError`` subclass when Exchange fails or refuses."""
        ...

    async def aclose(self) -> None:
        """Release the connection pool."""
        ...


def check_query(query: str, limit: int) -> str:
    """The query as it is sent (surrounding blanks removed), or ``InvalidQuery``."""
    if not isinstance(query, str):
        raise InvalidQuery(f"query must be a string, not {type(query).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}")
    text = query.strip()
    if not text:
        raise InvalidQuery("query must not be empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"query longer than {MAX_QUERY_LENGTH} characters")
    # XML 1.0 cannot carry most control characters even escaped, and no name has one.
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidQuery(f"query contains the control character {char!r}")
    return text


def merge_hits(hits: Iterable[ContactHit], limit: int) -> list[ContactHit]:
    """All folders' hits in one list: by display name (ignoring case), then folder,
    the first ``limit``."""

    def key(hit: ContactHit) -> tuple[str, str, str, str, str]:
        return (
            hit.display_name.casefold(),
            hit.folder.casefold(),
            hit.surname.casefold(),
            hit.given_name.casefold(),
            hit.email.casefold(),
        )

    return sorted(hits, key=key)[:limit]


@dataclass(frozen=True)
class PublicFolder:
    """A first-level public contact folder: EWS FolderId (+ ChangeKey) or WebDAV URL."""

    id: str
    name: str
    change_key: str = ""


F = TypeVar("F")


class FolderCache(Generic[F]):
    """The folder list, fetched at most once per ``ttl`` seconds, however many searches
    ask at the same time (one fetch; the others wait for it)."""

    def __init__(self, ttl: float = DEFAULT_FOLDER_TTL, clock: Callable[[], float] | None = None):
        if ttl < 0:
            raise ValueError("ttl must not be negative")
        self.ttl = ttl
        self._clock = clock or time.monotonic
        self._folders: list[F] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the list was read from Exchange

    def invalidate(self) -> None:
        """Forget the list: the next search reads it again (a folder was gone)."""
        self._folders = None

    def _fresh(self) -> list[F] | None:
        if self._folders is None or self._clock() - self._fetched_at >= self.ttl:
            return None
        return self._folders

    async def get(self, fetch: Callable[[], Awaitable[list[F]]]) -> list[F]:
        """The cached list, or ``fetch()``'s when it is older than ``ttl``."""
        folders = self._fresh()
        if folders is not None:
            return folders
        async with self._lock:
            folders = self._fresh()  # another search may have fetched it meanwhile
            if folders is not None:
                return folders
            folders = await fetch()
            self.fetches += 1
            self._folders = folders
            self._fetched_at = self._clock()
            return folders


class FirstLevelSearch:
    """The search both protocols share: read the (cached) first-level folders, search
    each at once, merge. Subclasses set ``folder_cache`` and say how one folder list is
    read and how one folder is searched."""

    folder_cache: FolderCache[PublicFolder]

    async def _find_folders(self) -> list[PublicFolder]:
        raise NotImplementedError

    async def _search_folder(
        self, folder: PublicFolder, query: str, limit: int
    ) -> list[ContactHit]:
        raise NotImplementedError

    async def folders(self) -> list[PublicFolder]:
        """The first-level public contact folders (cached for ``folder_ttl``)."""
        return await self.folder_cache.get(self._find_folders)

    async def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[ContactHit]:
        """Contacts of the first-level public folders matching ``query``; see
        ``ContactSearch.search``."""
        text = check_query(query, limit)
        folders = await self.folders()
        results = await asyncio.gather(
            *(self._search_folder(folder, text, limit) for folder in folders),
            return_exceptions=True,
        )
        hits: list[ContactHit] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            hits.extend(result)
        return merge_hits(hits, limit)
