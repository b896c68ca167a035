"""Fill an ``ExchangeStore`` from seed data.

The seed is already validated and normalised (aware datetimes, ``Recurrence``
objects): the scenario loader turns the YAML format of the scenario contract
into these records, and tests build them directly. ``apply_seed`` is the one
way a store is filled, so a served simulator and a scenario see the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from simulators.exchange import meetings
from simulators.exchange.lockout import LockoutPolicy
from simulators.exchange.model import Account, BusyStatus, CalendarItem, ResponseType
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.store import ExchangeStore
from simulators.exchange.tzrules import ZoneRules

DEFAULT_SERVICE_ACCOUNT = "OSOMX@domain.net"
DEFAULT_SERVICE_PASSWORD = "secret"


@dataclass
class ServiceAccount:
    """The PBX's service account (``exchange.service_account`` in a scenario)."""

    user: str = DEFAULT_SERVICE_ACCOUNT
    password: str = DEFAULT_SERVICE_PASSWORD
    impersonation: bool = True
    full_access: bool = True
    # Finer grain for reproducing customer cases: the two AD rights of 2007.
    impersonation_on_server: bool | None = None
    denied_mailboxes: tuple[str, ...] = ()  # may-impersonate/FullAccess withheld for these


@dataclass
class SeedMailbox:
    smtp: str
    display_name: str = ""
    language: str = "en"
    password: str | None = None
    time_zone: str | None = None  # the owner's own zone; None: the seed's ``time_zone``


@dataclass
class SeedOccurrenceChange:
    original_date: date
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    busy_status: BusyStatus | None = None
    modified: datetime | None = None  # Exchange's stamp of the change; None: when seeded


@dataclass
class SeedAppointment:
    mailbox: str
    subject: str
    start: datetime
    end: datetime
    handle: str | None = None
    created: datetime | None = None
    all_day: bool = False
    busy_status: BusyStatus = "Busy"
    location: str = ""
    time_zone: str = "UTC"
    recurrence: Recurrence | None = None
    exceptions: list[SeedOccurrenceChange] = field(default_factory=list)
    deleted: list[date] = field(default_factory=list)
    # The series' own stored definition (Exchange expands with it); None: the IANA zone.
    time_zone_rules: ZoneRules | None = None
    modified: datetime | None = None  # Exchange's last-modified stamp; None: ``created``
    meeting: SeedMeeting | None = None  # an attendee's copy of a meeting


@dataclass
class SeedMeeting:
    """A meeting request the mailbox owner received (``simulators.exchange.meetings``):
    ``response`` as EWS spells it; ``cancelled`` means the organizer's cancellation
    was applied (subject prefixed, free, kept in the calendar)."""

    organizer: str
    response: ResponseType = "Accept"
    cancelled: bool = False


@dataclass
class SeedContact:
    display_name: str
    given_name: str = ""
    surname: str = ""
    company: str = ""
    emails: list[str] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # BusinessPhone, MobilePhone, HomePhone


@dataclass
class SeedFolder:
    name: str
    contacts: list[SeedContact] = field(default_factory=list)
    folders: list[SeedFolder] = field(default_factory=list)


@dataclass
class Seed:
    service_account: ServiceAccount = field(default_factory=ServiceAccount)
    mailboxes: list[SeedMailbox] = field(default_factory=list)
    appointments: list[SeedAppointment] = field(default_factory=list)
    public_folders: list[SeedFolder] = field(default_factory=list)
    webdav_auth: str = "basic"  # basic | forms
    time_zone: str = "UTC"  # the mailboxes' time zone (OWA shows times in it)
    allow_relay: bool = False  # the SMTP connector relays mail to other domains
    account_lockout: LockoutPolicy | None = None  # AD's lock-out policy; None: never


def apply_seed(store: ExchangeStore, seed: Seed) -> dict[str, CalendarItem]:
    """Clear the store and fill it; returns appointments by their handle."""
    store.clear()
    store.set_lockout_policy(seed.account_lockout)
    svc = seed.service_account
    denied = {m.lower() for m in svc.denied_mailboxes}
    account = Account(
        upn=svc.user,
        password=svc.password,
        impersonation_on_server=(
            svc.impersonation
            if svc.impersonation_on_server is None
            else svc.impersonation_on_server
        ),
        may_impersonate=svc.impersonation,
    )
    store.add_account(account)
    for box in seed.mailboxes:
        store.add_mailbox(
            box.smtp,
            box.display_name,
            box.language,
            box.password,
            time_zone=box.time_zone or seed.time_zone,
        )
    if svc.full_access:
        # As `Get-Mailbox | Add-MailboxPermission` grants it: on each mailbox there is now,
        # not on mailboxes created later (simulators.exchange.rights).
        account.full_access = {m for m in store.mailboxes if m not in denied}
    account.impersonation_withheld = denied
    handles: dict[str, CalendarItem] = {}
    for appt in seed.appointments:
        item = add_appointment(store, appt)
        if appt.handle:
            handles[appt.handle] = item
    _add_folders(store, seed.public_folders, None)
    return handles


def add_appointment(store: ExchangeStore, appt: SeedAppointment) -> CalendarItem:
    """Put one appointment (with its changed and deleted occurrences) into its
    mailbox's calendar; ``created`` None means now on the store's clock."""
    calendar = store.distinguished_folder("calendar", appt.mailbox)
    meeting: dict[str, object] = {}
    if appt.meeting is not None:
        meeting = {
            "is_meeting": True,
            "response": appt.meeting.response,
            "organizer": appt.meeting.organizer,
        }
    item = store.create_calendar_item(
        calendar,
        **meeting,  # type: ignore[arg-type]
        subject=appt.subject,
        start=appt.start,
        end=appt.end,
        created=appt.created,
        all_day=appt.all_day,
        busy_status=appt.busy_status,
        location=appt.location,
        time_zone=appt.time_zone,
        time_zone_rules=appt.time_zone_rules,
        recurrence=appt.recurrence,
    )
    for change in appt.exceptions:
        fields = {
            k: v
            for k, v in (
                ("subject", change.subject),
                ("start", change.start),
                ("end", change.end),
                ("location", change.location),
                ("busy_status", change.busy_status),
            )
            if v is not None
        }
        store.modify_occurrence(item, change.original_date, **fields)
        if change.modified is not None:
            item.exceptions[change.original_date].modified = change.modified
    for day in appt.deleted:
        store.delete_occurrence(item, day)
    if appt.meeting is not None and appt.meeting.cancelled:
        meetings.cancel(store, item.id)
    if appt.modified is not None:
        item.modified = appt.modified  # a captured stamp, after the seeding's own
    return item


def _add_folders(store: ExchangeStore, folders: list[SeedFolder], parent_id: str | None) -> None:
    for spec in folders:
        folder = store.add_public_folder(spec.name, parent_id)
        for contact in spec.contacts:
            store.create_contact(
                folder,
                display_name=contact.display_name,
                given_name=contact.given_name,
                surname=contact.surname,
                company=contact.company,
                emails=list(contact.emails),
                phones=dict(contact.phones),
            )
        _add_folders(store, spec.folders, folder.id)
