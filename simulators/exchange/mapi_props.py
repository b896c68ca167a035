"""Which MAPI properties the model itself answers, and reading and writing any property.

The table ``PROPERTIES`` maps a ``PropKey`` to how the model answers it: a getter
(None when the property does not apply to that kind of object, so a stored value
may answer instead) and, for *bound* properties, the model field a write changes.
Entries without a field are computed and read-only: writing one is
ErrorInvalidPropertySet, as Exchange refuses to set PR_CONTENT_COUNT. Every other
property is *stored*: kept as the client wrote it in the object's ``extended`` bag.

The numbers are MS-OXPROPS's; the choice is what Exchange 2007 clients read over EWS
and WebDAV (DavMail 6 asks for all of these; see its ``ews/Field.java``).
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import TYPE_CHECKING, Any

from simulators.exchange.mapi import (
    PS_INTERNET_HEADERS,
    PS_PUBLIC_STRINGS,
    PSETID_ADDRESS,
    PSETID_APPOINTMENT,
    PropKey,
    coerce,
)
from simulators.exchange.model import (
    CalendarItem,
    Contact,
    Folder,
    ItemBase,
    Message,
    Occurrence,
)

if TYPE_CHECKING:
    from simulators.exchange.store import ExchangeStore

Target = Folder | ItemBase | Occurrence
Getter = Callable[["ExchangeStore", Any], Any]

NA = object()  # "this property is not the model's for this object"

INSTANCE_TYPES = {"Single": 0, "RecurringMaster": 1, "Occurrence": 2, "Exception": 3}
BUSY_NUMBERS = {"Free": 0, "Tentative": 1, "Busy": 2, "OOF": 3, "NoData": 4}
PHONE_TAGS = {
    0x3A08: "BusinessPhone",
    0x3A1C: "MobilePhone",
    0x3A09: "HomePhone",
    0x3A24: "BusinessFax",
    0x3A21: "Pager",
    0x3A1F: "OtherTelephone",
    0x3A25: "HomeFax",
}
MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8


@dataclass(frozen=True)
class Prop:
    type: str  # EWS MapiPropertyType of the value
    get: Getter  # the value, None for "no value", NA when the object has no such field
    field: str | None = None  # the model field a write sets; None: read-only
    writable_on: tuple[Any, ...] = ()  # which model classes the field belongs to


def _item(obj: Any) -> Any:
    """The stored item behind a calendar row."""
    return obj.master if isinstance(obj, Occurrence) else obj


def _on(*kinds: type) -> Callable[[Getter], Getter]:
    """Only objects of ``kinds`` (calendar rows count as calendar items) have it."""

    def wrap(getter: Getter) -> Getter:
        def get(store: ExchangeStore, obj: Any) -> Any:
            probe = _item(obj) if CalendarItem in kinds else obj
            return getter(store, obj) if isinstance(probe, kinds) else NA

        return get

    return wrap


def _message_class(store: ExchangeStore, obj: Any) -> Any:
    item = _item(obj)
    if isinstance(item, CalendarItem):
        return "IPM.Appointment"
    if isinstance(item, Contact):
        return "IPM.Contact"
    if isinstance(item, Message):
        return item.item_class
    return NA


def _subject(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, (Occurrence, CalendarItem, Message)):
        return obj.subject
    if isinstance(obj, Contact):
        return obj.file_as
    return NA


def _modified(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, Folder):
        return _folder_changed(store, obj)
    return obj.modified if isinstance(obj, (ItemBase, Occurrence)) else NA


def _folder_changed(store: ExchangeStore, folder: Folder) -> datetime | None:
    stamps = [store.items[i].modified for i in folder.item_ids if i in store.items]
    if folder.changed is not None:
        stamps.append(folder.changed)
    return max(stamps) if stamps else None


def _size(store: ExchangeStore, obj: Any) -> Any:
    item = _item(obj)
    if isinstance(item, Message):
        return len(item.mime)
    if isinstance(item, ItemBase):
        return 512 + len(getattr(item, "subject", "") or "") + len(getattr(item, "body", "") or "")
    return NA


def _flags(store: ExchangeStore, obj: Any) -> Any:
    item = _item(obj)
    if isinstance(item, Message):
        return (MSGFLAG_READ if item.is_read else 0) | (MSGFLAG_UNSENT if item.is_draft else 0)
    return MSGFLAG_READ if isinstance(item, ItemBase) else NA


def _record_key(store: ExchangeStore, obj: Any) -> Any:
    item = _item(obj)
    if isinstance(item, (ItemBase, Folder)):
        return hashlib.sha1(item.id.encode()).digest()
    return NA


def _url_name(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, Folder):
        return obj.display_name
    item = _item(obj)
    return url_name_of(item) if isinstance(item, ItemBase) else NA


def url_name_of(item: ItemBase) -> str:
    """PR_URL_COMP_NAME: the name a client gave the item, else ``{GUID}.EML``."""
    if item.url_name:
        return item.url_name
    digest = hashlib.md5(item.id.encode(), usedforsecurity=False).hexdigest().upper()
    return (
        "{" + f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}" + "}.EML"
    )


def _flat_url(store: ExchangeStore, obj: Any) -> Any:
    target = _item(obj)
    if not isinstance(target, (ItemBase, Folder)):
        return NA
    folder_id = target.id if isinstance(target, Folder) else target.folder_id
    head = hashlib.sha1(folder_id.encode()).hexdigest()[:32].upper()
    if isinstance(target, Folder):
        return f"/-FlatUrlSpace-/{head}"
    return f"/-FlatUrlSpace-/{head}/{hashlib.sha1(target.id.encode()).hexdigest()[:32].upper()}"


def _display_name(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, (Folder, Contact)):
        return obj.display_name
    return _subject(store, obj)


def _body(store: ExchangeStore, obj: Any) -> Any:
    """PR_BODY: an appointment's body; a message's text (its text/plain part, else HTML)."""
    item = _item(obj)
    if isinstance(item, CalendarItem):
        return item.body
    if isinstance(item, Message):
        return message_text(item.mime)
    return NA


def message_text(mime: bytes) -> str:
    """The text of a MIME message; '' when it has none or cannot be read."""
    if not mime:
        return ""
    try:
        parsed = email.message_from_bytes(mime, policy=default_policy)
        part = parsed.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        return str(part.get_content()) if part is not None else ""
    except Exception:  # an unreadable body reads as empty, never as an error
        return ""


def _headers(store: ExchangeStore, obj: Any) -> Any:
    if not isinstance(obj, Message) or not obj.mime:
        return NA
    head, _, _ = obj.mime.replace(b"\r\n", b"\n").partition(b"\n\n")
    return head.decode("utf-8", "replace").replace("\n", "\r\n") + "\r\n"


_HEADER_NAMES = re.compile(r"^[A-Za-z0-9-]+$")


def header_value(message: Message, name: str) -> str | None:
    """A header of the message's MIME, decoded; None when absent."""
    if not message.mime or not _HEADER_NAMES.match(name):
        return None
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(message.mime)
        found = headers.get(name)
    except Exception:  # a malformed header reads as absent, never as an error
        return None
    return None if found is None else str(found)


def _internet_header(name: str) -> Getter:
    def get(store: ExchangeStore, obj: Any) -> Any:
        item = _item(obj)
        if name == "content-class":
            if isinstance(item, CalendarItem):
                return "urn:content-classes:appointment"
            if isinstance(item, Contact):
                return "urn:content-classes:person"
        if not isinstance(item, Message):
            return NA
        found = header_value(item, name)
        if found is None and name == "from" and item.sender:
            return item.sender
        if found is None and name == "to" and item.recipients:
            return ", ".join(item.recipients)
        if found is None and name == "content-class":
            return "urn:content-classes:message"
        return found

    return get


def _folder(getter: Callable[[ExchangeStore, Folder], Any]) -> Getter:
    def get(store: ExchangeStore, obj: Any) -> Any:
        return getter(store, obj) if isinstance(obj, Folder) else NA

    return get


def _unread(store: ExchangeStore, folder: Folder) -> int:
    count = 0
    for item_id in folder.item_ids:
        item = store.items.get(item_id)
        if isinstance(item, Message) and not item.is_read:
            count += 1
    return count


def _last_article(store: ExchangeStore, folder: Folder) -> int:
    return max((store.items[i].article for i in folder.item_ids if i in store.items), default=0)


def _instance_type(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, Occurrence):
        return INSTANCE_TYPES[obj.item_type]
    if isinstance(obj, CalendarItem):
        return INSTANCE_TYPES[obj.item_type]
    return NA


def _recurring(store: ExchangeStore, obj: Any) -> Any:
    if isinstance(obj, Occurrence):
        return obj.item_type != "Single"
    if isinstance(obj, CalendarItem):
        return obj.recurrence is not None
    return NA


def _row(name: str) -> Getter:
    """A calendar field, from the row when it is one (an exception's own value)."""

    def get(store: ExchangeStore, obj: Any) -> Any:
        return getattr(obj, name)

    return _on(CalendarItem)(get)


def _phone(key: str) -> Getter:
    return _on(Contact)(lambda store, c: c.phones.get(key) or None)


def _email(index: int) -> Getter:
    return _on(Contact)(lambda store, c: c.emails[index] if len(c.emails) > index else None)


def _attr(name: str, *kinds: type) -> Getter:
    return _on(*kinds)(lambda store, o: getattr(o, name))


T = PropKey.tagged
APPT = PSETID_APPOINTMENT

PROPERTIES: dict[PropKey, Prop] = {
    T(0x001A): Prop("String", _message_class, "item_class", (Message,)),
    T(0x0037): Prop("String", _subject, "subject", (CalendarItem, Message)),
    T(0x0039): Prop("SystemTime", _attr("sent", Message)),
    T(0x007D): Prop("String", _headers),
    T(0x0E06): Prop(
        "SystemTime",
        _on(Message)(lambda store, m: m.received or m.created),
        "received",
        (Message,),
    ),
    T(0x0E07): Prop("Integer", _flags, "message_flags", (Message,)),
    T(0x0E08): Prop("Integer", _size),
    T(0x0E23): Prop("Integer", _on(ItemBase, CalendarItem)(lambda store, o: _item(o).article)),
    T(0x0FF9): Prop("Binary", _record_key),
    T(0x1000): Prop("String", _body, "body", (CalendarItem,)),
    T(0x10F3): Prop("String", _url_name, "url_name", (ItemBase,)),
    T(0x3001): Prop("String", _display_name, "display_name", (Folder, Contact)),
    T(0x3007): Prop("SystemTime", _on(ItemBase, CalendarItem)(lambda store, o: _item(o).created)),
    T(0x3008): Prop("SystemTime", _modified),
    T(0x3602): Prop("Integer", _folder(lambda store, f: len(f.item_ids))),
    T(0x3603): Prop("Integer", _folder(_unread)),
    T(0x360A): Prop("Boolean", _folder(lambda store, f: bool(f.child_ids))),
    T(0x3613): Prop(
        "String", _folder(lambda store, f: f.folder_class or None), "folder_class", (Folder,)
    ),
    T(0x6751): Prop("Integer", _folder(lambda store, f: store.next_article())),
    T(0x6752): Prop("Integer", _folder(_last_article)),
    T(0x670A): Prop("SystemTime", _folder(_folder_changed)),
    T(0x670E): Prop("String", _flat_url),
    T(0x3A06): Prop("String", _attr("given_name", Contact), "given_name", (Contact,)),
    T(0x3A11): Prop("String", _attr("surname", Contact), "surname", (Contact,)),
    T(0x3A16): Prop("String", _attr("company", Contact), "company", (Contact,)),
    **{
        T(tag): Prop("String", _phone(key), f"phone:{key}", (Contact,))
        for tag, key in PHONE_TAGS.items()
    },
    PropKey.named(PS_PUBLIC_STRINGS, "urn:schemas:calendar:instancetype"): Prop(
        "Integer", _instance_type
    ),
    PropKey.named(PS_PUBLIC_STRINGS, "urn:schemas:calendar:uid"): Prop(
        "String", _on(CalendarItem)(lambda store, o: _item(o).uid), "uid", (CalendarItem,)
    ),
    PropKey.numbered(APPT, 0x8223): Prop("Boolean", _recurring),
    PropKey.numbered(APPT, 0x8215): Prop(
        "Boolean", _on(CalendarItem)(lambda store, o: _item(o).all_day), "all_day", (CalendarItem,)
    ),
    PropKey.numbered(APPT, 0x8208): Prop("String", _row("location"), "location", (CalendarItem,)),
    PropKey.numbered(APPT, 0x820D): Prop("SystemTime", _row("start"), "start", (CalendarItem,)),
    PropKey.numbered(APPT, 0x820E): Prop("SystemTime", _row("end"), "end", (CalendarItem,)),
    PropKey.numbered(APPT, 0x8205): Prop(
        "Integer",
        _on(CalendarItem)(lambda store, o: BUSY_NUMBERS.get(o.busy_status, 2)),
        "busy_number",
        (CalendarItem,),
    ),
    **{
        PropKey.numbered(PSETID_ADDRESS, lid): Prop(
            "String", _email(index), f"email:{index}", (Contact,)
        )
        for index, lid in enumerate((0x8083, 0x8093, 0x80A3))
    },
    **{
        PropKey.named(PS_INTERNET_HEADERS, name): Prop("String", _internet_header(name))
        for name in ("from", "to", "cc", "bcc", "subject", "message-id", "date", "content-class")
    },
}


def read(store: ExchangeStore, obj: Target, key: PropKey, type_name: str | None = None) -> Any:
    """The value of property ``key`` on ``obj`` (None when it has none), in the form
    ``type_name`` asks for when given."""
    prop = PROPERTIES.get(key)
    if prop is not None:
        found = prop.get(store, obj)
        if found is not NA:
            return None if found is None else coerce(type_name or prop.type, found)
    bag = _item(obj).extended if isinstance(obj, Occurrence) else obj.extended
    stored = bag.get(key)
    if stored is None:
        return None
    return coerce(type_name, stored[1]) if type_name else stored[1]


class ReadOnlyProperty(ValueError):
    """A computed property: Exchange answers ErrorInvalidPropertySet to a write."""


def write_plan(store: ExchangeStore, obj: Target, key: PropKey) -> Prop | None:
    """The bound entry a write of ``key`` on ``obj`` goes to, None when the value is
    simply stored; ``ReadOnlyProperty`` for a computed one."""
    prop = PROPERTIES.get(key)
    if prop is None or prop.get(store, obj) is NA:
        return None
    if prop.field is not None and isinstance(_item(obj), prop.writable_on):
        return prop
    raise ReadOnlyProperty(f"property {key} is computed by the store")


BUSY_NAMES = {number: name for name, number in BUSY_NUMBERS.items()}


def field_changes(obj: Target, field: str, value: Any) -> dict[str, Any]:
    """The model changes a write of a bound property's ``value`` makes."""
    item = _item(obj)
    if field == "message_flags":
        flags = int(value or 0)
        return {"is_read": bool(flags & MSGFLAG_READ), "is_draft": bool(flags & MSGFLAG_UNSENT)}
    if field.startswith("phone:") and isinstance(item, Contact):
        phones = dict(item.phones)
        key = field.partition(":")[2]
        if value:
            phones[key] = str(value)
        else:
            phones.pop(key, None)
        return {"phones": phones}
    if field.startswith("email:") and isinstance(item, Contact):
        emails = list(item.emails)
        index = int(field.partition(":")[2])
        while len(emails) <= index:
            emails.append("")
        emails[index] = str(value or "")
        while emails and not emails[-1]:
            emails.pop()
        return {"emails": emails}
    if field == "busy_number":
        return {"busy_status": BUSY_NAMES.get(int(value), "Busy")}
    if field in ("subject", "body", "given_name", "surname", "company", "display_name"):
        return {field: "" if value is None else str(value)}
    return {field: value}


__all__ = [
    "INSTANCE_TYPES",
    "MSGFLAG_READ",
    "MSGFLAG_UNSENT",
    "NA",
    "PROPERTIES",
    "Prop",
    "ReadOnlyProperty",
    "field_changes",
    "header_value",
    "message_text",
    "read",
    "url_name_of",
    "write_plan",
]
