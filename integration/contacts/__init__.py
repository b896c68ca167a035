"""Public folder contact search: the PBX directory's view of Exchange contacts.

``ContactSearch.search(query, limit)`` returns ``ContactHit`` records from the contact
folders on the first level of the public folder tree, over EWS (``ews``) or WebDAV
(``webdav``). Errors are the engine's ``integration.sources`` error classes, plus
``InvalidQuery`` for a query that cannot be sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration.contacts.model import (
    DEFAULT_FOLDER_TTL,
    DEFAULT_LIMIT,
    ContactHit,
    ContactSearch,
    InvalidQuery,
    PublicFolder,
)

if TYPE_CHECKING:
    from integration.config import ExchangeConfig
    from integration.contacts.ews import EwsContactSearch
    from integration.contacts.webdav import WebDavContactSearch

__all__ = [
    "DEFAULT_FOLDER_TTL",
    "DEFAULT_LIMIT",
    "ContactHit",
    "ContactSearch",
    "InvalidQuery",
    "PublicFolder",
    "open_contact_search",
]


def open_contact_search(
    exchange: ExchangeConfig,
    *,
    folder_ttl: float = DEFAULT_FOLDER_TTL,
    timeout: float = 10.0,
) -> EwsContactSearch | WebDavContactSearch:
    """The search for the engine's [exchange] section, by its ``variant`` (``ews`` or
    ``webdav``); ``folder_ttl`` seconds of folder list caching, ``timeout`` per request."""
    from integration.contacts.ews import EwsContactSearch
    from integration.contacts.webdav import WebDavContactSearch

    if exchange.variant == "ews":
        return EwsContactSearch.from_config(exchange, folder_ttl=folder_ttl, timeout=timeout)
    if exchange.variant == "webdav":
        return WebDavContactSearch.from_config(exchange, folder_ttl=folder_ttl, timeout=timeout)
    raise ValueError(f"[exchange] variant {exchange.variant!r}: no contact search for it")
