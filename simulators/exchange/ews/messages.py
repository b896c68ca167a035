"""Messages over EWS: CreateItem of a ``t:Message`` and the message fields UpdateItem
changes.

CreateItem's MessageDisposition decides: SaveOnly keeps the message (a draft) in
SavedItemFolderId or Drafts; SendOnly sends it; SendAndSaveCopy sends it and keeps a
copy in SavedItemFolderId or Sent Items. Sending goes through the store's transport
(the SMTP sink when one runs), which delivers into the recipients' inboxes. A message
comes as MimeContent (base64 RFC 822, what DavMail and Outlook send) or as fields
(Subject, Body, To/Cc/BccRecipients, From), from which the MIME is composed. Its
``t:ExtendedProperty`` children are set on the saved item (PR_MESSAGE_FLAGS makes it
read or not a draft, as DavMail's IMAP APPEND does).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.extended import EXTENDED_PROPERTY, ExtendedPath, read_extended_property
from simulators.exchange.ews.xmlkit import Element, Sequence_, qname, text, text_bool, words
from simulators.exchange.model import Folder, Message
from simulators.exchange.store import StoreError
from simulators.exchange.store_mail import compose_mime

MESSAGE = qname("t:Message")
_ITEM = words(
    "MimeContent ItemId ParentFolderId ItemClass Subject Sensitivity Body Attachments "
    "DateTimeReceived Size Categories Importance InReplyTo IsSubmitted IsDraft IsFromMe IsResend "
    "IsUnmodified InternetMessageHeaders DateTimeSent DateTimeCreated ResponseObjects "
    "ReminderDueBy ReminderIsSet ReminderMinutesBeforeStart DisplayCc DisplayTo HasAttachments "
    "ExtendedProperty Culture EffectiveRights LastModifiedName LastModifiedTime"
)
_MESSAGE = words(
    "Sender ToRecipients CcRecipients BccRecipients IsReadReceiptRequested "
    "IsDeliveryReceiptRequested ConversationIndex ConversationTopic From InternetMessageId "
    "IsRead IsResponseRequested References ReplyTo ReceivedBy ReceivedRepresenting"
)
MESSAGE_ITEM = Sequence_(
    *((f"t:{name}", 0, -1 if name == "ExtendedProperty" else 1) for name in _ITEM),
    *((f"t:{name}", 0, 1) for name in _MESSAGE),
    lenient=True,
)
MAX_MIME = 4 * 1024 * 1024

Extended = list[tuple[ExtendedPath, Any]]


def extended_properties(item: Element) -> Extended:
    """The ``t:ExtendedProperty`` children of an item element of a request."""
    return [read_extended_property(child) for child in item if child.tag == EXTENDED_PROPERTY]


def mime_content(element: Element) -> bytes:
    """The bytes of a ``t:MimeContent`` (base64)."""
    try:
        raw = base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ResponseError(
            "ErrorMimeContentInvalidBase64String", "The MIME content is not valid base64."
        ) from None
    if len(raw) > MAX_MIME:
        raise ResponseError("ErrorMessageSizeExceeded", "The message exceeds the maximum size.")
    return raw


def _addresses(element: Element | None) -> list[str]:
    if element is None:
        return []
    found = []
    for address in element.iter(qname("t:EmailAddress")):
        value = text(address).strip()
        if value:
            found.append(value)
    return found


def read_message(item: Element, sender: str, call: EwsCall) -> tuple[bytes, dict[str, Any]]:
    """(MIME bytes, extra model fields) of a ``t:Message`` element."""
    kids = MESSAGE_ITEM.read(item)
    fields: dict[str, Any] = {}
    item_class = kids.opt("t:ItemClass")
    if item_class is not None and text(item_class).strip():
        fields["item_class"] = text(item_class).strip()
    is_read = kids.opt("t:IsRead")
    if is_read is not None:
        fields["is_read"] = text_bool(is_read)
    mime = kids.opt("t:MimeContent")
    if mime is not None:
        return mime_content(mime), fields
    body = kids.opt("t:Body")
    subject = kids.opt("t:Subject")
    from_el = kids.opt("t:From")
    composed = compose_mime(
        subject=text(subject) if subject is not None else "",
        body=text(body) if body is not None else "",
        sender=(_addresses(from_el) or [sender])[0],
        to=_addresses(kids.opt("t:ToRecipients")),
        cc=_addresses(kids.opt("t:CcRecipients")),
        bcc=_addresses(kids.opt("t:BccRecipients")),
        stamp=call.store.clock.now(),
    )
    return composed, fields


def create_message(
    call: EwsCall, request: Element, target: Folder | None, item: Element
) -> Message | None:
    """CreateItem of one message; the saved item, or None when only sent."""
    disposition = request.get("MessageDisposition")
    if disposition is None:
        raise ResponseError(
            "ErrorMessageDispositionRequired",
            "MessageDisposition attribute is required when creating messages.",
        )
    box = call.caller.mailbox(call.store, target.mailbox if target is not None else None)
    call.touched(box.smtp)
    extended = extended_properties(item)
    mime, fields = read_message(item, box.smtp, call)
    store = call.store
    try:
        if disposition == "SaveOnly":
            folder = target or store.distinguished_folder("drafts", box.smtp)
            saved = store.create_message(folder, mime, **fields)
            if extended:
                store.set_properties(saved, [(p.key, p.type, v) for p, v in extended])
            return saved
        copy = store.send_message(box.smtp, mime, save_copy=disposition == "SendAndSaveCopy")
    except StoreError as exc:
        raise ResponseError.from_store(exc) from None
    if copy is not None and target is not None and copy.folder_id != target.id:
        store.move_item(copy.id, target)
    return None


# ------------------------------------------------------------------ UpdateItem
def message_change(name: str, value: Element | None) -> tuple[str, Any] | None:
    """(model field, value) of a SetItemField/DeleteItemField on a message field."""
    if name == "IsRead":
        return "is_read", text_bool(value) if value is not None else False
    if name == "Subject":
        return "subject", text(value) if value is not None else ""
    if name == "ItemClass" and value is not None:
        return "item_class", text(value).strip()
    if name in (
        "Categories",
        "Importance",
        "Sensitivity",
        "IsReadReceiptRequested",
        "IsDeliveryReceiptRequested",
        "ReminderIsSet",
        "ReminderMinutesBeforeStart",
    ):
        return None  # writable in 2007, not kept by this store
    raise ResponseError("ErrorInvalidPropertySet")


__all__ = [
    "MESSAGE",
    "Extended",
    "create_message",
    "extended_properties",
    "message_change",
    "mime_content",
    "read_message",
]
