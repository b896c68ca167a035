"""ConvertId (Exchange 2007 SP1): an item or folder id in another format, with the
primary SMTP address of the mailbox that holds it.

Formats: EwsId and EwsLegacyId are the id itself (this store's ids do not change
between 2007 and 2007 SP1), EntryId is the id's bytes in base64, HexEntryId the same
bytes in hex, StoreId and OwaId the id again. Each source id gets its own response
message: ErrorInvalidIdMalformed when it cannot be read, ErrorItemNotFound when it
names nothing (in the mailbox it names), ErrorAccessDenied without FullAccess.
Clients also use it to learn their own address: DavMail converts the root folder's
id and reads the ``Mailbox`` attribute.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr,
    attr_enum,
    local,
    m,
    new_element,
)
from simulators.exchange.store import StoreError

SubElement = etree.SubElement

FORMATS = ("EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")
CONVERT_ID = Sequence_(("m:SourceIds", 1, 1))
SOURCE_IDS = Sequence_(
    ("t:AlternateId|t:AlternatePublicFolderId|t:AlternatePublicFolderItemId", 1, -1)
)
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _to_bytes(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)


def to_ews_id(value: str, source: str) -> str:
    """The EwsId an id in ``source`` format stands for (ResponseError if unreadable)."""
    try:
        if source in ("EwsId", "EwsLegacyId", "StoreId", "OwaId"):
            _to_bytes(value)
            return value
        raw = bytes.fromhex(value) if source == "HexEntryId" else _to_bytes(value)
    except (binascii.Error, ValueError):
        raise ResponseError("ErrorInvalidIdMalformed") from None
    return base64.b64encode(raw).decode("ascii")


def from_ews_id(value: str, destination: str) -> str:
    if destination in ("EwsId", "EwsLegacyId", "StoreId", "OwaId"):
        return value
    raw = base64.b64decode(value + "=" * (-len(value) % 4))
    return raw.hex().upper() if destination == "HexEntryId" else base64.b64encode(raw).decode()


def convert_id(call: EwsCall, request: Element) -> Element:
    kids = CONVERT_ID.read(request)
    destination = attr_enum(request, "DestinationFormat", FORMATS, "IdFormatType", required=True)
    assert destination is not None
    sources = kids.one("m:SourceIds")
    SOURCE_IDS.read(sources)
    messages = new_element(m("ResponseMessages"))
    for source in sources:
        if not isinstance(source.tag, str):
            continue
        try:
            messages.append(_one(call, source, destination))
        except ResponseError as exc:
            messages.append(error_message("ConvertIdResponseMessage", exc))
    return messages


def _one(call: EwsCall, source: Element, destination: str) -> Element:
    if local(source.tag) != "AlternateId":
        raise ResponseError(
            "ErrorInvalidOperation", "Public folder ids are not converted by this server."
        )
    source_format = attr_enum(source, "Format", FORMATS, "IdFormatType", required=True)
    value = attr(source, "Id", required=True) or ""
    attr(source, "Mailbox", required=True)
    ews_id = to_ews_id(value.strip(), source_format or "EwsId")
    if not ews_id.startswith("AA"):
        raise ResponseError("ErrorInvalidIdMalformed")
    owner = _owner(call, ews_id)
    message = success_message("ConvertIdResponseMessage")
    SubElement(
        message,
        m("AlternateId"),
        {
            f"{{{XSI}}}type": "t:AlternateIdType",
            "Format": destination,
            "Id": from_ews_id(ews_id, destination),
            "Mailbox": owner,
        },
        nsmap={"xsi": XSI},
    )
    return message


def _owner(call: EwsCall, ews_id: str) -> str:
    """The mailbox holding a folder or item, access checked."""
    store = call.store
    folder = store.folders.get(ews_id)
    if folder is not None:
        smtp = folder.mailbox
    else:
        try:
            smtp = store.owner_of(store.item(ews_id))
        except StoreError as exc:
            raise ResponseError.from_store(exc) from None
    if smtp is None:
        raise ResponseError(
            "ErrorInvalidOperation", "A public folder id has no mailbox to convert it in."
        )
    call.caller.check(store, store.mailbox(smtp))
    call.touched(smtp)
    return smtp


__all__ = ["FORMATS", "convert_id", "from_ews_id", "to_ews_id"]
