"""Rights changes in the store: made now, in effect later (``simulators.exchange.rights``).

A grant or revoke waits in ``_pending_rights`` until the store's (Exchange's) clock
reaches its ``effective`` time; every check of a right first carries out the changes
that are due, so a change "becomes active" exactly then, whoever asks.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from simulators.exchange.model import Account
from simulators.exchange.rights import Right, RightsChange
from simulators.exchange.rights import apply as apply_rights_change
from simulators.exchange.store_errors import StoreError


class RightsOperations:
    """Mixed into ``ExchangeStore``."""

    _lock: threading.RLock
    accounts: dict[str, Account]
    mailboxes: dict[str, Any]
    _pending_rights: list[RightsChange]

    def _now(self) -> datetime:  # pragma: no cover - the store's own
        raise NotImplementedError

    def change_rights(
        self,
        *,
        grant: bool,
        right: Right,
        account: str,
        mailbox: str | None = None,
        delay: timedelta = timedelta(0),
    ) -> RightsChange:
        """Grant or revoke ``right`` for ``account`` (its UPN); it takes effect ``delay``
        from now on the store's clock (at once with 0). ``mailbox``: an address,
        ``ALL_MAILBOXES``, or None for ``impersonation_on_server``."""
        if delay < timedelta(0):
            raise ValueError("a rights change cannot take effect in the past")
        with self._lock:
            if account.lower() not in self.accounts:
                raise StoreError("ErrorNonExistentMailbox", f"no account {account}")
            box = mailbox.lower() if mailbox is not None else None
            change = RightsChange(self._now() + delay, grant, right, account.lower(), box)
            self._pending_rights.append(change)
            self._apply_due_rights()
            return change

    def pending_rights(self) -> list[RightsChange]:
        """Changes made but not in effect yet, in the order they take effect."""
        with self._lock:
            self._apply_due_rights()
            return sorted(self._pending_rights, key=lambda c: c.effective)

    def _apply_due_rights(self) -> None:
        """Carry out every pending change whose time has come (caller holds the lock)."""
        if not self._pending_rights:
            return
        now = self._now()
        due = sorted(
            (c for c in self._pending_rights if c.effective <= now), key=lambda c: c.effective
        )
        for change in due:
            self._pending_rights.remove(change)
            account = self.accounts.get(change.account)
            if account is not None:
                apply_rights_change(change, account, self.mailboxes)

    def has_full_access(self, account: Account, smtp: str) -> bool:
        """FullAccess (or ownership) of ``account`` on the mailbox ``smtp``, now."""
        with self._lock:
            self._apply_due_rights()
            return account.has_full_access(smtp)


__all__ = ["RightsOperations"]
