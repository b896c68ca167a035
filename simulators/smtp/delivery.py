"""What the sink does with mail: accounts, the relay policy, and delivery into the store.

The handler behind every listener. AUTH PLAIN and LOGIN check the store's
accounts (UPN, DOMAIN\\alias or alias, as IIS does). At RCPT a recipient is
local (a mailbox of the organisation), unknown in a local domain (550 5.1.1) or
remote (550 5.7.1 unless relaying is allowed). At DATA the message is stored in
each local recipient's inbox with the bytes exactly as the client sent them
(after SMTP transparency: leading dots removed, CRLF kept), and the envelope is
kept beside it in the ``MailJournal``. Relayed mail is kept in the journal's
outbound list, since there is nowhere to send it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from simulators.exchange.store import ExchangeStore, StoreError
from simulators.faults.injector import FaultInjector
from simulators.faults.smtp import at_stage, reply
from simulators.smtp.settings import SinkSettings

log = logging.getLogger(__name__)

RecipientKind = Literal["local", "unknown", "remote", "invalid"]

_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII, no '<' or '>'

REPLY_RECIPIENT_OK = "250 2.1.5 Recipient OK"
REPLY_USER_UNKNOWN = "550 5.1.1 User unknown"
REPLY_UNABLE_TO_RELAY = "550 5.7.1 Unable to relay"
REPLY_INVALID_ADDRESS = "501 5.1.3 Invalid address"
REPLY_AUTH_FAILED = "535 5.7.3 Authentication unsuccessful"
REPLY_LOCAL_ERROR = "451 4.3.0 Local error in processing; try again later"
SUBMISSION = "submission"  # the journal's listener name for mail sent from a mailbox


@dataclass(frozen=True)
class Transaction:
    """One accepted SMTP transaction: the envelope kept beside the stored bytes.

    ``delivered`` maps each local mailbox to the id of the item stored there.
    """

    id: str
    received: datetime
    listener: str
    peer: str
    helo: str
    tls: bool
    login: str | None
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    smtp_utf8: bool
    size: int
    sha256: str
    delivered: dict[str, str] = field(default_factory=dict)
    relayed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received": self.received.isoformat(),
            "listener": self.listener,
            "peer": self.peer,
            "helo": self.helo,
            "tls": self.tls,
            "login": self.login,
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "mail_options": list(self.mail_options),
            "smtp_utf8": self.smtp_utf8,
            "size": self.size,
            "sha256": self.sha256,
            "delivered": dict(self.delivered),
            "relayed": list(self.relayed),
        }


@dataclass(frozen=True)
class OutboundMessage:
    """Mail accepted for a remote domain (relaying allowed): kept, never sent."""

    transaction: Transaction
    raw: bytes = field(repr=False)


class MailJournal:
    """Every accepted transaction, by id and by stored item; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._transactions: list[Transaction] = []
            self._by_item: dict[str, Transaction] = {}
            self._outbound: list[OutboundMessage] = []
            self._ids = itertools.count(1)

    def next_id(self) -> str:
        with self._lock:
            return f"smtp-{next(self._ids):06d}"

    def record(self, transaction: Transaction, raw: bytes) -> None:
        with self._lock:
            self._transactions.append(transaction)
            for item_id in transaction.delivered.values():
                self._by_item[item_id] = transaction
            if transaction.relayed:
                self._outbound.append(OutboundMessage(transaction, raw))

    def transactions(self) -> list[Transaction]:
        with self._lock:
            return list(self._transactions)

    def outbound(self) -> list[OutboundMessage]:
        with self._lock:
            return list(self._outbound)

    def for_item(self, item_id: str) -> Transaction | None:
        with self._lock:
            return self._by_item.get(item_id)


def header_subject(raw: bytes) -> str:
    """The decoded Subject header ('' when absent or unreadable)."""
    return _headers(raw)[0]


def _headers(raw: bytes) -> tuple[str, str]:
    """(decoded Subject, Message-ID), each '' when absent or unreadable."""
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        subject = str(headers.get("subject", "") or "")
        message_id = str(headers.get("message-id", "") or "").strip()
    except Exception:  # a malformed header must not lose the message
        return "", ""
    return subject, message_id


def _peer(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


class SinkHandler:
    """aiosmtpd handler (hooks RCPT and DATA) and authenticator over one store."""

    def __init__(
        self,
        store: ExchangeStore,
        settings: SinkSettings,
        journal: MailJournal,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.settings = settings
        self.journal = journal
        self.clock = clock
        self.faults: FaultInjector | None = None  # the faults in force (simulators.faults)

    # ------------------------------------------------------------ accounts
    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        """AUTH PLAIN/LOGIN against the store's accounts; 535 as Exchange words it."""
        login_name = getattr(auth_data, "login", b"")
        who = [login_name.decode("utf-8", "replace")] if isinstance(login_name, bytes) else []
        fault = at_stage(self.faults, "AUTH", who)
        if fault is not None:
            return AuthResult(success=False, handled=False, message=reply(fault))
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False, message=REPLY_AUTH_FAILED)
        login = auth_data.login.decode("utf-8", errors="replace")
        password = auth_data.password.decode("utf-8", errors="replace")
        account = self.store.authenticate(login, password)
        if account is None:
            return AuthResult(success=False, handled=False, message=REPLY_AUTH_FAILED)
        return AuthResult(success=True, auth_data=account.upn)

    # -------------------------------------------------------------- policy
    def classify(self, address: str) -> RecipientKind:
        """Where a recipient address belongs, by the store's mailboxes now."""
        key = address.strip().lower()
        local_part, at, domain = key.rpartition("@")
        if not at or not local_part or not domain:
            return "invalid"
        mailboxes = list(self.store.mailboxes)
        if key in mailboxes:
            return "local"
        if domain in {smtp.rpartition("@")[2] for smtp in mailboxes}:
            return "unknown"
        return "remote"

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        fault = at_stage(self.faults, "MAIL", [address])
        if fault is not None:
            return reply(fault)  # 421: the protocol closes the channel after it
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        fault = at_stage(self.faults, "RCPT", [address])
        if fault is not None:
            return reply(fault)
        kind = self.classify(address)
        if kind == "invalid":
            return REPLY_INVALID_ADDRESS
        if kind == "unknown":
            return REPLY_USER_UNKNOWN
        if kind == "remote" and not self.settings.allow_relay:
            return REPLY_UNABLE_TO_RELAY
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return REPLY_RECIPIENT_OK

    # ------------------------------------------------------------ delivery
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = at_stage(self.faults, "DATA", envelope.rcpt_tos)
        if fault is not None and fault.row.action == "smtp_disconnect":
            abort = getattr(server, "abort", None)
            if abort is not None:
                abort()  # after the final dot, before any reply: the client cannot know
            return "451 4.4.2 Connection dropped"  # written to a closed transport: never read
        if fault is not None:
            return reply(fault)  # not stored
        raw = envelope.original_content or b""
        transaction = self.deliver(
            raw,
            envelope.mail_from or "",
            list(envelope.rcpt_tos),
            listener=getattr(getattr(server, "listener", None), "name", ""),
            peer=_peer(session),
            helo=session.host_name or "",
            tls=bool(getattr(server, "secure", False)),
            login=session.auth_data if isinstance(session.auth_data, str) else None,
            mail_options=tuple(envelope.mail_options),
            smtp_utf8=bool(envelope.smtp_utf8),
        )
        if transaction is None:
            return REPLY_LOCAL_ERROR
        message_id = _headers(raw)[1]
        # Echo the client's Message-ID only when it is a plain <...> token: it goes
        # into the reply line as is.
        queued_as = (
            message_id
            if _MESSAGE_ID.fullmatch(message_id)
            else f"<{transaction.id}@{server.hostname}>"
        )
        return f"250 2.6.0 {queued_as} Queued mail for delivery"

    def deliver(
        self,
        raw: bytes,
        sender: str,
        recipients: list[str],
        *,
        listener: str,
        peer: str = "",
        helo: str = "",
        tls: bool = False,
        login: str | None = None,
        mail_options: tuple[str, ...] = (),
        smtp_utf8: bool = False,
    ) -> Transaction | None:
        """Store the message in each local recipient's inbox, keep the remote ones as
        outbound, journal the transaction; None when nothing could be delivered."""
        subject, _ = _headers(raw)
        delivered: dict[str, str] = {}
        relayed: list[str] = []
        for address in recipients:
            key = address.strip().lower()
            if key in delivered:
                continue  # one copy per mailbox, as Exchange delivers
            if self.classify(address) == "local":
                try:
                    item = self.store.deliver_message(
                        key, subject=subject, sender=sender, recipients=recipients, mime=raw
                    )
                except StoreError as exc:  # the mailbox went away since RCPT
                    log.warning("smtp sink: no delivery to %s: %s", key, exc.message)
                    continue
                delivered[key] = item.id
            elif self.classify(address) == "remote":
                relayed.append(address)
        if not delivered and not relayed:
            return None
        transaction = Transaction(
            id=self.journal.next_id(),
            received=self.clock(),
            listener=listener,
            peer=peer,
            helo=helo,
            tls=tls,
            login=login,
            mail_from=sender,
            rcpt_tos=tuple(recipients),
            mail_options=mail_options,
            smtp_utf8=smtp_utf8,
            size=len(raw),
            sha256=hashlib.sha256(raw).hexdigest(),
            delivered=delivered,
            relayed=tuple(relayed),
        )
        self.journal.record(transaction, raw)
        return transaction

    def submit(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """The store's transport: mail a mailbox sent over EWS or WebDAV. Exchange
        submits it to the same transport as SMTP mail, so it is delivered and journaled
        the same way (listener ``submission``); recipients of other domains go to the
        outbound list, since the mailbox user is authenticated."""
        if self.deliver(raw, sender, recipients, listener=SUBMISSION, login=sender) is None:
            raise StoreError(
                "ErrorInvalidRecipients", "None of the recipients can be delivered to."
            )


__all__ = [
    "SUBMISSION",
    "MailJournal",
    "OutboundMessage",
    "SinkHandler",
    "Transaction",
    "header_subject",
]
