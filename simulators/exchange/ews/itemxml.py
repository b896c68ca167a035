"""Writing items: the t:ItemType part every item shares, and response plans.

Items are written as XML text, not lxml elements: a FindItem answer is dozens of
rows of a dozen small elements, and building them as text (values escaped) is ten
times cheaper than one lxml element each (profiled; it decided whether the
simulator reaches 500 FindItem/s on one core). Every other part of a response is
still built with lxml; ``RawXml`` carries the text to the envelope writer.

A plan is the ordered list of writers a shape selects for one item kind; plans
are cached per (kind, shape, context). Writers emit children in the order of the
2007 schema (ItemType first, then the kind's own sequence), which is what makes
responses validate.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from simulators.exchange.ews.extended import ExtendedPath, property_text
from simulators.exchange.ews.shapes import Shape
from simulators.exchange.ews.xmlkit import Element, M, T, esc, fmt_bool, fmt_datetime
from simulators.exchange.store import ExchangeStore

FOLDER_CHANGE_KEY = "AQAAAA=="
CULTURES = {"en": "en-US", "de": "de-DE"}
NAMESPACES = f'xmlns:m="{M}" xmlns:t="{T}"'


class RawXml(str):
    """Pre-written XML text (prefixes m:/t:, declared by the enclosing element)."""


def element_text(element: Element) -> str:
    """An lxml element as text, to be mixed with written rows."""
    return etree.tostring(element, encoding="unicode")  # type: ignore[no-any-return]


@dataclass
class Out:
    """What writers may consult besides the item: the store and the request options."""

    store: ExchangeStore
    meeting_time_zone: bool = False
    # dictionary property -> the only keys to write (set per item by the writers below)
    only: dict[str, frozenset[str]] = field(default_factory=dict)
    # the extended properties the shape asks for (set per kind by ``write_items``)
    extended: tuple[ExtendedPath, ...] = ()

    def owner_name(self, smtp: str | None) -> str:
        box = self.store.mailboxes.get(smtp or "")
        return box.display_name if box else ""

    def culture(self, smtp: str | None) -> str:
        box = self.store.mailboxes.get(smtp or "")
        return CULTURES.get(box.language if box else "en", "en-US")


# A writer appends the text of zero or more child elements to ``parts``.
Writer = Callable[[list[str], Any, Out], None]


_WRITTEN_LIMIT = 4096  # distinct values an element's text is kept for


def text_writer(name: str, getter: Callable[[Any], str]) -> Writer:
    """Writes ``<t:name>`` with the getter's text. Most values recur from row to row
    and poll to poll ("Busy", "false", a subject): each element's text is kept per
    value (a bounded dictionary, emptied when full), so escaping and joining are
    done once per value."""
    opening, closing = f"<t:{name}>", f"</t:{name}>"
    written: dict[str, str] = {}

    def write(parts: list[str], v: Any, out: Out) -> None:
        value = getter(v)
        whole = written.get(value)
        if whole is None:
            whole = opening + esc(value) + closing
            if len(written) >= _WRITTEN_LIMIT:
                written.clear()
            written[value] = whole
        parts.append(whole)

    return write


def const_writer(name: str, value: str) -> Writer:
    whole = f"<t:{name}>{esc(value)}</t:{name}>"

    def write(parts: list[str], v: Any, out: Out) -> None:
        parts.append(whole)

    return write


def stamp_writer(name: str, getter: Callable[[Any], datetime]) -> Writer:
    opening, closing = f"<t:{name}>", f"</t:{name}>"

    def write(parts: list[str], v: Any, out: Out) -> None:
        parts.append(opening + fmt_datetime(getter(v)) + closing)

    return write


def mailbox_text(name: str, address: str, tag: str = "Mailbox") -> str:
    return (
        f"<t:{tag}><t:Name>{esc(name)}</t:Name><t:EmailAddress>{esc(address)}</t:EmailAddress>"
        f"<t:RoutingType>SMTP</t:RoutingType></t:{tag}>"
    )


def _item_id(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f'<t:ItemId Id="{esc(v.id)}" ChangeKey="{esc(v.change_key)}"/>')


def _parent_folder(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f'<t:ParentFolderId Id="{esc(v.folder_id)}" ChangeKey="{FOLDER_CHANGE_KEY}"/>')


def _body(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f'<t:Body BodyType="Text">{esc(v.body)}</t:Body>')


def _size(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f"<t:Size>{512 + len(v.subject) + len(v.body)}</t:Size>")


_RIGHTS = (
    "<t:EffectiveRights>"
    + "".join(
        f"<t:{name}>{fmt_bool(value)}</t:{name}>"
        for name, value in (
            ("CreateAssociated", False),
            ("CreateContents", False),
            ("CreateHierarchy", False),
            ("Delete", True),
            ("Modify", True),
            ("Read", True),
        )
    )
    + "</t:EffectiveRights>"
)


def _culture(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f"<t:Culture>{out.culture(v.owner)}</t:Culture>")


def _rights(parts: list[str], v: Any, out: Out) -> None:
    parts.append(_RIGHTS)


def _modified_name(parts: list[str], v: Any, out: Out) -> None:
    parts.append(f"<t:LastModifiedName>{esc(out.owner_name(v.owner))}</t:LastModifiedName>")


def _mime_content(parts: list[str], v: Any, out: Out) -> None:
    content = v.mime_content(out.store)
    if content is not None:
        encoded = base64.b64encode(content).decode("ascii")
        parts.append(f'<t:MimeContent CharacterSet="UTF-8">{encoded}</t:MimeContent>')


def _extended(parts: list[str], v: Any, out: Out) -> None:
    model = v.model
    for path in out.extended:
        value = out.store.get_property(model, path.key, path.type)
        if value is not None:
            parts.append(property_text(path, value))


# Written only when a shape names them (IncludeMimeContent, ExtendedFieldURI), never
# for a base shape alone.
EXPLICIT_ONLY = frozenset({"item:MimeContent", "item:ExtendedProperty"})


def item_writers(item_class: str | Writer) -> list[tuple[str, Writer]]:
    """The t:ItemType sequence (2007 SP1 order); attachments never. ``item_class`` is
    the ItemClass text, or a writer when it depends on the item."""
    class_writer = (
        const_writer("ItemClass", item_class) if isinstance(item_class, str) else item_class
    )
    return [
        ("item:MimeContent", _mime_content),
        ("item:ItemId", _item_id),
        ("item:ParentFolderId", _parent_folder),
        ("item:ItemClass", class_writer),
        ("item:Subject", text_writer("Subject", lambda v: v.subject)),
        ("item:Sensitivity", const_writer("Sensitivity", "Normal")),
        ("item:Body", _body),
        ("item:DateTimeReceived", stamp_writer("DateTimeReceived", lambda v: v.created)),
        ("item:Size", _size),
        ("item:Importance", const_writer("Importance", "Normal")),
        ("item:IsSubmitted", const_writer("IsSubmitted", "false")),
        ("item:IsDraft", const_writer("IsDraft", "false")),
        ("item:IsFromMe", const_writer("IsFromMe", "false")),
        ("item:IsResend", const_writer("IsResend", "false")),
        ("item:IsUnmodified", const_writer("IsUnmodified", "false")),
        ("item:DateTimeSent", stamp_writer("DateTimeSent", lambda v: v.created)),
        ("item:DateTimeCreated", stamp_writer("DateTimeCreated", lambda v: v.created)),
        ("item:ReminderIsSet", const_writer("ReminderIsSet", "false")),
        ("item:ReminderMinutesBeforeStart", const_writer("ReminderMinutesBeforeStart", "15")),
        ("item:DisplayCc", const_writer("DisplayCc", "")),
        ("item:DisplayTo", const_writer("DisplayTo", "")),
        ("item:HasAttachments", const_writer("HasAttachments", "false")),
        ("item:ExtendedProperty", _extended),
        ("item:Culture", _culture),
        ("item:EffectiveRights", _rights),
        ("item:LastModifiedName", _modified_name),
        ("item:LastModifiedTime", stamp_writer("LastModifiedTime", lambda v: v.modified)),
    ]


ITEM_DEFAULT = frozenset(
    {"item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:HasAttachments"}
)


@dataclass(frozen=True, eq=False)
class Kind:
    """One item kind: its element name, ordered writers and Default shape.

    Compared by identity, so it is a cheap cache key.
    """

    name: str  # element name in the types namespace: CalendarItem, Contact, Message
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
    wanted -= EXPLICIT_ONLY
    if shape.mime and not find:
        wanted.add("item:MimeContent")
    if shape.extended:
        wanted.add("item:ExtendedProperty")
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


def write_items(
    parts: list[str], rows: list[tuple[Kind, Any]], shape: Shape, out: Out, find: bool
) -> None:
    """Append the text of each row's item element, looking each kind's plan up once."""
    plans: dict[int, tuple[str, str, Plan]] = {}
    for kind, v in rows:
        found = plans.get(id(kind))
        if found is None:
            found = plans[id(kind)] = (
                f"<t:{kind.name}>",
                f"</t:{kind.name}>",
                plan(kind, shape, find, out.meeting_time_zone),
            )
        opening, closing, (writers, out.only) = found
        out.extended = shape.extended
        parts.append(opening)
        for writer in writers:
            writer(parts, v, out)
        parts.append(closing)
