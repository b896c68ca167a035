"""The one Exchange organisation every front end serves.

Owns accounts and rights (with changes pending until they take effect,
``simulators.exchange.rights``), mailboxes and their folders, the public folder tree,
and every item. EWS, WebDAV/OWA, the SMTP sink and scenario steps all read and
change it through the methods here; front ends only translate protocol. All
methods are thread-safe (the HTTP servers are threaded).

Errors are ``StoreError`` with the Exchange response code a front end reports.
"""

from __future__ import annotations

import binascii
import hashlib
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from simulators.clock import Clock
from simulators.exchange.calendar_index import CalendarIndex, build_index
from simulators.exchange.history import (
    ChangeKind,
    ChangeListener,
    ItemChange,
    change_of,
    notify,
)
from simulators.exchange.lockout import AccountLockout, LockoutPolicy
from simulators.exchange.model import (
    Account,
    CalendarItem,
    Contact,
    Folder,
    Item,
    Mailbox,
    Message,
    Occurrence,
    OccurrenceOverride,
)
from simulators.exchange.recurrence import Recurrence, SeriesStarts, localize, occurrence_starts
from simulators.exchange.store_errors import StoreError
from simulators.exchange.store_mail import MailOperations
from simulators.exchange.store_props import PropertyOperations
from simulators.exchange.store_rights import RightsOperations
from simulators.exchange.tzrules import ZoneRules

# Distinguished folders of every mailbox: (distinguished id, kind, class, en name, de name),
# parents before children; each lives under msgfolderroot unless FOLDER_PARENTS says
# otherwise. These are the default folders of an Exchange 2007 mailbox, with the
# 2007 distinguished ids (t:DistinguishedFolderIdNameType of the 2007 SP1 schema).
MAILBOX_FOLDERS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "msgfolderroot",
        "mail",
        "IPF.Note",
        "Top of Information Store",
        "Oberste Ebene des Informationsspeichers",
    ),
    ("calendar", "calendar", "IPF.Appointment", "Calendar", "Kalender"),
    ("contacts", "contacts", "IPF.Contact", "Contacts", "Kontakte"),
    ("inbox", "mail", "IPF.Note", "Inbox", "Posteingang"),
    ("sentitems", "mail", "IPF.Note", "Sent Items", "Gesendete Objekte"),
    ("deleteditems", "mail", "IPF.Note", "Deleted Items", "Gelöschte Objekte"),
    ("drafts", "mail", "IPF.Note", "Drafts", "Entwürfe"),
    ("outbox", "mail", "IPF.Note", "Outbox", "Postausgang"),
    ("junkemail", "mail", "IPF.Note", "Junk E-mail", "Junk-E-Mail"),
    ("tasks", "tasks", "IPF.Task", "Tasks", "Aufgaben"),
    ("journal", "journal", "IPF.Journal", "Journal", "Journal"),
    ("notes", "notes", "IPF.StickyNote", "Notes", "Notizen"),
    ("searchfolders", "search", "", "Finder", "Finder"),
    ("voicemail", "search", "IPF.Note.Microsoft.Voicemail", "Voice Mail", "Voicemail"),
)
# Folders outside the Top of Information Store (NON_IPM_SUBTREE over WebDAV).
FOLDER_PARENTS = {"msgfolderroot": "root", "searchfolders": "root", "voicemail": "searchfolders"}
PUBLIC_ROOT = "publicfoldersroot"
_EXCEPTION_REACH = timedelta(days=7)  # how far a moved occurrence is looked for


def _check_duration(start: datetime, end: datetime, recurrence: Recurrence | None) -> None:
    # An occurrence as long as its series' period overlaps the next one; one lasting
    # centuries made every expansion of the series overflow.
    if recurrence is not None and end - start >= recurrence.shortest_gap():
        raise StoreError(
            "ErrorCalendarDurationIsTooLong",
            "The duration of the calendar item must be shorter than how often it recurs.",
        )


@dataclass(frozen=True)
class _KeptSeries:
    """What a series' expansion was made of, and what was made (see ``_series_of``)."""

    start: datetime
    time_zone: str
    rules: ZoneRules | None
    zone: tzinfo
    local_start: time
    series: SeriesStarts


def _opaque_id(kind: str, key: str) -> str:
    """An Exchange-looking, stable, opaque id: base64 of the 2007 EWS id layout (a
    mailbox GUID as text, then a 70-byte entry id), 152 characters ('AAMkA...') as
    on a real server. Clients rely on the length: DavMail takes a name of 144 or more
    base64url characters for an item id."""
    seed = f"{kind}:{key}".encode()
    digest = hashlib.sha256(seed).digest()
    # str(uuid.UUID(bytes=digest[:16])), spelled out: seeding makes one per item.
    h = digest[:16].hex()
    guid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    entry = (digest + hashlib.sha256(digest).digest() + hashlib.sha1(seed).digest())[:69]
    raw = b"".join(
        (
            b"\x00\x03\x24\x00",
            guid.encode(),
            b"\x01\x46\x00",
            entry,
            kind.encode()[:2].ljust(2, b"_"),
        )
    )
    return binascii.b2a_base64(raw, newline=False).decode()


class ExchangeStore(PropertyOperations, MailOperations, RightsOperations):
    """An in-memory Exchange organisation on a (possibly skewed) clock.

    Extended (MAPI) properties are ``PropertyOperations``' (``store_props``); mail
    (drafts, sending, moving and copying items, folders clients make) is
    ``MailOperations``' (``store_mail``)."""

    def __init__(self, clock: Clock | None = None, domain: str = "domain.net") -> None:
        self.clock = clock or Clock()
        self.domain = domain
        self._lock = threading.RLock()
        self._listeners: list[ChangeListener] = []
        self._generation = 0  # moves on every change of an item (``_touch``)
        self.clear()

    # ----------------------------------------------------------------- setup
    def clear(self) -> None:
        """Forget everything: no accounts, mailboxes, public folders or items."""
        with self._lock:
            self.accounts: dict[str, Account] = {}
            self.mailboxes: dict[str, Mailbox] = {}
            # Mailboxes by lower-case alias (the part before '@'): WebDAV URLs name a
            # mailbox by its alias, and an alias two mailboxes share is ambiguous.
            self._by_alias: dict[str, list[Mailbox]] = {}
            self.folders: dict[str, Folder] = {}
            self.items: dict[str, Item] = {}
            self._occurrence_ids: dict[str, tuple[str, datetime]] = {}
            self._ids_of_occurrences: dict[tuple[str, datetime], str] = {}  # the reverse
            # Each series' kept expansion, by master id (replaced when the series changes).
            self._series: dict[str, _KeptSeries] = {}
            # Each calendar folder's index (``calendar_index``), by folder id; one made
            # before the store's generation last moved is made again when next read.
            self._calendar_indexes: dict[str, CalendarIndex] = {}
            self._touch()
            self._pending_rights = []
            # AD's account lock-out (simulators.exchange.lockout); none until a seed sets it.
            self.lockout = AccountLockout()
            self._counter = itertools.count(1)
            self._articles = itertools.count(1)  # PR_INTERNET_ARTICLE_NUMBER of new items
            self._next_article = 1
            root = Folder(
                id=_opaque_id("pf", PUBLIC_ROOT),
                display_name="IPM_SUBTREE",
                kind="public_root",
                folder_class="IPF.Note",
                mailbox=None,
                distinguished=PUBLIC_ROOT,
            )
            self.folders[root.id] = root
            self.public_root_id = root.id
            notify(self._listeners, ItemChange(self._now(), "cleared", ""))

    def locked(self) -> AbstractContextManager[Any]:
        """Hold the store across several calls (a reseed): readers see all or none."""
        return self._lock

    def on_change(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` with every item created, changed or deleted (and each
        ``clear``), under the store's lock, in order; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _touch(self) -> None:
        """An item was added, changed, deleted or moved: every calendar index is stale
        (callers hold the lock)."""
        self._generation += 1

    def _changed(
        self, target: Item | Occurrence, change: ChangeKind, at: datetime, fields: Any = ()
    ) -> None:
        """Tell the listeners (callers hold the lock)."""
        if self._listeners:
            stored = target.master if isinstance(target, Occurrence) else target
            folder = self.folders.get(stored.folder_id)
            mailbox = folder.mailbox if folder else None
            notify(self._listeners, change_of(target, mailbox, change, at, fields))

    def add_account(self, account: Account) -> Account:
        with self._lock:
            self.accounts[account.upn.lower()] = account
            return account

    def add_mailbox(
        self,
        smtp: str,
        display_name: str = "",
        language: str = "en",
        password: str | None = None,
        time_zone: str = "UTC",
    ) -> Mailbox:
        """Create a mailbox with its folders, and its owner's account."""
        key = smtp.lower()
        ZoneInfo(time_zone)  # an unknown zone fails here
        with self._lock:
            if key in self.mailboxes:
                raise StoreError("ErrorInvalidOperation", f"mailbox {smtp} already exists")
            mailbox = Mailbox(
                smtp=key, display_name=display_name or key, language=language, time_zone=time_zone
            )
            root = self._new_folder("root", "root", "IPF.Note", "Root", key, None, "root")
            made = {"root": root.id}
            for dist, kind, cls, en, de in MAILBOX_FOLDERS:
                name = de if language == "de" else en
                parent = made[FOLDER_PARENTS.get(dist, "msgfolderroot")]
                made[dist] = self._new_folder(dist, kind, cls, name, key, parent, dist).id
            mailbox.folders = made  # no scan of the store's folders: seeding stays linear
            self.mailboxes[key] = mailbox
            self._by_alias.setdefault(mailbox.alias.lower(), []).append(mailbox)
            if key not in self.accounts:
                self.accounts[key] = Account(upn=key, password=password or "secret", smtp=key)
            return mailbox

    def _new_folder(
        self,
        key: str,
        kind: Any,
        folder_class: str,
        name: str,
        mailbox: str | None,
        parent_id: str | None,
        distinguished: str | None = None,
    ) -> Folder:
        folder = Folder(
            id=_opaque_id("f", f"{mailbox}/{key}/{next(self._counter)}"),
            display_name=name,
            kind=kind,
            folder_class=folder_class,
            mailbox=mailbox,
            parent_id=parent_id,
            distinguished=distinguished,
            changed=self._now(),
        )
        self.folders[folder.id] = folder
        if parent_id:
            self.folders[parent_id].child_ids.append(folder.id)
        return folder

    def set_mailbox_time_zone(self, smtp: str, time_zone: str) -> Mailbox:
        """Set the IANA zone of a mailbox owner's regional settings (scenario timezone)."""
        ZoneInfo(time_zone)
        with self._lock:
            box = self.mailbox(smtp)
            box.time_zone = time_zone
            return box

    def add_public_folder(
        self, name: str, parent_id: str | None = None, folder_class: str = "IPF.Contact"
    ) -> Folder:
        with self._lock:
            parent = parent_id or self.public_root_id
            return self._new_folder(name, "public", folder_class, name, None, parent)

    # ------------------------------------------------------------ look-ups
    def set_lockout_policy(self, policy: LockoutPolicy | None) -> None:
        """Put AD's account lock-out policy in force (None: accounts never lock);
        every bad-password count and lock-out starts afresh."""
        with self._lock:
            self.lockout = AccountLockout(policy)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account for IIS-style credentials: UPN, DOMAIN\\alias or alias; None for
        a wrong password and for an account the lock-out policy has locked."""
        name = username.split("\\", 1)[-1].lower()
        with self._lock:
            self._apply_due_rights()
            account = self.accounts.get(name)
            if account is None and "@" not in name:
                account = next((a for a in self.accounts.values() if a.alias.lower() == name), None)
            if account is None:
                return None
            if not self.lockout.policy.threshold:  # no policy: the common, fast path
                return account if account.password == password else None
            now = self._now()
            if self.lockout.locked(account.upn, now):
                return None
            if account.password != password:
                self.lockout.failed(account.upn, now)
                return None
            self.lockout.succeeded(account.upn)
            return account

    def check_impersonation(self, account: Account, smtp: str) -> Mailbox:
        """The mailbox ``account`` may act as, or the StoreError Exchange 2007 gives."""
        with self._lock:
            self._apply_due_rights()
        if not account.impersonation_on_server:
            raise StoreError(
                "ErrorImpersonationDenied",
                "The server to which the application is connected cannot impersonate the requested user due to insufficient permission.",
            )
        box = self.mailboxes.get(smtp.lower())
        if box is None:
            raise StoreError(
                "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it."
            )
        granted = box.smtp in account.impersonation_mailboxes or (
            account.may_impersonate and box.smtp not in account.impersonation_withheld
        )
        if not granted:
            raise StoreError(
                "ErrorImpersonateUserDenied",
                "The account does not have permission to impersonate the requested user.",
            )
        return box

    def check_access(self, account: Account, mailbox: Mailbox) -> None:
        """FullAccess (or ownership) on ``mailbox``, else ErrorAccessDenied."""
        if not self.has_full_access(account, mailbox.smtp):
            raise StoreError(
                "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )

    def mailbox(self, smtp: str) -> Mailbox:
        found = self.mailboxes.get(smtp.lower())
        if found is None:
            raise StoreError(
                "ErrorNonExistentMailbox", "No mailbox with such guid."
            )  # the text Exchange 2007 gives
        return found

    def mailboxes_with_alias(self, alias: str) -> list[Mailbox]:
        """The mailboxes whose address starts with ``alias@`` (any case), oldest first."""
        return list(self._by_alias.get(alias.lower(), ()))

    def folder(self, folder_id: str) -> Folder:
        found = self.folders.get(folder_id)
        if found is None:
            raise StoreError(
                "ErrorFolderNotFound", "The specified folder could not be found in the store."
            )
        return found

    def distinguished_folder(self, name: str, mailbox: str | None) -> Folder:
        if name == PUBLIC_ROOT:
            return self.folders[self.public_root_id]
        if mailbox is None:
            raise StoreError(
                "ErrorFolderNotFound", "The specified folder could not be found in the store."
            )
        box = self.mailbox(mailbox)
        folder_id = box.folders.get(name)
        if folder_id is None:
            raise StoreError(
                "ErrorFolderNotFound", "The specified folder could not be found in the store."
            )
        return self.folders[folder_id]

    def children(self, folder: Folder) -> list[Folder]:
        with self._lock:
            return [self.folders[c] for c in folder.child_ids]

    def items_in(self, folder: Folder) -> list[Item]:
        with self._lock:
            return [self.items[i] for i in folder.item_ids]

    def item(self, item_id: str) -> Item | Occurrence:
        """A stored item, or the occurrence an occurrence id names."""
        with self._lock:
            found = self.items.get(item_id)
            if found is not None:
                return found
            occ = self._occurrence_ids.get(item_id)
            if occ is not None:
                master = self.items.get(occ[0])
                if isinstance(master, CalendarItem):
                    for row in self._expand(
                        master, occ[1], occ[1] + timedelta(seconds=1), by_original=True
                    ):
                        return row
            raise StoreError(
                "ErrorItemNotFound", "The specified object was not found in the store."
            )

    def owner_of(self, item: Item | Occurrence) -> str | None:
        """Lower-case SMTP of the mailbox holding the item, None in public folders."""
        stored = item.master if isinstance(item, Occurrence) else item
        return self.folders[stored.folder_id].mailbox

    def resolve_names(self, text: str) -> list[Mailbox]:
        """Mailboxes whose display name, alias or address starts with ``text``."""
        needle = text.strip().lower().removeprefix("smtp:")
        with self._lock:
            hits = []
            for box in self.mailboxes.values():
                words = box.display_name.lower().split()
                if (
                    box.smtp == needle
                    or box.smtp.startswith(needle)
                    or box.display_name.lower().startswith(needle)
                    or any(w.startswith(needle) for w in words)
                ):
                    hits.append(box)
            return sorted(hits, key=lambda b: b.display_name.lower())

    # ------------------------------------------------------- calendar view
    def calendar_view(self, folder: Folder, start: datetime, end: datetime) -> list[Occurrence]:
        """Singles, occurrences and exceptions overlapping [start, end), by start."""
        with self._lock:
            index = self._calendar_indexes.get(folder.id)
            if index is None or not index.fresh(self._generation, folder):
                index = self._calendar_indexes[folder.id] = build_index(
                    self._generation, folder, [self.items[i] for i in folder.item_ids]
                )
            rows = [self._single_row(item) for item in index.singles_overlapping(start, end)]
            for item in index.series:
                rows.extend(self._expand(item, start, end))
        rows.sort(key=lambda r: (r.start, r.end, r.subject, r.id))
        return rows

    @staticmethod
    def _single_row(item: CalendarItem) -> Occurrence:
        return Occurrence(
            id=item.id,
            master=item,
            item_type="Single",
            subject=item.subject,
            start=item.start,
            end=item.end,
            location=item.location,
            busy_status=item.busy_status,
            modified=item.modified,
        )

    def _expand(
        self, master: CalendarItem, start: datetime, end: datetime, by_original: bool = False
    ) -> Iterator[Occurrence]:
        """Rows of a series overlapping [start, end) (or whose original start is in it)."""
        assert master.recurrence is not None
        zone, local_start, series = self._series_of(master)
        duration = master.end - master.start
        # A row without an exception starts at its original start: an original up to
        # one duration before the window is the earliest that can reach into it.
        # Exceptions may have moved far from their original slot: widen the search.
        widen = duration + _EXCEPTION_REACH if master.exceptions else duration
        for day, original in occurrence_starts(
            master.recurrence, local_start, zone, start - widen, end + widen, series
        ):
            if day in master.deleted:
                continue
            override = master.exceptions.get(day)
            row_start = (override.start if override and override.start else None) or original
            row_end = (override.end if override and override.end else None) or original + duration
            if by_original:
                if not start <= original < end:
                    continue
            elif not (row_end > start and row_start < end):
                continue
            key = (master.id, original)
            occ_id = self._ids_of_occurrences.get(key)
            if occ_id is None:  # three hashes: made once per occurrence (profiled)
                occ_id = _opaque_id("o", f"{master.id}/{original.isoformat()}")
                self._occurrence_ids[occ_id] = key
                self._ids_of_occurrences[key] = occ_id
            yield Occurrence(
                id=occ_id,
                master=master,
                item_type="Exception" if override else "Occurrence",
                subject=(
                    override.subject
                    if override and override.subject is not None
                    else master.subject
                ),
                start=row_start,
                end=row_end,
                location=(
                    override.location
                    if override and override.location is not None
                    else master.location
                ),
                busy_status=(
                    override.busy_status
                    if override and override.busy_status
                    else master.busy_status
                ),
                modified=(override.modified if override and override.modified else master.modified),
                original_start=original,
                original_date=day,
            )

    def _series_of(self, master: CalendarItem) -> tuple[tzinfo, time, SeriesStarts]:
        """The series' zone, local start time and kept expansion (``SeriesStarts``),
        made again when its start, pattern or zone is no longer what they were made of."""
        assert master.recurrence is not None
        kept = self._series.get(master.id)
        if (
            kept is not None
            and kept.start is master.start
            and kept.series.recurrence is master.recurrence
            and kept.time_zone == master.time_zone
            and kept.rules is master.time_zone_rules
        ):
            return kept.zone, kept.local_start, kept.series
        zone = master.zone
        local_start = master.start.astimezone(zone).time()
        first = datetime.combine(master.recurrence.start_date, local_start)
        series = kept.series if kept is not None else None
        if series is None or not series.serves(master.recurrence, first):
            series = SeriesStarts(master.recurrence, first)
        self._series[master.id] = _KeptSeries(
            master.start, master.time_zone, master.time_zone_rules, zone, local_start, series
        )
        return zone, local_start, series

    def first_and_last(self, master: CalendarItem) -> tuple[Occurrence | None, Occurrence | None]:
        """The series' first and last rows (last is None for a series without end)."""
        assert master.recurrence is not None
        rec = master.recurrence
        far = master.start + timedelta(days=366 * 5)
        with self._lock:
            rows = list(
                self._expand(master, master.start - timedelta(days=1), far, by_original=True)
            )
        if not rows:
            return None, None
        last = rows[-1] if (rec.count is not None or rec.end_date is not None) else None
        return rows[0], last

    # ------------------------------------------------------------- changes
    def _now(self) -> datetime:
        return self.clock.now()

    def _place(self, item: Item) -> Item:
        self._touch()
        self.items[item.id] = item
        folder = self.folders[item.folder_id]
        folder.item_ids.append(item.id)
        folder.changed = self._now()
        if not item.article:
            item.article = next(self._articles)
            self._next_article = item.article + 1
        return item

    def next_article(self) -> int:
        """The article number the next new item gets (PR_ARTICLE_NUM_NEXT)."""
        return self._next_article

    def new_item_id(self) -> str:
        return _opaque_id("i", f"{uuid.uuid4()}")

    @staticmethod
    def stable_item_id(key: str) -> str:
        """The id of the item ``key`` names in every store: seed data keeps its ids
        (and so looks unchanged to a client) from one start of ``harness serve`` to
        the next, as a restarted Exchange's items do."""
        return _opaque_id("i", f"stable:{key}")

    def create_calendar_item(
        self,
        folder: Folder,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        created: datetime | None = None,
        **fields: Any,
    ) -> CalendarItem:
        """A single or a recurring master in a calendar folder."""
        if end < start:
            raise StoreError(
                "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate"
            )
        _check_duration(start, end, fields.get("recurrence"))
        with self._lock:
            stamp = created or self._now()
            item = CalendarItem(
                id=fields.pop("item_id", None) or self.new_item_id(),
                folder_id=folder.id,
                created=stamp,
                modified=stamp,
                subject=subject,
                start=start.astimezone(UTC),
                end=end.astimezone(UTC),
                uid=fields.pop("uid", None) or uuid.uuid4().hex.upper(),
                organizer=fields.pop("organizer", None) or (folder.mailbox or ""),
                **fields,
            )
            ZoneInfo(item.time_zone)  # an unknown zone fails here, not at view time
            self._place(item)
            self._changed(item, "created", stamp)
            return item

    def create_contact(self, folder: Folder, **fields: Any) -> Contact:
        with self._lock:
            stamp = self._now()
            contact = Contact(
                id=self.new_item_id(), folder_id=folder.id, created=stamp, modified=stamp, **fields
            )
            self._place(contact)
            self._changed(contact, "created", stamp)
            return contact

    def deliver_message(self, mailbox: str, **fields: Any) -> Message:
        with self._lock:
            inbox = self.distinguished_folder("inbox", mailbox)
            stamp = self._now()
            message = Message(
                id=self.new_item_id(), folder_id=inbox.id, created=stamp, modified=stamp, **fields
            )
            self._place(message)
            self._changed(message, "created", stamp)
            return message

    def messages(self, mailbox: str | None = None) -> list[Message]:
        """Mail items of every folder in delivery order; only ``mailbox``'s when given."""
        key = mailbox.lower() if mailbox is not None else None
        with self._lock:
            return [
                item
                for item in self.items.values()
                if isinstance(item, Message)
                and (key is None or self.folders[item.folder_id].mailbox == key)
            ]

    def update_item(self, item_id: str, **changes: Any) -> Item | Occurrence:
        """Change fields of an item; on an occurrence id, make or update an exception."""
        with self._lock:
            target = self.item(item_id)
            if isinstance(target, Occurrence):
                return self._update_occurrence(target, changes)
            self._touch()  # before any field changes: a refused change may leave some
            for name, value in changes.items():
                if not hasattr(target, name):
                    raise StoreError("ErrorInvalidPropertySet", f"unknown property {name}")
                if isinstance(value, datetime):
                    value = value.astimezone(UTC)
                setattr(target, name, value)
            if isinstance(target, CalendarItem) and target.end < target.start:
                raise StoreError(
                    "ErrorCalendarEndDateIsEarlierThanStartDate",
                    "EndDate is earlier than StartDate",
                )
            if isinstance(target, CalendarItem):
                _check_duration(target.start, target.end, target.recurrence)
            target.modified = self._now()
            target.version += 1
            self._changed(target, "updated", target.modified, changes)
            return target

    def _update_occurrence(self, occ: Occurrence, changes: dict[str, Any]) -> Occurrence:
        master = occ.master
        assert occ.original_date is not None
        current = master.exceptions.get(occ.original_date)
        override = current or OccurrenceOverride()
        allowed = {"subject", "start", "end", "location", "busy_status"}
        for name, value in changes.items():
            if name not in allowed:
                raise StoreError(
                    "ErrorInvalidPropertySet", f"{name} cannot be changed on one occurrence"
                )
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
            setattr(override, name, value)
        override.modified = self._now()
        master.exceptions[occ.original_date] = override
        master.version += 1
        changed = self.item(occ.id)
        self._changed(changed, "updated", override.modified, changes)
        return changed  # type: ignore[return-value]

    def delete_item(self, item_id: str) -> None:
        """Remove an item; on an occurrence id, delete that occurrence only."""
        with self._lock:
            target = self.item(item_id)
            if isinstance(target, Occurrence):
                assert target.original_date is not None
                target.master.deleted.add(target.original_date)
                target.master.exceptions.pop(target.original_date, None)
                target.master.modified = self._now()
                target.master.version += 1
                self._changed(target, "deleted", target.master.modified)
                return
            self._touch()
            del self.items[target.id]
            self._series.pop(target.id, None)
            folder = self.folders[target.folder_id]
            folder.item_ids.remove(target.id)
            folder.changed = self._now()
            self._changed(target, "deleted", self._now())

    def modify_occurrence(self, master: CalendarItem, original_date: date, **changes: Any) -> None:
        """Seed helper: turn the occurrence of ``original_date`` into an exception."""
        row = self._occurrence_on(master, original_date)
        self._update_occurrence(row, changes)

    def delete_occurrence(self, master: CalendarItem, original_date: date) -> None:
        row = self._occurrence_on(master, original_date)
        self.delete_item(row.id)

    def _occurrence_on(self, master: CalendarItem, original_date: date) -> Occurrence:
        zone = master.zone
        day_start = datetime.combine(original_date, datetime.min.time(), zone).astimezone(UTC)
        for row in self._expand(master, day_start, day_start + timedelta(days=1), by_original=True):
            return row
        raise StoreError("ErrorItemNotFound", f"the series has no occurrence on {original_date}")

    def occurrence_on(self, master: CalendarItem, original_date: date) -> Occurrence:
        """The (possibly modified) occurrence originally on ``original_date``."""
        with self._lock:
            if original_date in master.deleted:
                raise StoreError(
                    "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                    "Occurrence index is for an occurrence that has been deleted from the "
                    "recurrence.",
                )
            return self._occurrence_on(master, original_date)

    def modified_occurrences(self, master: CalendarItem) -> list[Occurrence]:
        """The exceptions of a series, by original start."""
        with self._lock:
            rows = [self._occurrence_on(master, day) for day in sorted(master.exceptions)]
        return rows

    def deleted_occurrence_starts(self, master: CalendarItem) -> list[datetime]:
        """Original UTC starts of the deleted occurrences of a series, in order."""
        assert master.recurrence is not None
        zone = master.zone
        local_start = master.start.astimezone(zone).time()
        return [
            localize(datetime.combine(day, local_start), zone) for day in sorted(master.deleted)
        ]

    def all_calendar_items(self) -> Iterable[CalendarItem]:
        return [i for i in self.items.values() if isinstance(i, CalendarItem)]


__all__ = ["FOLDER_PARENTS", "MAILBOX_FOLDERS", "PUBLIC_ROOT", "ExchangeStore", "StoreError"]
