"""Looking at delivered mail: summaries per mailbox, parsed messages, attachments.

Reads the Exchange store (every ``Message`` item, whoever delivered it) and the
sink's journal (the SMTP envelope kept beside each stored item). Messages are
parsed with the standard library's ``email`` package on demand; a malformed
message still shows its headers and whatever parts can be read, with the
parser's defects listed, never an exception.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.message import Message as EmailPart
from email.parser import BytesParser
from functools import partial
from typing import TYPE_CHECKING, Any

from simulators.exchange.model import Message
from simulators.exchange.store import ExchangeStore, StoreError
from simulators.smtp.delivery import MailJournal, OutboundMessage, Transaction

if TYPE_CHECKING:
    from simulators.smtp.waiting import MessageWait


class MailNotFound(LookupError):
    """No such message, mailbox or attachment; ``str()`` says which."""


@dataclass(frozen=True)
class MailSummary:
    """One stored message as a list shows it (``raw``: the bytes as received)."""

    id: str
    mailbox: str
    folder: str
    subject: str
    sender: str
    recipients: tuple[str, ...]
    received: datetime
    size: int
    raw: bytes = field(repr=False)
    transaction: Transaction | None = None

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the raw bytes (computed when asked: lists stay cheap)."""
        return hashlib.sha256(self.raw).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "folder": self.folder,
            "subject": self.subject,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "received": self.received.isoformat(),
            "size": self.size,
            "sha256": self.sha256,
            "smtp": self.transaction.to_json() if self.transaction else None,
        }


@dataclass(frozen=True)
class MailPart:
    """A leaf MIME part; ``attachment`` is its attachment index, None for body text."""

    index: int
    content_type: str
    charset: str | None
    filename: str | None
    disposition: str | None
    size: int
    attachment: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TextPart:
    content_type: str
    charset: str | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str | None
    content_type: str
    size: int
    data: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
        }


@dataclass(frozen=True)
class MailDetail:
    """A parsed message: decoded headers in order, leaf parts, body text, attachments."""

    summary: MailSummary
    headers: tuple[tuple[str, str], ...]
    parts: tuple[MailPart, ...]
    text_parts: tuple[TextPart, ...]
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), decoded; None when absent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def text(self) -> str:
        """The first text/plain body part ('' when there is none)."""
        plain = [p.text for p in self.text_parts if p.content_type == "text/plain"]
        return plain[0] if plain else ""

    def to_json(self) -> dict[str, Any]:
        data = self.summary.to_json()
        data.update(
            headers=[[key, value] for key, value in self.headers],
            parts=[p.to_json() for p in self.parts],
            text_parts=[p.to_json() for p in self.text_parts],
            attachments=[a.to_json() for a in self.attachments],
            defects=list(self.defects),
        )
        return data


_FOLDING = re.compile(r"\r?\n(?=[ \t])")


def _safe(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # malformed input: the caller falls back
        return None


def _decoded_header(msg: EmailMessage, name: str, value: str) -> str:
    try:
        return str(msg.policy.header_fetch_parse(name, value))
    except Exception:  # undecodable: show it unfolded, as sent
        return _FOLDING.sub("", str(value))


def _decoded_headers(msg: EmailMessage) -> tuple[tuple[str, str], ...]:
    return tuple((name, _decoded_header(msg, name, value)) for name, value in msg.raw_items())


def _text_of(part: EmailPart, payload: bytes) -> str:
    charset = part.get_content_charset()
    if charset is None:
        # Undeclared 8-bit text: UTF-8 when it is valid UTF-8, else Latin-1, which
        # never fails, rather than the email package's ASCII with replacements.
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("latin-1")
    text = _safe(part.get_content) if isinstance(part, EmailMessage) else None
    if isinstance(text, str):
        return text
    decoded = _safe(partial(payload.decode, charset, errors="replace"))
    return decoded if isinstance(decoded, str) else payload.decode("latin-1")


def parse_message(summary: MailSummary) -> MailDetail:
    """Parse ``summary.raw``; never raises on malformed mail."""
    msg = BytesParser(policy=policy.default).parsebytes(summary.raw)
    assert isinstance(msg, EmailMessage)
    parts: list[MailPart] = []
    texts: list[TextPart] = []
    attachments: list[Attachment] = []
    defects = [type(d).__name__ for d in msg.defects]
    for part in msg.walk():
        if part is not msg:
            defects.extend(type(d).__name__ for d in part.defects)
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        payload = _safe(partial(part.get_payload, decode=True))
        data = payload if isinstance(payload, bytes) else b""
        filename = _safe(part.get_filename)
        disposition = _safe(part.get_content_disposition)
        charset = _safe(part.get_content_charset)
        # A multipart leaf is a broken multipart (no boundary): its body shows as text.
        is_attachment = (
            disposition == "attachment"
            or filename is not None
            or part.get_content_maintype() not in ("text", "multipart")
        )
        number = len(attachments) if is_attachment else None
        parts.append(
            MailPart(len(parts), content_type, charset, filename, disposition, len(data), number)
        )
        if number is not None:
            attachments.append(Attachment(number, filename, content_type, len(data), data))
        else:
            # Body text in JSON reads better with plain newlines; raw keeps the CRLFs.
            text = _text_of(part, data).replace("\r\n", "\n")
            texts.append(TextPart(content_type, charset, text))
    return MailDetail(
        summary=summary,
        headers=_decoded_headers(msg),
        parts=tuple(parts),
        text_parts=tuple(texts),
        attachments=tuple(attachments),
        defects=tuple(defects),
    )


class MailInspector:
    """Read-only views of the mail in a store, with the sink's envelopes beside it."""

    def __init__(self, store: ExchangeStore, journal: MailJournal | None = None) -> None:
        self.store = store
        self.journal = journal or MailJournal()

    def summarize(self, item: Message) -> MailSummary:
        """The summary of a stored message item."""
        folder = self.store.folders.get(item.folder_id)
        return MailSummary(
            id=item.id,
            mailbox=(folder.mailbox or "") if folder else "",
            folder=(folder.distinguished or folder.display_name) if folder else "",
            subject=item.subject,
            sender=item.sender,
            recipients=tuple(item.recipients),
            received=item.created,
            size=len(item.mime),
            raw=item.mime,
            transaction=self.journal.for_item(item.id),
        )

    def messages(self, mailbox: str | None = None) -> list[MailSummary]:
        """Every stored message in delivery order; of one mailbox when given."""
        if mailbox is not None and mailbox.lower() not in self.store.mailboxes:
            raise MailNotFound(f"no mailbox {mailbox}")
        return [self.summarize(item) for item in self.store.messages(mailbox)]

    def counts(self) -> dict[str, int]:
        """Number of messages per mailbox (every mailbox, zero included)."""
        counts = dict.fromkeys(self.store.mailboxes, 0)
        for item in self.store.messages():
            owner = self.store.owner_of(item)
            if owner is not None:
                counts[owner] = counts.get(owner, 0) + 1
        return counts

    def summary(self, message_id: str) -> MailSummary:
        try:
            item = self.store.item(message_id)
        except StoreError:
            item = None
        if not isinstance(item, Message):
            raise MailNotFound(f"no message {message_id}")
        return self.summarize(item)

    def message(self, message_id: str) -> MailDetail:
        """The parsed message: headers, parts, text, attachments."""
        return parse_message(self.summary(message_id))

    def raw(self, message_id: str) -> bytes:
        """The bytes exactly as received."""
        return self.summary(message_id).raw

    def attachment(self, message_id: str, index: int) -> Attachment:
        attachments = self.message(message_id).attachments
        if not 0 <= index < len(attachments):
            raise MailNotFound(f"message {message_id} has no attachment {index}")
        return attachments[index]

    def outbound(self) -> list[OutboundMessage]:
        """Mail accepted for remote domains (relaying allowed), never sent on."""
        return self.journal.outbound()

    def wait_for_message(
        self,
        predicate: Callable[[MailSummary], bool],
        timeout: timedelta,
        clock: Callable[[], datetime] | None = None,
        *,
        ignore_existing: bool = False,
    ) -> MessageWait:
        """A ``MessageWait`` to check at each instant of the scenario clock."""
        from simulators.smtp.waiting import MessageWait  # waiting imports this module

        return MessageWait(self, predicate, timeout, clock, ignore_existing=ignore_existing)

    def poll_for_message(
        self, predicate: Callable[[MailSummary], bool], timeout: float, interval: float = 0.02
    ) -> MailSummary:
        """Real time only: wait up to ``timeout`` seconds; TimeoutError when nothing came."""
        from simulators.smtp.waiting import poll_for_message  # waiting imports this module

        return poll_for_message(self, predicate, timeout, interval)


__all__ = [
    "Attachment",
    "MailDetail",
    "MailInspector",
    "MailNotFound",
    "MailPart",
    "MailSummary",
    "TextPart",
    "parse_message",
]
