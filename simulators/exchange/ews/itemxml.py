"""Writing items: the t:ItemType part every item shares, and response plans.

A plan is the ordered list of element writers a shape selects for one item kind;
plans are cached per (kind, shape, context), so serialising a FindItem row is a
loop over a few precomputed functions. Writers emit elements in the order of the
2007 schema (ItemType first, then the kind's own sequence), which is what makes
responses validate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from lxml import etree

from simulators.exchange.ews.shapes import Shape
from simulators.exchange.ews.xmlkit import Element, fmt_bool, fmt_datetime, t
from simulators.exchange.store import ExchangeStore

FOLDER_CHANGE_KEY = "AQAAAA=="
CULTURES = {"en": "en-US", "de": "de-DE"}

SubElement = etree.SubElement


class ItemFacts(Protocol):
    id: str
    change_key: str
    folder_id: str
    subject: str
    body: str
    created: datetime
    modified: datetime
    owner: str | None


@dataclass
class Out:
    """What writers may consult besides the item: the store and the request options."""

    store: ExchangeStore
    meeting_time_zone: bool = False
    # dictionary property -> the only keys to write (set per item by ``write_item``)
    only: dict[str, frozenset[str]] = field(default_factory=dict)

    def owner_name(self, smtp: str | None) -> str:
        box = self.store.mailboxes.get(smtp or "")
        return box.display_name if box else ""

    def culture(self, smtp: str | None) -> str:
        box = self.store.mailboxes.get(smtp or "")
        return CULTURES.get(box.language if box else "en", "en-US")


Writer = Callable[[Element, Any, Out], None]


def _text(name: str, getter: Callable[[Any], str]) -> Writer:
    tag = t(name)

    def write(parent: Element, v: Any, out: Out) -> None:
        SubElement(parent, tag).text = getter(v)

    return write


def _const(name: str, value: str) -> Writer:
    tag = t(name)

    def write(parent: Element, v: Any, out: Out) -> None:
        SubElement(parent, tag).text = value

    return write


def _stamp(name: str, getter: Callable[[Any], datetime]) -> Writer:
    tag = t(name)

    def write(parent: Element, v: Any, out: Out) -> None:
        SubElement(parent, tag).text = fmt_datetime(getter(v))

    return write


def _item_id(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("ItemId"), Id=v.id, ChangeKey=v.change_key)


def _parent_folder(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("ParentFolderId"), Id=v.folder_id, ChangeKey=FOLDER_CHANGE_KEY)


def _body(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("Body"), BodyType="Text").text = v.body


def _size(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("Size")).text = str(512 + len(v.subject) + len(v.body))


def _effective_rights(parent: Element, v: Any, out: Out) -> None:
    rights = SubElement(parent, t("EffectiveRights"))
    for name, value in (
        ("CreateAssociated", False),
        ("CreateContents", False),
        ("CreateHierarchy", False),
        ("Delete", True),
        ("Modify", True),
        ("Read", True),
    ):
        SubElement(rights, t(name)).text = fmt_bool(value)


def _culture(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("Culture")).text = out.culture(v.owner)


def _modified_name(parent: Element, v: Any, out: Out) -> None:
    SubElement(parent, t("LastModifiedName")).text = out.owner_name(v.owner)


def item_writers(item_class: str) -> list[tuple[str, Writer]]:
    """The t:ItemType sequence (2007 SP1 order); MimeContent and attachments never."""
    return [
        ("item:ItemId", _item_id),
        ("item:ParentFolderId", _parent_folder),
        ("item:ItemClass", _const("ItemClass", item_class)),
        ("item:Subject", _text("Subject", lambda v: v.subject)),
        ("item:Sensitivity", _const("Sensitivity", "Normal")),
        ("item:Body", _body),
        ("item:DateTimeReceived", _stamp("DateTimeReceived", lambda v: v.created)),
        ("item:Size", _size),
        ("item:Importance", _const("Importance", "Normal")),
        ("item:IsSubmitted", _const("IsSubmitted", "false")),
        ("item:IsDraft", _const("IsDraft", "false")),
        ("item:IsFromMe", _const("IsFromMe", "false")),
        ("item:IsResend", _const("IsResend", "false")),
        ("item:IsUnmodified", _const("IsUnmodified", "false")),
        ("item:DateTimeSent", _stamp("DateTimeSent", lambda v: v.created)),
        ("item:DateTimeCreated", _stamp("DateTimeCreated", lambda v: v.created)),
        ("item:ReminderIsSet", _const("ReminderIsSet", "false")),
        ("item:ReminderMinutesBeforeStart", _const("ReminderMinutesBeforeStart", "15")),
        ("item:DisplayCc", _const("DisplayCc", "")),
        ("item:DisplayTo", _const("DisplayTo", "")),
        ("item:HasAttachments", _const("HasAttachments", "false")),
        ("item:Culture", _culture),
        ("item:EffectiveRights", _effective_rights),
        ("item:LastModifiedName", _modified_name),
        ("item:LastModifiedTime", _stamp("LastModifiedTime", lambda v: v.modified)),
    ]


ITEM_DEFAULT = frozenset(
    {"item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:HasAttachments"}
)


@dataclass(frozen=True, eq=False)
class Kind:
    """One item kind: its element name, ordered writers and Default shape.

    Compared by identity, so it is a cheap cache key.
    """

    tag: str
    writers: tuple[tuple[str, Writer], ...]
    default: frozenset[str]
    not_in_find: frozenset[str] = frozenset()  # FindItem never returns these
    guarded: frozenset[str] = frozenset()  # only when explicitly requested and allowed


# IndexedFieldURI -> the dictionary property it selects entries of.
DICTIONARIES = {
    "contacts:EmailAddress": "contacts:EmailAddresses",
    "contacts:PhoneNumber": "contacts:PhoneNumbers",
    "contacts:ImAddress": "contacts:ImAddresses",
}

Plan = tuple[tuple[Writer, ...], dict[str, frozenset[str]]]


@lru_cache(maxsize=512)
def plan(kind: Kind, shape: Shape, find: bool, allow_guarded: bool) -> Plan:
    """The writers a shape selects, and the dictionary keys it limits entries to."""
    if shape.base == "IdOnly":
        wanted = {"item:ItemId"} | set(shape.fields)
    elif shape.base == "Default":
        wanted = set(kind.default) | set(shape.fields)
    else:
        wanted = {uri for uri, _ in kind.writers} - (kind.guarded - shape.fields)
    if find:
        wanted -= kind.not_in_find
    if not allow_guarded:
        wanted -= kind.guarded
    only: dict[str, set[str]] = {}
    for uri, index in shape.indexed:
        whole = DICTIONARIES.get(uri)
        if whole and whole not in wanted:
            only.setdefault(whole, set()).add(index)
    wanted |= set(only)
    writers = tuple(writer for uri, writer in kind.writers if uri in wanted)
    return writers, {k: frozenset(v) for k, v in only.items()}


def write_item(parent: Element, kind: Kind, v: Any, shape: Shape, out: Out, find: bool) -> Element:
    node = SubElement(parent, kind.tag)
    writers, out.only = plan(kind, shape, find, out.meeting_time_zone)
    for writer in writers:
        writer(node, v, out)
    return node
