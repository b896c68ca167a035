"""Mail in the store: saving and sending messages, moving, copying and deleting items,
and the folders clients create.

A message is kept as its RFC 822 bytes; subject, sender and recipients are promoted
from the headers as Exchange promotes them. Sending (EWS SendOnly/SendAndSaveCopy,
WebDAV's submission URI) hands the bytes, without their Bcc header, to the store's
*transport*: the SMTP sink when one runs (it delivers into the recipients' inboxes
and journals the transaction, exactly as for mail that arrived over SMTP), else the
store's own local delivery. A sent copy goes to the sender's Sent Items.

Deleting follows EWS's DeleteType: HardDelete and SoftDelete remove the item (this
store keeps no dumpster), MoveToDeletedItems moves it to the owner's Deleted Items
and removes it when it already is there.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal

from simulators.exchange.model import CalendarItem, Folder, ItemBase, Message, Occurrence
from simulators.exchange.store_errors import StoreError

if TYPE_CHECKING:
    from simulators.exchange.store import ExchangeStore

# (envelope sender, envelope recipients, message bytes) -> None; raises StoreError.
Transport = Callable[[str, list[str], bytes], None]
DeleteType = Literal["HardDelete", "SoftDelete", "MoveToDeletedItems"]

_NOT_DELETABLE = "Distinguished folders cannot be deleted."


def promoted_fields(mime: bytes) -> dict[str, Any]:
    """What Exchange promotes from a message's headers onto the item."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(mime)
    except Exception:  # a malformed header block: keep the bytes, promote nothing
        return {}

    def addresses(name: str) -> list[str]:
        try:
            values = [str(v) for v in headers.get_all(name, [])]
        except Exception:
            return []
        return [address for _, address in getaddresses(values) if address]

    fields: dict[str, Any] = {}
    try:
        fields["subject"] = str(headers.get("subject", "") or "")
        sender = addresses("from")
        fields["sender"] = sender[0] if sender else ""
        fields["message_id"] = str(headers.get("message-id", "") or "").strip()
        raw_date = headers.get("date")
        if raw_date:
            fields["sent"] = parsedate_to_datetime(str(raw_date)).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        pass
    fields["recipients"] = addresses("to")
    fields["cc"] = addresses("cc")
    fields["bcc"] = addresses("bcc")
    return fields


def compose_mime(
    *,
    subject: str,
    body: str,
    sender: str,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    stamp: datetime,
) -> bytes:
    """A plain-text message from item fields (an EWS Message without MimeContent)."""
    from email.message import EmailMessage

    message = EmailMessage()
    if sender:
        message["From"] = sender
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if bcc:
        message["Bcc"] = ", ".join(bcc)
    message["Subject"] = subject
    message["Date"] = format_datetime(stamp.astimezone(UTC), usegmt=True)
    message["Message-ID"] = make_msgid(domain=(sender.partition("@")[2] or "localhost"))
    message.set_content(body or "")
    return bytes(message)


def without_bcc(mime: bytes) -> bytes:
    """The message as transmitted: its header block without Bcc (folded lines too)."""
    text = mime
    separator = b"\r\n" if b"\r\n" in mime[:2000] else b"\n"
    head, sep, body = text.partition(separator + separator)
    kept: list[bytes] = []
    skipping = False
    for line in head.split(separator):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(b"bcc:")
        if not skipping:
            kept.append(line)
    return separator.join(kept) + sep + body


class MailOperations:
    """Mixed into ``ExchangeStore``."""

    _lock: threading.RLock
    items: dict[str, Any]
    folders: dict[str, Folder]
    mailboxes: dict[str, Any]
    transport: Transport | None = None

    def _store(self) -> ExchangeStore:
        return self  # type: ignore[return-value]

    # ------------------------------------------------------------ transport
    def set_transport(self, transport: Transport | None) -> None:
        """Route sent mail through ``transport`` (the SMTP sink); None: local delivery."""
        self.transport = transport

    def deliver_locally(self, sender: str, recipients: list[str], mime: bytes) -> list[str]:
        """Put one copy into each local recipient's inbox; the addresses delivered to."""
        store = self._store()
        delivered: list[str] = []
        for address in recipients:
            key = address.strip().lower()
            if key in delivered or key not in store.mailboxes:
                continue
            store.deliver_message(
                key,
                mime=mime,
                **{
                    k: v
                    for k, v in promoted_fields(mime).items()
                    if k in ("subject", "message_id", "sent", "cc")
                },
                sender=sender,
                recipients=list(recipients),
            )
            delivered.append(key)
        return delivered

    # ------------------------------------------------------------ messages
    def create_message(self, folder: Folder, mime: bytes, **fields: Any) -> Message:
        """Save a message (a draft unless ``is_draft=False``) in ``folder``."""
        store = self._store()
        with self._lock:
            stamp = store.clock.now()
            values: dict[str, Any] = {"is_draft": True, **promoted_fields(mime), **fields}
            message = Message(
                id=store.new_item_id(),
                folder_id=folder.id,
                created=stamp,
                modified=stamp,
                mime=mime,
                **values,
            )
            store._place(message)
            return message

    def send_message(
        self, mailbox: str, mime: bytes, save_copy: bool, recipients: list[str] | None = None
    ) -> Message | None:
        """Send a message as ``mailbox``: to its To, Cc and Bcc (or ``recipients``).

        Returns the copy saved in Sent Items when ``save_copy``.
        """
        store = self._store()
        box = store.mailbox(mailbox)
        fields = promoted_fields(mime)
        to = recipients or [*fields["recipients"], *fields["cc"], *fields["bcc"]]
        if not to:
            raise StoreError(
                "ErrorInvalidRecipients", "At least one recipient is required, but none were found."
            )
        sender = fields.get("sender") or box.smtp
        outgoing = without_bcc(mime)
        transport = self.transport
        if transport is not None:
            transport(sender, to, outgoing)
        else:
            self.deliver_locally(sender, to, outgoing)
        if not save_copy:
            return None
        sent = store.distinguished_folder("sentitems", box.smtp)
        return self.create_message(
            sent, mime, is_draft=False, is_read=True, sent=fields.get("sent") or store.clock.now()
        )

    def send_draft(self, item_id: str, save_copy: bool) -> Message | None:
        """Send a saved draft (EWS SendItem, WebDAV submission): it leaves its folder."""
        store = self._store()
        with self._lock:
            draft = store.item(item_id)
            if not isinstance(draft, Message):
                raise StoreError("ErrorInvalidItemForOperationSendItem", "Only messages are sent.")
            owner = store.owner_of(draft)
            if owner is None:
                raise StoreError("ErrorInvalidOperation", "Public folder items cannot be sent.")
            sent = self.send_message(owner, draft.mime, save_copy)
            store.delete_item(draft.id)
            return sent

    # --------------------------------------------------------- move & copy
    def move_item(self, item_id: str, folder: Folder) -> ItemBase:
        """Move an item (not an occurrence) into ``folder``; it keeps its id."""
        store = self._store()
        with self._lock:
            item = self._movable(item_id, folder)
            if item.folder_id == folder.id:
                return item
            store._touch()
            source = store.folders[item.folder_id]
            source.item_ids.remove(item.id)
            source.changed = store.clock.now()
            item.folder_id = folder.id
            folder.item_ids.append(item.id)
            folder.changed = store.clock.now()
            item.version += 1
            # For whoever follows a calendar (the change history), an appointment moved
            # out of it (MoveToDeletedItems) is gone, and one moved into it is new.
            if source.kind == "calendar" and folder.kind != "calendar":
                store._changed(item, "deleted", folder.changed)  # type: ignore[arg-type]
            elif folder.kind == "calendar" and source.kind != "calendar":
                store._changed(item, "created", folder.changed)  # type: ignore[arg-type]
            return item

    def copy_item(self, item_id: str, folder: Folder) -> ItemBase:
        """A copy of an item in ``folder``: new id, new article number, same content."""
        store = self._store()
        with self._lock:
            item = self._movable(item_id, folder)
            twin = copy.deepcopy(item)
            stamp = store.clock.now()
            twin.id = store.new_item_id()
            twin.folder_id = folder.id
            twin.article = 0
            twin.version = 1
            twin.created = twin.modified = stamp
            if isinstance(twin, CalendarItem):
                twin.uid = uuid.uuid4().hex.upper()  # a copy is another appointment
            store._place(twin)  # type: ignore[arg-type]
            store._changed(twin, "created", stamp)  # type: ignore[arg-type]
            return twin

    def _movable(self, item_id: str, folder: Folder) -> ItemBase:
        item = self._store().item(item_id)
        if isinstance(item, Occurrence):
            raise StoreError(
                "ErrorCalendarCannotMoveOrCopyOccurrence", "Cannot move or copy an occurrence."
            )
        if folder.kind in ("public_root", "search") and folder.mailbox is not None:
            raise StoreError("ErrorInvalidOperation", "Items cannot be put into this folder.")
        return item

    def delete_as(self, item_id: str, delete_type: DeleteType) -> None:
        """DeleteItem's dispositions (see the module docstring)."""
        store = self._store()
        with self._lock:
            target = store.item(item_id)
            if delete_type == "MoveToDeletedItems" and not isinstance(target, Occurrence):
                owner = store.owner_of(target)
                if owner is not None:
                    trash = store.distinguished_folder("deleteditems", owner)
                    if target.folder_id != trash.id:
                        self.move_item(target.id, trash)
                        return
            store.delete_item(target.id)

    # -------------------------------------------------------------- folders
    def create_folder(self, parent: Folder, name: str, folder_class: str = "IPF.Note") -> Folder:
        """A folder a client creates (EWS CreateFolder, WebDAV MKCOL)."""
        store = self._store()
        with self._lock:
            if not name.strip():
                raise StoreError("ErrorFolderSavePropertyError", "The folder name is empty.")
            if any(c.display_name.lower() == name.lower() for c in store.children(parent)):
                raise StoreError(
                    "ErrorFolderExists", "A folder with the specified name already exists."
                )
            kind = {
                "IPF.Appointment": "calendar",
                "IPF.Contact": "contacts",
                "IPF.Task": "tasks",
                "IPF.StickyNote": "notes",
                "IPF.Journal": "journal",
            }.get(folder_class, "mail")
            if parent.mailbox is None:
                kind = "public"
            return store._new_folder(name, kind, folder_class, name, parent.mailbox, parent.id)

    def delete_folder(self, folder: Folder, delete_type: DeleteType = "HardDelete") -> None:
        """Delete a folder a client made, with everything in it."""
        store = self._store()
        with self._lock:
            if folder.distinguished or folder.parent_id is None:
                raise StoreError("ErrorDeleteDistinguishedFolder", _NOT_DELETABLE)
            parent = store.folders[folder.parent_id]
            if delete_type == "MoveToDeletedItems" and folder.mailbox is not None:
                trash = store.distinguished_folder("deleteditems", folder.mailbox)
                if parent.id != trash.id and not self._inside(folder, trash):
                    parent.child_ids.remove(folder.id)
                    folder.parent_id = trash.id
                    trash.child_ids.append(folder.id)
                    return
            parent.child_ids.remove(folder.id)
            self._forget(folder)

    def _inside(self, folder: Folder, ancestor: Folder) -> bool:
        current: Folder | None = folder
        while current is not None and current.parent_id is not None:
            if current.parent_id == ancestor.id:
                return True
            current = self.folders.get(current.parent_id)
        return False

    def _forget(self, folder: Folder) -> None:
        self._store()._touch()
        for child_id in list(folder.child_ids):
            self._forget(self.folders[child_id])
        for item_id in folder.item_ids:
            self.items.pop(item_id, None)
        self.folders.pop(folder.id, None)

    def move_folder(self, folder: Folder, parent: Folder) -> Folder:
        """Move a folder a client made under ``parent`` (EWS MoveFolder, WebDAV MOVE)."""
        with self._lock:
            if folder.distinguished or folder.parent_id is None:
                raise StoreError(
                    "ErrorMoveDistinguishedFolder", "Distinguished folders cannot be moved."
                )
            if parent.id == folder.id or self._inside(parent, folder):
                raise StoreError("ErrorMoveCopyFailed", "A folder cannot move into itself.")
            if any(
                c.display_name.lower() == folder.display_name.lower()
                for c in self._store().children(parent)
            ):
                raise StoreError(
                    "ErrorFolderExists", "A folder with the specified name already exists."
                )
            self.folders[folder.parent_id].child_ids.remove(folder.id)
            folder.parent_id = parent.id
            parent.child_ids.append(folder.id)
            return folder


__all__ = [
    "DeleteType",
    "MailOperations",
    "Transport",
    "compose_mime",
    "promoted_fields",
    "without_bcc",
]
