"""Which writer serves which stored object: calendar rows, contacts and mails.

Mails (delivered by the SMTP sink) get the small t:Message shape a 2007 server
gives an inbox item; everything else lives in ``calendar`` and ``contacts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulators.exchange.ews.calendar import CALENDAR, view_of
from simulators.exchange.ews.contacts import CONTACT, ContactView
from simulators.exchange.ews.itemxml import (
    ITEM_DEFAULT,
    Kind,
    Out,
    const_writer,
    item_writers,
    mailbox_text,
)
from simulators.exchange.ews.xmlkit import esc
from simulators.exchange.model import CalendarItem, Contact, Item, Message, Occurrence
from simulators.exchange.store import ExchangeStore


class MessageView:
    __slots__ = ("message", "owner")

    def __init__(self, message: Message, owner: str | None) -> None:
        self.message = message
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.message, name)

    @property
    def body(self) -> str:
        return ""

    @property
    def created(self) -> datetime:
        return self.message.created


def _sender(parts: list[str], v: Any, out: Out) -> None:
    if v.message.sender:
        parts.append(f"<t:Sender>{mailbox_text(v.message.sender, v.message.sender)}</t:Sender>")


def _to(parts: list[str], v: Any, out: Out) -> None:
    if v.message.recipients:
        boxes = "".join(
            f"<t:Mailbox><t:EmailAddress>{esc(a)}</t:EmailAddress>"
            "<t:RoutingType>SMTP</t:RoutingType></t:Mailbox>"
            for a in v.message.recipients
        )
        parts.append(f"<t:ToRecipients>{boxes}</t:ToRecipients>")


def _from(parts: list[str], v: Any, out: Out) -> None:
    if v.message.sender:
        parts.append(f"<t:From>{mailbox_text(v.message.sender, v.message.sender)}</t:From>")


MESSAGE = Kind(
    name="Message",
    writers=tuple(
        item_writers("IPM.Note")
        + [
            ("message:Sender", _sender),
            ("message:ToRecipients", _to),
            ("message:From", _from),
            ("message:IsRead", const_writer("IsRead", "false")),
        ]
    ),
    default=ITEM_DEFAULT | {"item:DateTimeReceived", "message:From", "message:IsRead"},
    not_in_find=frozenset({"item:Body"}),
)


def kind_and_view(store: ExchangeStore, obj: Item | Occurrence) -> tuple[Kind, Any]:
    if isinstance(obj, (CalendarItem, Occurrence)):
        return CALENDAR, view_of(obj)
    owner = store.owner_of(obj)
    if isinstance(obj, Contact):
        return CONTACT, ContactView(obj, owner)
    return MESSAGE, MessageView(obj, owner)
