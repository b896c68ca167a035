"""The PBX's directory search: its own users, then the external directory.

OpenScape Business looks a name up in its own user list and, through its
Exchange integration, in the first level of Exchange's public folders. The
external part is injected (``ExternalDirectory``) so that the simulator does not
depend on the engine: ``harness serve`` plugs in the engine's contact search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from simulators.pbx.model import User


@dataclass(frozen=True)
class DirectoryEntry:
    name: str
    source: str  # "pbx" (a PBX user) or "exchange" (a public folder contact)
    company: str = ""
    numbers: tuple[tuple[str, str], ...] = ()  # (label, number)
    email: str = ""
    folder: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class DirectoryUnavailable(Exception):
    """The external directory could not be searched (its message says why)."""


# query, limit -> entries; raises DirectoryUnavailable when the source fails.
ExternalDirectory = Callable[[str, int], list[DirectoryEntry]]


def internal_matches(users: Iterable[User], query: str) -> list[DirectoryEntry]:
    """PBX users whose name, extension or e-mail contains ``query`` (any case)."""
    needle = query.casefold()
    hits = []
    for user in users:
        haystack = (user.name, user.extension, user.email or "")
        if any(needle in value.casefold() for value in haystack):
            numbers: list[tuple[str, str]] = [("extension", user.extension)]
            if user.mobile:
                numbers.append(("mobile", user.mobile))
            hits.append(
                DirectoryEntry(user.name, "pbx", numbers=tuple(numbers), email=user.email or "")
            )
    return sorted(hits, key=lambda e: e.name.casefold())
