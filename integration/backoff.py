"""How the engine backs off when Exchange asks it to wait.

A server's hint (EWS ``ErrorServerBusy`` with ``BackOffMilliseconds``, HTTP 503 with
``Retry-After``) is taken for the whole server: every mailbox is read with the one
service account, and it is the account (or the server) that is overloaded. Until
the hint runs out no mailbox is read. After it, each mailbox waits a little longer,
a jitter of up to a tenth of the hint (at most ``MAX_JITTER``), derived from the
mailbox address, so that thousands of mailboxes do not come back in the same
instant, and a scenario run repeats exactly.

Without a hint nothing is held back: a failed read is retried at that user's next
poll. The poll cadence is the retry, which is what R3 (catch-up at "the next
successful poll") counts on; growing the gap after each failure would only make
the engine see a recovered server later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

JITTER_SHARE = 0.1  # of the server's hint
MAX_JITTER = timedelta(seconds=30)


def jitter(mailbox: str, span: timedelta) -> timedelta:
    """A stable share of ``span`` for ``mailbox`` (the same every run)."""
    digest = hashlib.sha1(mailbox.lower().encode("utf-8")).digest()
    share = int.from_bytes(digest[:4], "big") / 2**32
    return span * share


@dataclass
class Backoff:
    """The server's latest hint: hold reads until ``until``, then spread them."""

    until: datetime | None = None
    spread: timedelta = timedelta(0)
    reason: str = ""

    def hold(self, now: datetime, seconds: float, reason: str) -> bool:
        """The server asked for ``seconds`` of quiet at ``now``; True when that holds
        reads back longer than what was held already (a new hint worth logging)."""
        wait = timedelta(seconds=max(seconds, 0.0))
        until = now + wait
        if self.until is not None and until <= self.until:
            return False
        self.until = until
        self.spread = min(wait * JITTER_SHARE, MAX_JITTER)
        self.reason = reason
        return True

    def release_at(self, mailbox: str) -> datetime | None:
        """When ``mailbox`` may be read again, or None when nothing holds it back."""
        if self.until is None:
            return None
        return self.until + jitter(mailbox, self.spread)

    def holds(self, mailbox: str, now: datetime) -> datetime | None:
        """The release time of ``mailbox`` if it is still held back at ``now``."""
        release = self.release_at(mailbox)
        if release is None or now >= release:
            return None
        return release
