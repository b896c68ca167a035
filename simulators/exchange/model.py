"""What the fake Exchange organisation is made of: plain records, no behaviour.

Accounts and their rights, mailboxes with folders, calendar items (singles and
recurring masters with modified and deleted occurrences), contacts, messages,
and the expanded ``Occurrence`` rows a calendar view returns. Times are
timezone-aware UTC instants; a series also keeps its IANA zone (and, when its
client wrote one, its own time-zone definition) so that its occurrences follow
local wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from simulators.exchange.recurrence import Recurrence
from simulators.exchange.tzrules import ZoneRules

BusyStatus = Literal["Free", "Tentative", "Busy", "OOF", "NoData"]
# EWS ResponseTypeType: the mailbox owner's answer to a meeting (Organizer: its own).
ResponseType = Literal[
    "Unknown", "Organizer", "Tentative", "Accept", "Decline", "NoResponseReceived"
]
CalendarItemType = Literal["Single", "Occurrence", "Exception", "RecurringMaster"]
FolderKind = Literal[
    "root",
    "mail",
    "calendar",
    "contacts",
    "tasks",
    "notes",
    "journal",
    "search",
    "public_root",
    "public",
]

ALL_MAILBOXES = "*"


@dataclass
class Account:
    """An Active Directory account that can log in (IIS Basic, OWA forms).

    ``impersonation_on_server`` is ms-Exch-EPI-Impersonation on the Client Access
    server, ``may_impersonate`` ms-Exch-EPI-May-Impersonate on the mailbox
    database: EWS impersonation needs both. ``full_access`` holds lower-case
    SMTP addresses, or ``ALL_MAILBOXES``.
    """

    upn: str
    password: str
    smtp: str | None = None
    impersonation_on_server: bool = False
    may_impersonate: bool = False
    full_access: set[str] = field(default_factory=set)
    # Mailboxes whose database withholds ms-Exch-EPI-May-Impersonate from this account.
    impersonation_withheld: set[str] = field(default_factory=set)
    # Mailboxes on which ms-Exch-EPI-May-Impersonate was granted one by one.
    impersonation_mailboxes: set[str] = field(default_factory=set)

    @property
    def alias(self) -> str:
        return self.upn.split("@", 1)[0]

    def has_full_access(self, smtp: str) -> bool:
        key = smtp.lower()
        return (
            ALL_MAILBOXES in self.full_access
            or key in self.full_access
            or (self.smtp or "").lower() == key
        )


@dataclass
class Folder:
    id: str
    display_name: str
    kind: FolderKind
    folder_class: str
    mailbox: str | None  # lower-case SMTP of the owner; None for public folders
    parent_id: str | None = None
    distinguished: str | None = None  # "calendar", "inbox", "publicfoldersroot", ...
    child_ids: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    # Extended (MAPI) properties a client set, by ``mapi.PropKey`` (see ``mapi``).
    extended: dict[Any, Any] = field(default_factory=dict)
    # When its contents last changed (PR_LOCAL_COMMIT_TIME_MAX); None: never since creation.
    changed: datetime | None = None
    hidden: bool = False  # outside the IPM subtree clients browse (NON_IPM_SUBTREE)


@dataclass
class Mailbox:
    smtp: str  # lower-case primary SMTP address
    display_name: str
    language: str = "en"
    folders: dict[str, str] = field(default_factory=dict)  # distinguished name -> folder id
    time_zone: str = "UTC"  # IANA zone of the owner's regional settings (OWA shows times in it)

    @property
    def alias(self) -> str:
        return self.smtp.split("@", 1)[0]


@dataclass
class ItemBase:
    id: str
    folder_id: str
    created: datetime
    modified: datetime
    version: int = 1
    # Extended (MAPI) properties a client set, by ``mapi.PropKey`` (see ``mapi``).
    extended: dict[Any, Any] = field(default_factory=dict)
    article: int = 0  # PR_INTERNET_ARTICLE_NUMBER: its number in the store, never reused
    url_name: str | None = None  # PR_URL_COMP_NAME a client gave it ("{GUID}.EML" if None)

    @property
    def change_key(self) -> str:
        return f"DwAAABYA{self.version:04d}"


@dataclass
class OccurrenceOverride:
    """A modified occurrence: only the fields that differ from the series."""

    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    busy_status: BusyStatus | None = None
    modified: datetime | None = None


@dataclass
class CalendarItem(ItemBase):
    subject: str = ""
    start: datetime = datetime.min
    end: datetime = datetime.min
    time_zone: str = "UTC"
    all_day: bool = False
    busy_status: BusyStatus = "Busy"
    location: str = ""
    body: str = ""
    uid: str = ""
    organizer: str = ""
    recurrence: Recurrence | None = None
    exceptions: dict[date, OccurrenceOverride] = field(default_factory=dict)
    deleted: set[date] = field(default_factory=set)
    # The definition the creating client stored; Exchange expands the series with it.
    time_zone_rules: ZoneRules | None = None
    # Meetings (simulators.exchange.meetings): an appointment with attendees. In an
    # attendee's calendar ``response`` is the owner's answer; a cancellation received
    # keeps the item, marked ``cancelled``.
    is_meeting: bool = False
    response: ResponseType = "Organizer"
    cancelled: bool = False

    @property
    def item_type(self) -> CalendarItemType:
        return "RecurringMaster" if self.recurrence else "Single"

    @property
    def zone(self) -> tzinfo:
        """The zone the series keeps its wall-clock time in: its stored definition,
        else its IANA zone."""
        return self.time_zone_rules or ZoneInfo(self.time_zone)


@dataclass
class Contact(ItemBase):
    display_name: str = ""
    given_name: str = ""
    surname: str = ""
    company: str = ""
    emails: list[str] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # EWS keys: BusinessPhone, ...

    @property
    def file_as(self) -> str:
        if self.surname and self.given_name:
            return f"{self.surname}, {self.given_name}"
        return self.display_name


@dataclass
class Message(ItemBase):
    """A mail: delivered into an inbox (the SMTP sink fills these), or saved by a
    client (a draft, a sent copy). ``mime`` is the message as RFC 822 bytes; the
    other fields are what Exchange promotes from its headers."""

    subject: str = ""
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    mime: bytes = b""
    is_read: bool = False
    is_draft: bool = False
    item_class: str = "IPM.Note"
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    message_id: str = ""
    sent: datetime | None = None  # the Date header; None: not sent
    received: datetime | None = None  # PR_MESSAGE_DELIVERY_TIME; None: when created


Item = CalendarItem | Contact | Message


@dataclass(slots=True)
class Occurrence:
    """One row of a calendar view: a single, an occurrence or an exception.

    ``id`` is the row's own ItemId (an occurrence id for series rows);
    ``master`` is the stored item it came from. Made per row of every view and
    never changed: plain slots, since a frozen dataclass's ``__init__`` (a
    ``object.__setattr__`` per field) cost six times as much (profiled).
    """

    id: str
    master: CalendarItem
    item_type: CalendarItemType
    subject: str
    start: datetime
    end: datetime
    location: str
    busy_status: BusyStatus
    modified: datetime
    original_start: datetime | None = None
    original_date: date | None = None

    @property
    def all_day(self) -> bool:
        return self.master.all_day

    @property
    def created(self) -> datetime:
        return self.master.created

    @property
    def is_recurring(self) -> bool:
        return self.item_type in ("Occurrence", "Exception")
