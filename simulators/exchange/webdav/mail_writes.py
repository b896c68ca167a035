"""PUT, MKCOL, MOVE and COPY on Exchange data, and DELETE of folders, as Exchange 2007
answers them.

PUT carries an item's MIME (``Translate: f``; ``message/rfc822``, or ``text/calendar``):
in a calendar folder it is an event (the iCalendar, bare or as a MIME part), elsewhere
a message. A free name is created (201), an existing item replaced (200, a message
keeps its flags); ``If-Match`` and ``If-None-Match: *`` are honoured (412). The answer
names the new entity tag in ``ETag`` and in ``GetETag``, the header DavMail reads
from Exchange.

MKCOL makes a folder; a ``DAV:propertyupdate`` body sets its class
(``http://schemas.microsoft.com/exchange/outlookfolderclass``) and other properties
and is answered 207 with ``HTTP/1.1 201 Created`` (DavMail creates folders so). An
existing name is 405.

MOVE and COPY take ``Destination``; a MOVE of a message to the mailbox's submission
URI sends it (``Saveinsent: f`` keeps no copy in Sent Items). ``Overwrite: F`` on an
occupied destination is 412. DELETE of a folder a client made removes it; default
folders are 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from simulators.exchange import ical_in
from simulators.exchange.model import CalendarItem, Message
from simulators.exchange.store import StoreError
from simulators.exchange.store_mail import promoted_fields
from simulators.exchange.webdav.locate import (
    FolderTarget,
    ItemTarget,
    LocateError,
    Locator,
    MissingTarget,
    SubmissionTarget,
)
from simulators.exchange.webdav.mapi_names import key_of, unescape_name
from simulators.exchange.webdav.props import Row, value
from simulators.exchange.webdav.writes import _multistatus, plan_patch
from simulators.exchange.webdav.xmlio import DAV, EXCHANGE, XmlBodyError

Reply = tuple[str, list[tuple[str, str]], bytes]

FOLDER_CLASS = EXCHANGE + "outlookfolderclass"
MAX_BODY = 4 * 1024 * 1024


def _plain(status: str, message: str) -> Reply:
    return status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()


def _etag(locator: Locator, target: Any, item: Any) -> str:
    row = Row(href="", name="", folder=locator.store.folders[item.folder_id], item=item)
    return str(value(row, "DAV:getetag"))


def _preconditions(locator: Locator, target: Any, headers: dict[str, str]) -> Reply | None:
    exists = isinstance(target, ItemTarget)
    none_match = headers.get("if-none-match", "").strip()
    if none_match == "*" and exists:
        return _plain("412 Precondition Failed", "the item exists (If-None-Match: *)")
    match = headers.get("if-match", "").strip()
    if match and match != "*":
        current = _etag(locator, target, target.item) if exists else None
        if current is None or current.strip('"') not in {
            m.strip().strip('"') for m in match.split(",")
        }:
            return _plain("412 Precondition Failed", "the item has changed (If-Match)")
    if match == "*" and not exists:
        return _plain("412 Precondition Failed", "there is no item (If-Match: *)")
    return None


# ------------------------------------------------------------------ PUT
def put(locator: Locator, target: Any, body: bytes, headers: dict[str, str]) -> Reply:
    if isinstance(target, (FolderTarget, SubmissionTarget)):
        return _plain("405 Method Not Allowed", "PUT names an item, not a folder")
    if len(body) > MAX_BODY:
        return _plain("413 Request Entity Too Large", "the item is larger than 4 MiB")
    refused = _preconditions(locator, target, headers)
    if refused is not None:
        return refused
    folder = target.parent.folder
    store = locator.store
    existing = target.item if isinstance(target, ItemTarget) else None
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    calendar = folder.kind == "calendar" or isinstance(existing, CalendarItem)
    item: Any
    try:
        if calendar:
            zone = target.parent.mailbox.time_zone if target.parent.mailbox else "UTC"
            data = ical_in.read_event(body, zone)
            item = ical_in.apply_event(
                store, folder, data, existing if isinstance(existing, CalendarItem) else None
            )
        elif content_type and content_type not in ("message/rfc822", "text/plain"):
            return _plain("415 Unsupported Media Type", f"{content_type} is not a message")
        elif isinstance(existing, Message):
            item = store.update_item(existing.id, mime=body, **promoted_fields(body))
        elif existing is not None:
            return _plain("409 Conflict", "only messages and events take MIME content here")
        else:
            if folder.mailbox is None:
                return _plain("403 Forbidden", "messages cannot be put into public folders here")
            item = store.create_message(folder, body, is_draft=False)
    except ical_in.IcalError as exc:
        return _plain("400 Bad Request", f"the event cannot be read: {exc}")
    except StoreError as exc:
        return _plain("409 Conflict", exc.message)
    if existing is None:
        locator.names.assign(item, target.name)  # type: ignore[arg-type]
    tag = _etag(locator, target, item)
    status = "200 OK" if existing is not None else "201 Created"
    headers_out = [("ETag", tag), ("GetETag", tag)]
    if existing is None:
        headers_out.append(("Location", target.href))
    return status, headers_out, b""


# ------------------------------------------------------------------ MKCOL
def mkcol(locator: Locator, target: Any, root: etree._Element | None) -> Reply:
    if isinstance(target, (FolderTarget, ItemTarget, SubmissionTarget)):
        return _plain("405 Method Not Allowed", "the name is taken")
    if not isinstance(target, MissingTarget):
        return _plain("403 Forbidden", "folders cannot be made here")
    folder_class = "IPF.Note"
    extra: list[tuple[Any, str, Any]] = []
    plan = None
    if root is not None:
        if root.tag != f"{{{DAV}}}propertyupdate":
            return _plain("415 Unsupported Media Type", "an MKCOL body is a DAV:propertyupdate")
        for element in root.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith("{"):
                continue
            ns, _, local = element.tag[1:].rpartition("}")  # a namespace may hold "}"
            if ns + unescape_name(local) == FOLDER_CLASS:
                folder_class = "".join(element.itertext()).strip() or folder_class
        plan = plan_patch(root, creating=True, kind="folder")
        if plan.failures:
            return _multistatus(target.href, [], plan.failures)
        extra = [e for e in plan.extended if e[0] != key_of(FOLDER_CLASS)[0]]  # type: ignore[index]
    store = locator.store
    try:
        with store._lock:
            made = store.create_folder(target.parent.folder, target.name, folder_class)
            if extra:
                store.set_properties(made, extra)
    except StoreError as exc:
        status = "405 Method Not Allowed" if exc.code == "ErrorFolderExists" else "409 Conflict"
        return _plain(status, exc.message)
    href = locator.folder_href(made)
    if plan is None:
        return "201 Created", [("Location", href)], b""
    return _multistatus(href, plan.names, {}, "HTTP/1.1 201 Created")


# ------------------------------------------------------------------ MOVE / COPY
def _destination(locator: Locator, header: str | None) -> Any:
    if not header:
        raise XmlBodyError("MOVE and COPY need a Destination header")
    parts = urlsplit(header)
    if "://" in header and f"{parts.scheme}://{parts.netloc}".lower() != locator.base.lower():
        raise LocateError(403, "the destination is on another server")
    return locator.resolve(unquote(parts.path if "://" in header else header))


def move_or_copy(locator: Locator, target: Any, method: str, headers: dict[str, str]) -> Reply:
    try:
        destination = _destination(locator, headers.get("destination"))
    except XmlBodyError as exc:
        return _plain("400 Bad Request", str(exc))
    except LocateError as exc:
        return _plain("403 Forbidden" if exc.status == 403 else "409 Conflict", exc.message)
    store = locator.store
    overwrite = headers.get("overwrite", "T").strip().upper() != "F"
    try:
        if isinstance(destination, SubmissionTarget):
            if method != "MOVE" or not isinstance(target, ItemTarget):
                return _plain("403 Forbidden", "only a MOVE of a message sends it")
            if not isinstance(target.item, Message):
                return _plain("403 Forbidden", "only messages are sent")
            save = headers.get("saveinsent", "t").strip().lower() != "f"
            store.send_draft(target.item.id, save_copy=save)
            return "201 Created", [("Location", destination.href)], b""
        if isinstance(target, FolderTarget):
            return _move_folder(locator, target, destination, method)
        if not isinstance(target, ItemTarget):
            return _plain("404 Not Found", f"{target} does not exist")
        replaced = False
        if isinstance(destination, ItemTarget):
            if not overwrite:
                return _plain("412 Precondition Failed", "the destination exists (Overwrite: F)")
            if destination.item.id != target.item.id:
                store.delete_item(destination.item.id)
                replaced = True
            destination = MissingTarget(destination.parent, destination.name, destination.href)
        if not isinstance(destination, MissingTarget):
            return _plain("409 Conflict", "the destination is not an item name in a folder")
        folder = destination.parent.folder
        if method == "MOVE":
            item = store.move_item(target.item.id, folder)
        else:
            item = store.copy_item(target.item.id, folder)
        locator.names.assign(item, destination.name)  # type: ignore[arg-type]
    except StoreError as exc:
        return _plain("409 Conflict", exc.message)
    if replaced:
        return "204 No Content", [], b""
    return "201 Created", [("Location", destination.href)], b""


def _move_folder(locator: Locator, target: FolderTarget, destination: Any, method: str) -> Reply:
    if method != "MOVE":
        return _plain("403 Forbidden", "folders are not copied here")
    if not isinstance(destination, MissingTarget):
        return _plain("412 Precondition Failed", "the destination exists")
    store = locator.store
    folder = target.folder
    with store._lock:
        if destination.parent.folder.id != folder.parent_id:
            store.move_folder(folder, destination.parent.folder)
        if destination.name != folder.display_name:
            folder.display_name = destination.name
    return "201 Created", [("Location", locator.folder_href(folder))], b""


# ------------------------------------------------------------------ DELETE
def delete_folder(locator: Locator, target: FolderTarget) -> Reply:
    try:
        locator.store.delete_folder(target.folder)
    except StoreError as exc:
        return _plain("403 Forbidden", exc.message)
    return "200 OK", [], b""


__all__ = ["delete_folder", "mkcol", "move_or_copy", "put"]
