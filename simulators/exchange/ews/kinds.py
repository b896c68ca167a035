"""Which writer serves which stored object: calendar rows, contacts and mails.

Mails (delivered by the SMTP sink, or saved and sent by clients) get the t:Message
shape: the ItemType part with what Exchange promotes from the MIME (subject, body,
sender, recipients, sent and received times, size, read and draft flags), then the
MessageType sequence of the 2007 SP1 schema. Everything else lives in ``calendar``
and ``contacts``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from simulators.exchange.ews.calendar import CALENDAR, view_of
from simulators.exchange.ews.contacts import CONTACT, ContactView
from simulators.exchange.ews.itemxml import (
    ITEM_DEFAULT,
    Kind,
    Out,
    Writer,
    const_writer,
    item_writers,
    stamp_writer,
    text_writer,
)
from simulators.exchange.ews.xmlkit import esc, fmt_bool
from simulators.exchange.mapi_props import message_text
from simulators.exchange.model import CalendarItem, Contact, Item, Message, Occurrence
from simulators.exchange.store import ExchangeStore


class MessageView:
    __slots__ = ("__dict__", "message", "owner")

    def __init__(self, message: Message, owner: str | None) -> None:
        self.message = message
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.message, name)

    @property
    def model(self) -> Message:
        return self.message

    def mime_content(self, store: Any) -> bytes:
        return self.message.mime

    @cached_property
    def body(self) -> str:
        """The text of the message (its text/plain part, else its HTML)."""
        return message_text(self.message.mime)

    @property
    def created(self) -> datetime:
        return self.message.created

    @property
    def received(self) -> datetime:
        return self.message.received or self.message.created

    @property
    def sent(self) -> datetime:
        return self.message.sent or self.message.created


def _mailbox(address: str) -> str:
    return (
        f"<t:Mailbox><t:EmailAddress>{esc(address)}</t:EmailAddress>"
        "<t:RoutingType>SMTP</t:RoutingType></t:Mailbox>"
    )


def _single(tag: str) -> Writer:
    def write(parts: list[str], v: Any, out: Out) -> None:
        if v.message.sender:
            name = out.owner_name(v.message.sender.lower()) or v.message.sender
            parts.append(
                f"<t:{tag}><t:Mailbox><t:Name>{esc(name)}</t:Name><t:EmailAddress>"
                f"{esc(v.message.sender)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
                f"</t:Mailbox></t:{tag}>"
            )

    return write


def _recipients(tag: str, field: str) -> Writer:
    def write(parts: list[str], v: Any, out: Out) -> None:
        addresses = getattr(v.message, field)
        if addresses:
            parts.append(f"<t:{tag}>{''.join(_mailbox(a) for a in addresses)}</t:{tag}>")

    return write


def _display(field: str) -> Writer:
    tag = "DisplayTo" if field == "recipients" else "DisplayCc"

    def write(parts: list[str], v: Any, out: Out) -> None:
        names = [out.owner_name(a.lower()) or a for a in getattr(v.message, field)]
        parts.append(f"<t:{tag}>{esc('; '.join(names))}</t:{tag}>")

    return write


def _message_id(parts: list[str], v: Any, out: Out) -> None:
    if v.message.message_id:
        parts.append(f"<t:InternetMessageId>{esc(v.message.message_id)}</t:InternetMessageId>")


def _replace(writers: list[tuple[str, Writer]], **by_uri: Writer) -> list[tuple[str, Writer]]:
    table = {uri.replace("__", ":"): writer for uri, writer in by_uri.items()}
    return [(uri, table.get(uri, writer)) for uri, writer in writers]


MESSAGE = Kind(
    name="Message",
    writers=tuple(
        _replace(
            item_writers(text_writer("ItemClass", lambda v: v.message.item_class)),
            item__DateTimeReceived=stamp_writer("DateTimeReceived", lambda v: v.received),
            item__Size=text_writer("Size", lambda v: str(len(v.message.mime))),
            item__IsDraft=text_writer("IsDraft", lambda v: fmt_bool(v.message.is_draft)),
            item__IsFromMe=text_writer(
                "IsFromMe",
                lambda v: fmt_bool(bool(v.owner) and v.message.sender.lower() == v.owner),
            ),
            item__DateTimeSent=stamp_writer("DateTimeSent", lambda v: v.sent),
            item__DisplayCc=_display("cc"),
            item__DisplayTo=_display("recipients"),
        )
        + [
            ("message:Sender", _single("Sender")),
            ("message:ToRecipients", _recipients("ToRecipients", "recipients")),
            ("message:CcRecipients", _recipients("CcRecipients", "cc")),
            ("message:BccRecipients", _recipients("BccRecipients", "bcc")),
            (
                "message:IsReadReceiptRequested",
                const_writer("IsReadReceiptRequested", "false"),
            ),
            (
                "message:IsDeliveryReceiptRequested",
                const_writer("IsDeliveryReceiptRequested", "false"),
            ),
            ("message:ConversationTopic", text_writer("ConversationTopic", lambda v: v.subject)),
            ("message:From", _single("From")),
            ("message:InternetMessageId", _message_id),
            ("message:IsRead", text_writer("IsRead", lambda v: fmt_bool(v.message.is_read))),
        ]
    ),
    default=ITEM_DEFAULT
    | {"item:DateTimeReceived", "message:From", "message:IsRead", "message:ToRecipients"},
    not_in_find=frozenset({"item:Body", "item:MimeContent"}),
)


def kind_and_view(store: ExchangeStore, obj: Item | Occurrence) -> tuple[Kind, Any]:
    if isinstance(obj, (CalendarItem, Occurrence)):
        return CALENDAR, view_of(obj)
    owner = store.owner_of(obj)
    if isinstance(obj, Contact):
        return CONTACT, ContactView(obj, owner)
    return MESSAGE, MessageView(obj, owner)
