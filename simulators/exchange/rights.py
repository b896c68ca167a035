"""Changes to an account's rights, as an Exchange 2007 administrator makes them.

Three rights matter to the PBX's service account (``Account`` in ``model``):

- ``impersonation_on_server``: ms-Exch-EPI-Impersonation on the Client Access
  server (``Add-ADPermission -Identity (Get-ExchangeServer).DistinguishedName``);
- ``impersonation``: ms-Exch-EPI-May-Impersonate, on one mailbox or on the mailbox
  database (``ALL_MAILBOXES``), which covers mailboxes created there later too;
- ``full_access``: FullAccess on one mailbox (``Add-MailboxPermission``). There is no
  grant on "all mailboxes": ``Get-Mailbox | Add-MailboxPermission`` grants it on each
  mailbox that exists then, so a mailbox created later is not covered.

A change takes effect ``delay`` after it is made ("it might take a couple of minutes
until Exchange configuration modifications are active"): the store keeps it pending
and ``apply`` runs it once the store's clock reaches ``effective``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from simulators.exchange.model import ALL_MAILBOXES, Account

Right = Literal["impersonation", "impersonation_on_server", "full_access"]
RIGHTS: tuple[str, ...] = get_args(Right)


@dataclass(frozen=True)
class RightsChange:
    """One grant or revoke; ``mailbox`` is a lower-case address, ``ALL_MAILBOXES``, or
    None for the server right."""

    effective: datetime  # on the store's (Exchange's) clock
    grant: bool
    right: Right
    account: str  # the account's UPN, lower case
    mailbox: str | None = None

    def __post_init__(self) -> None:
        if self.right not in RIGHTS:
            raise ValueError(f"unknown right {self.right!r}; known: {', '.join(RIGHTS)}")
        if (self.right == "impersonation_on_server") != (self.mailbox is None):
            raise ValueError(
                "impersonation_on_server is a server right (no mailbox); "
                "the other rights need a mailbox or ALL_MAILBOXES"
            )

    def describe(self) -> str:
        verb = "granted" if self.grant else "revoked"
        where = ""
        if self.mailbox == ALL_MAILBOXES:
            where = " on every mailbox" + (
                " (the database)" if self.right == "impersonation" else ""
            )
        elif self.mailbox is not None:
            where = f" on {self.mailbox}"
        return f"{self.right} {verb} {'to' if self.grant else 'from'} {self.account}{where}"


def apply(change: RightsChange, account: Account, mailboxes: Iterable[str]) -> None:
    """Carry ``change`` out on ``account``; ``mailboxes`` are those that exist now."""
    box = change.mailbox
    if change.right == "impersonation_on_server":
        account.impersonation_on_server = change.grant
    elif change.right == "impersonation":
        if box == ALL_MAILBOXES:
            account.may_impersonate = change.grant
            account.impersonation_withheld.clear()
            if not change.grant:
                account.impersonation_mailboxes.clear()
        elif box is not None and change.grant:
            account.impersonation_mailboxes.add(box)
            account.impersonation_withheld.discard(box)
        elif box is not None:  # a deny on one mailbox, whatever the database grants
            account.impersonation_mailboxes.discard(box)
            account.impersonation_withheld.add(box)
    elif box == ALL_MAILBOXES:
        if change.grant:
            account.full_access.discard(ALL_MAILBOXES)
            account.full_access.update(m.lower() for m in mailboxes)
        else:
            account.full_access.clear()
    elif box is not None and change.grant:
        account.full_access.add(box)
    elif box is not None:
        if ALL_MAILBOXES in account.full_access:
            account.full_access = {m.lower() for m in mailboxes}
        account.full_access.discard(box)


__all__ = ["RIGHTS", "Right", "RightsChange", "apply"]
