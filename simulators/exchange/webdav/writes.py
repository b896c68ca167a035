"""PROPPATCH, DELETE and GET on Exchange items, as Exchange 2007 answers them.

PROPPATCH on a free ``.EML`` name in a calendar folder creates an appointment and
answers 207 with ``HTTP/1.1 201 Created`` for the response; on an existing
appointment it updates it (200 per property). It is all or nothing: a property that
cannot be set gets its error status, the others ``424 Failed Dependency``, and nothing
changes. DELETE answers ``200 OK`` (not 204). GET with ``Translate: f`` returns the
raw item (MIME with an iCalendar part); without it, a small HTML rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any, Literal

from lxml import etree

from simulators.exchange.ical_in import default_times
from simulators.exchange.mapi import PropertyValueError, PropKey, is_array, parse_values
from simulators.exchange.model import CalendarItem, Mailbox, Message
from simulators.exchange.store import StoreError
from simulators.exchange.webdav.ical import item_mime
from simulators.exchange.webdav.locate import FolderTarget, ItemTarget, Locator, MissingTarget
from simulators.exchange.webdav.mapi_names import DATATYPES, key_of, unescape_name
from simulators.exchange.webdav.sql_ast import parse_date_literal
from simulators.exchange.webdav.xmlio import (
    CALENDAR,
    DAV,
    DT,
    EXCHANGE,
    HTTPMAIL,
    MultiStatusWriter,
    XmlBodyError,
)

Reply = tuple[str, list[tuple[str, str]], bytes]

_BUSY = {
    "FREE": "Free",
    "TENTATIVE": "Tentative",
    "BUSY": "Busy",
    "OUTOFOFFICE": "OOF",
    "OOF": "OOF",
}
_FORBIDDEN = "HTTP/1.1 403 Forbidden"
DT_REQUEST = "urn:schemas-microsoft-com:datatypes"  # the datatypes namespace clients send
_CONFLICT = "HTTP/1.1 409 Conflict"


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _instant(element: etree._Element) -> datetime:
    found = parse_date_literal(_text(element))
    if found is None:
        raise ValueError(f"not a date: {_text(element)!r}")
    return found


def _boolean(element: etree._Element) -> bool:
    text = _text(element).lower()
    if text not in ("1", "0", "true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return text in ("1", "true")


def _busy(element: etree._Element) -> str:
    status = _BUSY.get(_text(element).upper())
    if status is None:
        raise ValueError(f"not a busy status: {_text(element)!r}")
    return status


# Settable appointment properties: name -> (store field, reader).
_SETTERS: dict[str, tuple[str, Callable[[etree._Element], Any]]] = {
    HTTPMAIL + "subject": ("subject", _text),
    "urn:schemas:mailheader:subject": ("subject", _text),
    HTTPMAIL + "textdescription": ("body", lambda e: "".join(e.itertext())),
    CALENDAR + "dtstart": ("start", _instant),
    CALENDAR + "dtend": ("end", _instant),
    CALENDAR + "location": ("location", _text),
    CALENDAR + "busystatus": ("busy_status", _busy),
    CALENDAR + "alldayevent": ("all_day", _boolean),
    CALENDAR + "uid": ("uid", _text),
}
# Accepted and not stored (the fake keeps no such data, and it changes nothing).
_ACCEPTED = {
    DAV + "contentclass",
    EXCHANGE + "outlookmessageclass",
    CALENDAR + "instancetype",
    CALENDAR + "timezoneid",
    CALENDAR + "timezone",
    CALENDAR + "meetingstatus",
    CALENDAR + "reminderoffset",
    CALENDAR + "responserequested",
    "http://schemas.microsoft.com/mapi/reminderset",
    "http://schemas.microsoft.com/mapi/apptstateflags",
    EXCHANGE + "sensitivity",
}


_CLEARABLE = {"body", "location", "subject"}
_MESSAGE_SETTERS: dict[str, tuple[str, Callable[[etree._Element], Any]]] = {
    HTTPMAIL + "read": ("is_read", _boolean),
    HTTPMAIL + "subject": ("subject", _text),
    "urn:schemas:mailheader:subject": ("subject", _text),
}
_CONTENT_CLASS = DAV + "contentclass"

Kind = Literal["appointment", "message", "folder", "other"]


@dataclass
class PatchPlan:
    changes: dict[str, Any] = field(default_factory=dict)  # model fields
    extended: list[tuple[PropKey, str, Any]] = field(default_factory=list)
    removed: list[PropKey] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    content_class: str | None = None
    owners: dict[PropKey, str] = field(default_factory=dict)  # property -> its name


def _typed_value(element: etree._Element, type_name: str | None) -> tuple[str, Any]:
    """(MAPI type, value) of a property element, typed by its name or its b:dt."""
    datatype = element.get(f"{{{DT}}}dt") or element.get(f"{{{DT_REQUEST}}}dt")
    kind = type_name or DATATYPES.get(datatype or "", "String")
    if is_array(kind):
        texts = [(v.text or "") for v in element if isinstance(v.tag, str)]
    else:
        texts = ["".join(element.itertext())]
    return kind, parse_values(kind, texts)


def plan_patch(root: etree._Element, creating: bool, kind: Kind = "appointment") -> PatchPlan:
    """The store changes a propertyupdate body asks for, with per-property failures."""
    if root.tag != f"{{{DAV}}}propertyupdate":
        raise XmlBodyError("the PROPPATCH body is not a DAV:propertyupdate")
    plan = PatchPlan()
    for action in root:
        if action.tag not in (f"{{{DAV}}}set", f"{{{DAV}}}remove"):
            raise XmlBodyError("a propertyupdate holds only DAV:set and DAV:remove")
        removing = action.tag == f"{{{DAV}}}remove"
        for prop in action.iter(f"{{{DAV}}}prop"):
            for element in prop:
                if not isinstance(element.tag, str):
                    continue
                ns, _, local = element.tag[1:].rpartition("}")  # a namespace may hold "}"
                name = ns + unescape_name(local)
                plan.names.append(name)
                if name == _CONTENT_CLASS:
                    plan.content_class = _text(element)
                    continue
                if name in _ACCEPTED and kind == "appointment":
                    continue
                setters = (
                    _SETTERS
                    if kind == "appointment"
                    else _MESSAGE_SETTERS
                    if kind == "message"
                    else {}
                )
                setter = setters.get(name)
                if setter is not None:
                    _plan_field(plan, name, setter, element, removing, creating)
                    continue
                found = key_of(name)
                if found is None:
                    plan.failures[name] = _FORBIDDEN
                    continue
                key, type_name = found
                plan.owners[key] = name
                if removing:
                    plan.removed.append(key)
                    continue
                try:
                    written_type, written = _typed_value(element, type_name)
                except PropertyValueError:
                    plan.failures[name] = _CONFLICT
                    continue
                plan.extended.append((key, written_type, written))
    return plan


def _plan_field(
    plan: PatchPlan,
    name: str,
    setter: tuple[str, Callable[[etree._Element], Any]],
    element: etree._Element,
    removing: bool,
    creating: bool,
) -> None:
    if name == CALENDAR + "uid" and not creating:
        plan.failures[name] = _FORBIDDEN
    elif removing:
        if setter[0] in _CLEARABLE:
            plan.changes[setter[0]] = ""
        else:
            plan.failures[name] = _FORBIDDEN
    else:
        try:
            plan.changes[setter[0]] = setter[1](element)
        except ValueError:
            plan.failures[name] = _CONFLICT


def _kind_of(target: Any, content_class: str | None) -> Kind:
    if isinstance(target, FolderTarget):
        return "folder"
    if isinstance(target, ItemTarget):
        if isinstance(target.item, CalendarItem):
            return "appointment"
        return "message" if isinstance(target.item, Message) else "other"
    folder = target.parent.folder
    if content_class == "urn:content-classes:appointment" or (
        content_class is None and folder.kind == "calendar"
    ):
        return "appointment"
    if content_class in (None, "urn:content-classes:message") and folder.kind != "calendar":
        return "message"
    return "other"


def _content_class_of(root: etree._Element) -> str | None:
    for element in root.iter(f"{{{DAV}}}contentclass"):
        return _text(element)
    return None


def proppatch(locator: Locator, target: Any, root: etree._Element) -> Reply:
    """Create or update an appointment or a message, or set a folder's properties."""
    creating = isinstance(target, MissingTarget)
    kind = _kind_of(target, _content_class_of(root))
    if creating and kind == "appointment" and target.parent.folder.kind != "calendar":
        return _plain("403 Forbidden", "appointments can only be created in a calendar folder")
    if creating and kind == "message" and target.parent.folder.mailbox is None:
        return _plain("403 Forbidden", "messages cannot be created in public folders here")
    if kind == "other":
        return _multistatus(target.href, [], {n: _FORBIDDEN for n in _prop_names(root)})
    plan = plan_patch(root, creating, kind)
    href = target.href
    store = locator.store
    if not plan.failures:
        with store._lock:
            created = None
            try:
                if isinstance(target, FolderTarget):
                    obj: Any = target.folder
                elif creating:
                    obj = created = _create(locator, target, plan.changes, kind)
                else:
                    obj = target.item
                    if plan.changes:
                        store.update_item(obj.id, **plan.changes)
                if plan.extended:
                    store.set_properties(obj, plan.extended)
                if plan.removed:
                    store.remove_properties(obj, plan.removed)
            except StoreError as exc:
                if created is not None:
                    store.delete_item(created.id)
                plan.failures = _failures_for(plan, exc)
    if plan.failures:
        failed = dict(plan.failures)
        failed.update({n: "HTTP/1.1 424 Failed Dependency" for n in plan.names if n not in failed})
        return _multistatus(href, [], failed)
    return _multistatus(href, plan.names, {}, "HTTP/1.1 201 Created" if creating else None)


def _failures_for(plan: PatchPlan, exc: StoreError) -> dict[str, str]:
    if exc.code in ("ErrorInvalidPropertySet", "ErrorInvalidPropertyDelete"):
        # A computed property cannot be written: name it if the message does.
        named = [n for k, n in plan.owners.items() if str(k) in exc.message]
        return {n: _FORBIDDEN for n in (named or list(plan.owners.values()))}
    # End before start, or a new item without both: the dates conflict.
    return {CALENDAR + "dtstart": _CONFLICT, CALENDAR + "dtend": _CONFLICT}


def _create(locator: Locator, target: MissingTarget, changes: dict[str, Any], kind: Kind) -> Any:
    store = locator.store
    mailbox: Mailbox | None = target.parent.mailbox
    if kind == "message":
        item: Any = store.create_message(target.parent.folder, b"", **changes)
    else:
        fields = dict(changes)
        fields.setdefault("subject", "")
        if "start" not in fields or "end" not in fields:
            # Exchange creates an appointment without dates too (DavMail's time-zone probe
            # sets only its content class): the next half hour, as Outlook offers.
            start, end = default_times(store.clock.now())
            fields.setdefault("start", start)
            fields.setdefault("end", fields["start"] + (end - start))
        fields["time_zone"] = mailbox.time_zone if mailbox else "UTC"
        item = store.create_calendar_item(target.parent.folder, **fields)
    locator.names.assign(item, target.name)
    return item


def _prop_names(root: etree._Element) -> list[str]:
    names = []
    for prop in root.iter(f"{{{DAV}}}prop"):
        for element in prop:
            if isinstance(element.tag, str):
                ns, _, local = element.tag[1:].rpartition("}")  # a namespace may hold "}"
                names.append(ns + local)
    return names


def _multistatus(
    href: str, ok: list[str], failed: dict[str, str], response_status: str | None = None
) -> Reply:
    writer = MultiStatusWriter()
    writer.patch_response(href, ok, failed, response_status)
    body = writer.body()
    return "207 Multi-Status", [("Content-Type", "text/xml")], body


def _plain(status: str, message: str) -> Reply:
    return status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()


def delete(locator: Locator, target: Any) -> Reply:
    if isinstance(target, ItemTarget):
        locator.store.delete_item(target.item.id)
        return "200 OK", [], b""
    if isinstance(target, MissingTarget):
        return _plain("404 Not Found", f"{target.href} does not exist")
    return _plain("403 Forbidden", "folders cannot be deleted here")


def get(target: Any, translate: str | None) -> Reply:
    if isinstance(target, ItemTarget):
        if (translate or "").strip().lower() == "f":
            return "200 OK", [("Content-Type", "message/rfc822")], item_mime(target.item)
        title = escape(getattr(target.item, "subject", "") or target.name)
        return _html(f"<h1>{title}</h1>", title)
    if isinstance(target, MissingTarget):
        return _plain("404 Not Found", f"{target.href} does not exist")
    return _html("<a href='/owa/'>Outlook Web Access</a>", "Outlook Web Access")


def _html(body: str, title: str) -> Reply:
    page = f"<html><head><title>{title}</title></head><body>{body}</body></html>"
    return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page.encode()


__all__ = ["PatchPlan", "Reply", "delete", "get", "plan_patch", "proppatch"]
