"""Which users one engine process polls when several share the directory: ``--shard I/N``.

Mailboxes are independent, so N engine processes can split them without a coordinator:
each polls the users whose stable hash falls in its shard. The hash is of the user's
lower-cased e-mail address (the mailbox), or of the extension for a user without one
(so that exactly one shard reports it as skipped, R1). It is SHA-1 based, the same in
every process, Python version and machine (unlike ``hash()``), so shard I keeps its
users across restarts and a new shard count moves only the users it must.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def shard_key(email: str | None, extension: str) -> str:
    """What a user is hashed by: the mailbox address, else the extension."""
    return email.strip().lower() if email else f"extension:{extension}"


def shard_of(key: str, count: int) -> int:
    """The shard (0 .. count-1) of ``key`` among ``count`` shards."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based index: ``0/4`` .. ``3/4``)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("the shard count must be at least 1")
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index must be 0..{self.count - 1}, not {self.index}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"`` (e.g. ``"0/4"``), ValueError with the reason otherwise."""
        match = _SPEC.fullmatch(text)
        if match is None:
            raise ValueError(f"a shard is I/N, e.g. 0/4 (index 0..N-1 of N), not {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def owns(self, email: str | None, extension: str) -> bool:
        """True if the user with this mailbox (or extension) is polled by this shard."""
        return self.count == 1 or shard_of(shard_key(email, extension), self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


__all__ = ["Shard", "shard_key", "shard_of"]
