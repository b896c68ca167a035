"""Public folder contact search: the PBX directory's view of Exchange contacts.

``ContactSearch.search(query, limit)`` returns ``ContactHit`` records from the contact
folders on the first level of the public folder tree, over EWS (``ews``) or WebDAV
(``webdav``). Errors are the engine's ``integration.sources`` error classes, plus
``InvalidQuery`` for a query that cannot be sent.
"""

from integration.contacts.model import (
    DEFAULT_FOLDER_TTL,
    DEFAULT_LIMIT,
    ContactHit,
    ContactSearch,
    InvalidQuery,
    PublicFolder,
)

__all__ = [
    "DEFAULT_FOLDER_TTL",
    "DEFAULT_LIMIT",
    "ContactHit",
    "ContactSearch",
    "InvalidQuery",
    "PublicFolder",
]
