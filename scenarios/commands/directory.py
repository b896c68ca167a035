"""Plugs the engine's public folder contact search into the PBX simulator's
directory, as the PBX's Exchange integration does for its phone book.

The search is async and the PBX's HTTP API is threaded: searches run on a loop
of their own in a background thread; each call waits for its answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from integration.config import ExchangeConfig
from integration.contacts import open_contact_search
from integration.contacts.model import ContactHit
from integration.sources.base import SourceError
from simulators.pbx.directory import DirectoryEntry, DirectoryUnavailable

T = TypeVar("T")
TIMEOUT = 20.0


def entry_for(hit: ContactHit) -> DirectoryEntry:
    return DirectoryEntry(
        name=hit.display_name,
        source="exchange",
        company=hit.company,
        numbers=tuple(hit.phones),
        email=hit.email,
        folder=hit.folder,
    )


class ExchangeDirectory:
    """A PBX ``ExternalDirectory`` backed by the engine's contact search."""

    def __init__(self, exchange: ExchangeConfig) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._search = self._call(self._open(exchange))

    @staticmethod
    async def _open(exchange: ExchangeConfig) -> Any:
        return open_contact_search(exchange)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(TIMEOUT)

    def __call__(self, query: str, limit: int) -> list[DirectoryEntry]:
        try:
            hits = self._call(self._search.search(query, limit=limit))
        except (SourceError, ValueError, TimeoutError) as exc:
            raise DirectoryUnavailable(f"Exchange contact search failed: {exc}") from exc
        return [entry_for(hit) for hit in hits]

    def close(self) -> None:
        try:
            self._call(self._search.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()
