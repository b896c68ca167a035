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
from typing import Any

from lxml import etree

from simulators.exchange.model import CalendarItem, Mailbox
from simulators.exchange.store import StoreError
from simulators.exchange.webdav.ical import item_mime
from simulators.exchange.webdav.locate import FolderTarget, ItemTarget, Locator, MissingTarget
from simulators.exchange.webdav.sql_ast import parse_date_literal
from simulators.exchange.webdav.xmlio import (
    CALENDAR,
    DAV,
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


@dataclass
class PatchPlan:
    changes: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def plan_patch(root: etree._Element, creating: bool) -> PatchPlan:
    """The store changes a propertyupdate body asks for, with per-property failures."""
    if root.tag != f"{{{DAV}}}propertyupdate":
        raise XmlBodyError("the PROPPATCH body is not a DAV:propertyupdate")
    plan = PatchPlan()
    for action in root:
        if action.tag not in (f"{{{DAV}}}set", f"{{{DAV}}}remove"):
            raise XmlBodyError("a propertyupdate holds only DAV:set and DAV:remove")
        for prop in action.iter(f"{{{DAV}}}prop"):
            for element in prop:
                if not isinstance(element.tag, str):
                    continue
                ns, _, local = element.tag[1:].partition("}")
                name = ns + local
                plan.names.append(name)
                if name in _ACCEPTED:
                    continue
                setter = _SETTERS.get(name)
                if setter is None or (name == CALENDAR + "uid" and not creating):
                    plan.failures[name] = _FORBIDDEN
                elif action.tag == f"{{{DAV}}}remove":
                    if setter[0] in _CLEARABLE:
                        plan.changes[setter[0]] = ""
                    else:
                        plan.failures[name] = _FORBIDDEN
                else:
                    try:
                        plan.changes[setter[0]] = setter[1](element)
                    except ValueError:
                        plan.failures[name] = _CONFLICT
    return plan


def proppatch(locator: Locator, target: Any, root: etree._Element) -> Reply:
    """Create or update an appointment from a parsed propertyupdate."""
    if isinstance(target, FolderTarget):
        return _multistatus(target.href, [], {n: _FORBIDDEN for n in _prop_names(root)})
    creating = isinstance(target, MissingTarget)
    if creating and target.parent.folder.kind != "calendar":
        return _plain("403 Forbidden", "items can only be created in a calendar folder here")
    if isinstance(target, ItemTarget) and not isinstance(target.item, CalendarItem):
        return _multistatus(target.href, [], {n: _FORBIDDEN for n in _prop_names(root)})
    plan = plan_patch(root, creating)
    href = target.href
    if not plan.failures:
        try:
            if creating:
                _create(locator, target, plan.changes)
            else:
                locator.store.update_item(target.item.id, **plan.changes)
        except StoreError:
            # End before start, or a new item without both: the dates conflict.
            plan.failures = {CALENDAR + "dtstart": _CONFLICT, CALENDAR + "dtend": _CONFLICT}
    if plan.failures:
        failed = dict(plan.failures)
        failed.update({n: "HTTP/1.1 424 Failed Dependency" for n in plan.names if n not in failed})
        return _multistatus(href, [], failed)
    return _multistatus(href, plan.names, {}, "HTTP/1.1 201 Created" if creating else None)


def _create(locator: Locator, target: MissingTarget, changes: dict[str, Any]) -> None:
    if "start" not in changes or "end" not in changes:
        raise StoreError(
            "ErrorInvalidPropertySet", "urn:schemas:calendar:dtstart and dtend are required"
        )
    mailbox: Mailbox | None = target.parent.mailbox
    fields = dict(changes)
    fields.setdefault("subject", "")
    fields["time_zone"] = mailbox.time_zone if mailbox else "UTC"
    item = locator.store.create_calendar_item(target.parent.folder, **fields)
    locator.names.assign(item, target.name)


def _prop_names(root: etree._Element) -> list[str]:
    names = []
    for prop in root.iter(f"{{{DAV}}}prop"):
        for element in prop:
            if isinstance(element.tag, str):
                ns, _, local = element.tag[1:].partition("}")
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
