"""When a fault acts on a request: its triggers, all deterministic.

A fault's window (scenario time, ``start`` to ``end``) and its ``mailbox`` decide
which requests are in its scope; of those, ``first`` takes the first N, ``every``
the Nth, 2Nth, ..., and ``probability`` a seeded share. Given together, all must
agree. The draw for ``probability`` is a hash of the seed, the mailbox and that
mailbox's count of requests in scope: no random generator, so a run repeats
exactly whatever order concurrent mailboxes' requests arrive in. ``first`` and
``every`` count every request in scope in arrival order (give ``mailbox`` too
when several mailboxes are read at once and the exact request matters).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Trigger:
    first: int | None = None  # only the first N requests in scope
    every: int | None = None  # only every Nth request in scope
    mailbox: str | None = None  # only requests for this mailbox or user (lower case)
    probability: float | None = None  # a seeded share of the requests in scope
    seed: int = 0

    def __post_init__(self) -> None:
        if self.first is not None and self.first < 1:
            raise ValueError("first must be at least 1")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be at least 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.mailbox is not None:
            object.__setattr__(self, "mailbox", self.mailbox.strip().lower())

    def covers(self, who: Iterable[str]) -> bool:
        """Whether a request naming ``who`` (mailboxes, users) is in scope."""
        if self.mailbox is None:
            return True
        return self.mailbox in {w.lower() for w in who if w}

    def picks(self, count: int, who: str, who_count: int) -> bool:
        """For the ``count``-th request in scope (the ``who_count``-th of ``who``)."""
        if self.first is not None and count > self.first:
            return False
        if self.every is not None and count % self.every:
            return False
        if self.probability is not None:
            return draw(self.seed, who, who_count) < self.probability
        return True

    def describe(self) -> str:
        parts = []
        if self.first is not None:
            parts.append(f"first {self.first}")
        if self.every is not None:
            parts.append(f"every {self.every}th")
        if self.mailbox is not None:
            parts.append(f"for {self.mailbox}")
        if self.probability is not None:
            parts.append(f"p={self.probability:g} seed {self.seed}")
        return ", ".join(parts)


def draw(seed: int, who: str, count: int) -> float:
    """A number in [0, 1) fixed by its arguments."""
    digest = hashlib.sha256(f"{seed}:{who.lower()}:{count}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


__all__ = ["Trigger", "draw"]
