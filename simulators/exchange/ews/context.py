"""What one EWS request carries (store, caller, options) and how the folder and
item ids it names resolve to store objects, with the caller's rights checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from simulators.exchange.ews.auth import Caller
from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr,
    attr_enum,
    attr_required_int,
    qname,
    text,
    words,
)
from simulators.exchange.model import CalendarItem, Folder, Item, Occurrence
from simulators.exchange.recurrence import occurrence_starts
from simulators.exchange.store import PUBLIC_ROOT, ExchangeStore, StoreError

MAILBOX_TARGET_KEY = "harness.mailbox"  # environ key: the first mailbox a request touched

DISTINGUISHED_IDS = words(
    "calendar contacts deleteditems drafts inbox journal notes outbox sentitems tasks "
    "msgfolderroot publicfoldersroot root junkemail searchfolders voicemail"
)

FOLDER_ID = qname("t:FolderId")
DISTINGUISHED_FOLDER_ID = qname("t:DistinguishedFolderId")
ITEM_ID = qname("t:ItemId")
OCCURRENCE_ITEM_ID = qname("t:OccurrenceItemId")
RECURRING_MASTER_ITEM_ID = qname("t:RecurringMasterItemId")

_MAILBOX = Sequence_(
    ("t:Name", 0, 1),
    ("t:EmailAddress", 0, 1),
    ("t:RoutingType", 0, 1),
    ("t:MailboxType", 0, 1),
    ("t:ItemId", 0, 1),
)
_DISTINGUISHED = Sequence_(("t:Mailbox", 0, 1))
_ID_SHAPE = re.compile(r"^[A-Za-z0-9+/_-]+=*$")


@dataclass(frozen=True)
class EwsOptions:
    """Behaviour switches of the front end.

    ``meeting_time_zone``: return ``t:MeetingTimeZone`` when asked for. Off by default:
    exchangelib 5.6 reads only the Id/Name attributes of 2010 and fails with a
    TypeError on the 2007 shape (``TimeZoneName`` plus BaseOffset/Standard/Daylight)
    while it asks for the element whenever it reads Start or End.

    ``fast_calendar_view``: answer the engine's poll (one calendar's CalendarView, see
    ``simulators.exchange.ews.calendar_poll``) without spyne. The answer is the same to
    the byte; off only to compare the two paths.
    """

    meeting_time_zone: bool = False
    max_request_bytes: int = 2 * 1024 * 1024
    fast_calendar_view: bool = True


@dataclass
class EwsCall:
    """One request as the operations see it."""

    store: ExchangeStore
    caller: Caller
    options: EwsOptions = field(default_factory=EwsOptions)
    environ: dict[str, Any] = field(default_factory=dict)

    def touched(self, smtp: str | None) -> None:
        """Remember the first mailbox the request reads or writes (for the journal)."""
        if smtp and MAILBOX_TARGET_KEY not in self.environ:
            self.environ[MAILBOX_TARGET_KEY] = smtp

    # ------------------------------------------------------------- folders
    def folder(self, element: Element) -> Folder:
        """A FolderId or DistinguishedFolderId, resolved and access-checked."""
        if element.tag == DISTINGUISHED_FOLDER_ID:
            name = attr_enum(
                element, "Id", DISTINGUISHED_IDS, "DistinguishedFolderIdNameType", required=True
            )
            kids = _DISTINGUISHED.read(element)
            if name == PUBLIC_ROOT:
                return self.store.distinguished_folder(PUBLIC_ROOT, None)
            mailbox = kids.opt("t:Mailbox")
            address = None
            if mailbox is not None:
                email = _MAILBOX.read(mailbox).opt("t:EmailAddress")
                address = text(email) if email is not None else None
                if not address:
                    raise ResponseError("ErrorMissingEmailAddress")
            return self.mailbox_folder(name or "", address)
        folder_id = attr(element, "Id", required=True) or ""
        _check_id(folder_id)
        try:
            found = self.store.folder(folder_id)
        except StoreError as exc:
            raise ResponseError.from_store(exc) from None
        self._check_owner(found.mailbox)
        return found

    def mailbox_folder(self, name: str, address: str | None) -> Folder:
        """Distinguished folder ``name`` of mailbox ``address`` (None: the caller's own)."""
        box = self.caller.mailbox(self.store, address)
        self.touched(box.smtp)
        try:
            return self.store.distinguished_folder(name, box.smtp)
        except StoreError as exc:
            raise ResponseError.from_store(exc) from None

    def _check_owner(self, smtp: str | None) -> None:
        if smtp is None:
            return  # public folders: everyone in the organisation reads them
        self.caller.check(self.store, self.store.mailbox(smtp))
        self.touched(smtp)

    # --------------------------------------------------------------- items
    def item(self, element: Element) -> Item | Occurrence:
        """An ItemId, OccurrenceItemId or RecurringMasterItemId, resolved and checked."""
        found: Item | Occurrence
        try:
            if element.tag == OCCURRENCE_ITEM_ID:
                found = self._occurrence_by_index(element)
            elif element.tag == RECURRING_MASTER_ITEM_ID:
                occurrence_id = attr(element, "OccurrenceId", required=True) or ""
                _check_id(occurrence_id)
                row = self.store.item(occurrence_id)
                if not isinstance(row, Occurrence):
                    raise ResponseError(
                        "ErrorCalendarCannotUseIdForRecurringMasterId",
                        "The Id is not an occurrence Id.",
                    )
                found = row.master
            else:
                item_id = attr(element, "Id", required=True) or ""
                _check_id(item_id)
                found = self.store.item(item_id)
        except StoreError as exc:
            raise ResponseError.from_store(exc) from None
        self._check_owner(self.store.owner_of(found))
        return found

    def _occurrence_by_index(self, element: Element) -> Occurrence:
        master_id = attr(element, "RecurringMasterId", required=True) or ""
        index = attr_required_int(element, "InstanceIndex")
        _check_id(master_id)
        master = self.store.item(master_id)
        if not isinstance(master, CalendarItem) or master.recurrence is None:
            raise ResponseError(
                "ErrorCalendarCannotUseIdForOccurrenceId",
                "The Id is not the Id of a recurring master.",
            )
        if index < 1:
            raise ResponseError(
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                "Occurrence index is out of recurrence range.",
            )
        zone = master.zone
        local_start = master.start.astimezone(zone).time()
        for position, (day, _start) in enumerate(
            occurrence_starts(master.recurrence, local_start, zone), start=1
        ):
            if position == index:
                return self.store.occurrence_on(master, day)
        raise ResponseError(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
            "Occurrence index is out of recurrence range.",
        )


def _check_id(value: str) -> None:
    """Real ids are base64 of a structure whose first bytes are zero ('AA...');
    anything else is ErrorInvalidIdMalformed, a well-formed unknown id is not found."""
    if not value.startswith("AA") or not _ID_SHAPE.match(value):
        raise ResponseError("ErrorInvalidIdMalformed")
    try:
        base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        raise ResponseError("ErrorInvalidIdMalformed") from None
