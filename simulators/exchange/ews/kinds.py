"""Which writer serves which stored object: calendar rows, contacts and mails.

Mails (delivered by the SMTP sink) get the small t:Message shape a 2007 server
gives an inbox item; everything else lives in ``calendar`` and ``contacts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from simulators.exchange.ews.calendar import CALENDAR, view_of
from simulators.exchange.ews.contacts import CONTACT, ContactView
from simulators.exchange.ews.itemxml import ITEM_DEFAULT, Kind, Out, item_writers
from simulators.exchange.ews.xmlkit import Element, t
from simulators.exchange.model import CalendarItem, Contact, Item, Message, Occurrence
from simulators.exchange.store import ExchangeStore

SubElement = etree.SubElement


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


def _recipient(parent: Element, tag: str, address: str) -> None:
    box = SubElement(SubElement(parent, t(tag)), t("Mailbox"))
    SubElement(box, t("Name")).text = address
    SubElement(box, t("EmailAddress")).text = address
    SubElement(box, t("RoutingType")).text = "SMTP"


def _sender(parent: Element, v: Any, out: Out) -> None:
    if v.message.sender:
        _recipient(parent, "Sender", v.message.sender)


def _to(parent: Element, v: Any, out: Out) -> None:
    if v.message.recipients:
        node = SubElement(parent, t("ToRecipients"))
        for address in v.message.recipients:
            box = SubElement(node, t("Mailbox"))
            SubElement(box, t("EmailAddress")).text = address
            SubElement(box, t("RoutingType")).text = "SMTP"


def _from(parent: Element, v: Any, out: Out) -> None:
    if v.message.sender:
        _recipient(parent, "From", v.message.sender)


def _is_read(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("IsRead")).text = "false"


MESSAGE = Kind(
    tag=t("Message"),
    writers=tuple(
        item_writers("IPM.Note")
        + [
            ("message:Sender", _sender),
            ("message:ToRecipients", _to),
            ("message:From", _from),
            ("message:IsRead", _is_read),
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
