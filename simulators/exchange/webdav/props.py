"""Exchange WebDAV property values of folders and items, by property name.

A ``Row`` is one thing a PROPFIND or SEARCH reports: a folder, a stored item, or an
expanded occurrence of a series (instance rows of a date-range SEARCH). ``value(row,
name)`` gives the Python value of an Exchange property (``str``, ``int``, ``bool``,
aware ``datetime``, or a list for multi-valued ones) or None when the row has none;
``xmlio`` writes it with its ``b:dt`` datatype. Names are Exchange's: namespace plus
local name (``urn:schemas:calendar:dtstart``), or Clark ``{ns}local``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.exchange.mapi_props import message_text
from simulators.exchange.meetings import appointment_state, meeting_status, response_status
from simulators.exchange.model import CalendarItem, Contact, Folder, Item, Message, Occurrence
from simulators.exchange.webdav.ical import (
    appointment_rrule,
    deleted_starts,
    item_mime,
    series_vtimezone,
)
from simulators.exchange.webdav.mapi_names import key_of
from simulators.exchange.webdav.xmlio import (
    CALENDAR,
    CONTACTS,
    DAV,
    EXCHANGE,
    HTTPMAIL,
    MAPI,
    MAPI_ADDRESS,
    PROPTAG,
    REPL,
)

BUSY_STATUS = {"Free": "FREE", "Tentative": "TENTATIVE", "Busy": "BUSY", "OOF": "OUTOFOFFICE"}
INSTANCE_TYPE = {"Single": 0, "RecurringMaster": 1, "Occurrence": 2, "Exception": 3}
FOLDER_CONTENT_CLASS = {
    "calendar": "urn:content-classes:calendarfolder",
    "contacts": "urn:content-classes:contactfolder",
    "mail": "urn:content-classes:mailfolder",
    "public": "urn:content-classes:contactfolder",
}
MAILBOX_FOLDER_PROPS = {  # urn:schemas:httpmail:<name> on the mailbox root -> folder
    "calendar": "calendar",
    "contacts": "contacts",
    "inbox": "inbox",
    "sentitems": "sentitems",
    "deleteditems": "deleteditems",
    "drafts": "drafts",
    "msgfolderroot": "msgfolderroot",
    "outbox": "outbox",
    "tasks": "tasks",
    "journal": "journal",
    "notes": "notes",
}


@dataclass
class Row:
    """One reported folder or item. ``occurrence`` is set on expanded series rows."""

    href: str
    name: str
    folder: Folder  # the folder itself for folder rows, else the item's folder
    is_folder: bool = False
    item: Item | None = None
    occurrence: Occurrence | None = None
    article: int = 0
    folder_urls: dict[str, str] = field(default_factory=dict)  # mailbox root only
    store: Any = None  # the store, for the MAPI properties the tables do not name
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def target(self) -> Any:
        """The store object the row reports: occurrence, item or folder."""
        if self.occurrence is not None:
            return self.occurrence
        return self.item if self.item is not None else self.folder


Getter = Callable[[Row], Any]


def value(row: Row, name: str) -> Any:
    """The value of property ``name`` on ``row``, None when it has none."""
    if name.startswith("{"):
        ns, _, local = name[1:].rpartition("}")  # a namespace may hold "}"
        name = ns + local
    getter = _COMMON.get(name)
    if getter is None:
        if row.is_folder:
            getter = _FOLDER.get(name)
            if getter is None and name.startswith(HTTPMAIL):
                return row.folder_urls.get(name[len(HTTPMAIL) :])
        elif isinstance(row.item, CalendarItem):
            getter = _APPOINTMENT.get(name)
        elif isinstance(row.item, Contact):
            getter = _CONTACT.get(name)
        elif isinstance(row.item, Message):
            getter = _MESSAGE.get(name)
    if getter is not None:
        return getter(row)
    return _mapi(row, name)


def _mapi(row: Row, name: str) -> Any:
    """Any other property: the MAPI property the name stands for (``mapi_names``)."""
    if row.store is None:
        return None
    found = key_of(name)
    if found is None:
        return None
    key, type_name = found
    return row.store.get_property(row.target, key, type_name)


def known_names(row: Row) -> list[str]:
    """Every property name the row has a value for (PROPFIND allprop/propname)."""
    tables: list[dict[str, Getter]] = [_COMMON]
    if row.is_folder:
        tables.append(_FOLDER)
    elif isinstance(row.item, CalendarItem):
        tables.append(_APPOINTMENT)
    elif isinstance(row.item, Contact):
        tables.append(_CONTACT)
    elif isinstance(row.item, Message):
        tables.append(_MESSAGE)
    names = [n for table in tables for n in table if value(row, n) is not None]
    names.extend(HTTPMAIL + key for key in row.folder_urls)
    return names


# ----------------------------------------------------------------- common
def _mime(row: Row) -> bytes:
    cached = row._cache.get("mime")
    if cached is None:
        assert row.item is not None
        cached = row._cache["mime"] = item_mime(row.item)
    return cached  # type: ignore[no-any-return]


def _uid(row: Row) -> str:
    """DAV:uid: PR_RECORD_KEY of the item or folder, base64 (as Exchange writes it)."""
    key = row.item.id if row.item is not None else row.folder.id
    return base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()


def _etag(row: Row) -> str | None:
    if row.item is None:
        return None
    digest = hashlib.sha1(f"{row.item.id}:{row.item.version}".encode()).hexdigest()[:16]
    return f'"{digest}"'


def _content_class(row: Row) -> str:
    if row.is_folder:
        return FOLDER_CONTENT_CLASS.get(row.folder.kind, "urn:content-classes:folder")
    if isinstance(row.item, CalendarItem):
        return "urn:content-classes:appointment"
    if isinstance(row.item, Contact):
        return "urn:content-classes:person"
    return "urn:content-classes:message"


def _message_class(row: Row) -> str | None:
    if row.is_folder:
        return None
    if isinstance(row.item, CalendarItem):
        return "IPM.Appointment"
    if isinstance(row.item, Contact):
        return "IPM.Contact"
    return "IPM.Note"


def _created(row: Row) -> datetime | None:
    return row.item.created if row.item is not None else None


def _modified(row: Row) -> datetime | None:
    if row.occurrence is not None:
        return row.occurrence.modified
    return row.item.modified if row.item is not None else None


_COMMON: dict[str, Getter] = {
    DAV + "href": lambda r: r.href,
    DAV + "displayname": lambda r: r.name,
    DAV + "isfolder": lambda r: r.is_folder,
    DAV + "iscollection": lambda r: r.is_folder,
    DAV + "ishidden": lambda r: False,
    DAV + "isreadonly": lambda r: False,
    DAV + "contentclass": _content_class,
    DAV + "getlastmodified": _modified,
    DAV + "creationdate": _created,
    DAV + "getetag": _etag,
    DAV + "getcontenttype": lambda r: None if r.is_folder else "message/rfc822",
    DAV + "getcontentlength": lambda r: None if r.is_folder else len(_mime(r)),
    EXCHANGE + "outlookmessageclass": _message_class,
    EXCHANGE + "permanenturl": lambda r: r.href,
    EXCHANGE + "sensitivity": lambda r: None if r.is_folder else 0,
    PROPTAG + "x00360003": lambda r: None if r.is_folder else 0,  # PR_SENSITIVITY
    PROPTAG + "x10f3001f": lambda r: None if r.is_folder else r.name,  # PR_URL_COMP_NAME
    PROPTAG + "x0e230003": lambda r: None if r.is_folder else r.article,
    PROPTAG + "x0e080003": lambda r: None if r.is_folder else len(_mime(r)),  # size
    HTTPMAIL + "read": lambda r: (
        None if r.is_folder else (r.item.is_read if isinstance(r.item, Message) else True)
    ),
    DAV + "uid": lambda r: _uid(r),
    HTTPMAIL + "hasattachment": lambda r: None if r.is_folder else False,
}


# ----------------------------------------------------------------- folders
_FOLDER: dict[str, Getter] = {
    DAV + "hassubs": lambda r: bool(r.folder.child_ids),
    DAV + "nosubs": lambda r: not r.folder.child_ids,
    DAV + "objectcount": lambda r: len(r.folder.item_ids),
    DAV + "visiblecount": lambda r: len(r.folder.item_ids),
    DAV + "childcount": lambda r: len(r.folder.child_ids),
    EXCHANGE + "outlookfolderclass": lambda r: r.folder.folder_class,
    HTTPMAIL + "unreadcount": lambda r: 0,
    REPL + "contenttag": lambda r: r._cache.get("contenttag"),
}


# ----------------------------------------------------------------- appointments
def _appt(row: Row) -> CalendarItem:
    assert isinstance(row.item, CalendarItem)
    return row.item


def _instance_type(row: Row) -> int:
    if row.occurrence is not None:
        return INSTANCE_TYPE[row.occurrence.item_type]
    return 1 if _appt(row).recurrence is not None else 0


def _subject(row: Row) -> str:
    return row.occurrence.subject if row.occurrence else _appt(row).subject


def _start(row: Row) -> datetime:
    return row.occurrence.start if row.occurrence else _appt(row).start


def _end(row: Row) -> datetime:
    return row.occurrence.end if row.occurrence else _appt(row).end


def _busy(row: Row) -> str:
    status = row.occurrence.busy_status if row.occurrence else _appt(row).busy_status
    return BUSY_STATUS.get(status, "BUSY")


def _location(row: Row) -> str:
    return row.occurrence.location if row.occurrence else _appt(row).location


def _exdates(row: Row) -> list[datetime] | None:
    item = _appt(row)
    if row.occurrence is not None or item.recurrence is None or not item.deleted:
        return None
    return deleted_starts(item)


_APPOINTMENT: dict[str, Getter] = {
    HTTPMAIL + "subject": _subject,
    HTTPMAIL + "normalizedsubject": _subject,
    HTTPMAIL + "textdescription": lambda r: _appt(r).body,
    CALENDAR + "dtstart": _start,
    CALENDAR + "dtend": _end,
    CALENDAR + "instancetype": _instance_type,
    CALENDAR + "busystatus": _busy,
    CALENDAR + "alldayevent": lambda r: _appt(r).all_day,
    CALENDAR + "location": _location,
    CALENDAR + "uid": lambda r: _appt(r).uid,
    CALENDAR + "created": lambda r: _appt(r).created,
    CALENDAR + "lastmodified": _modified,
    CALENDAR + "dtstamp": _modified,
    CALENDAR + "organizer": lambda r: _appt(r).organizer or None,
    CALENDAR + "isorganizer": lambda r: _appt(r).response == "Organizer",
    CALENDAR + "meetingstatus": lambda r: meeting_status(_appt(r)),
    CALENDAR + "duration": lambda r: int((_end(r) - _start(r)).total_seconds()),
    CALENDAR + "transparent": lambda r: "TRANSPARENT" if _busy(r) == "FREE" else "OPAQUE",
    CALENDAR + "timezoneid": lambda r: None,
    # The series' zone as a VTIMEZONE: its stored definition, else its IANA zone's rules.
    CALENDAR + "timezone": lambda r: "\r\n".join(series_vtimezone(_appt(r))),
    CALENDAR + "recurrenceid": lambda r: r.occurrence.original_start if r.occurrence else None,
    CALENDAR + "rrule": lambda r: (
        [appointment_rrule(_appt(r))] if r.occurrence is None and _appt(r).recurrence else None
    ),
    CALENDAR + "exdate": _exdates,
    MAPI + "apptstateflags": lambda r: appointment_state(_appt(r)),
    MAPI + "responsestatus": lambda r: response_status(_appt(r)),
}


# ----------------------------------------------------------------- contacts
def _contact(row: Row) -> Contact:
    assert isinstance(row.item, Contact)
    return row.item


def _email(index: int) -> Getter:
    def get(row: Row) -> str | None:
        emails = _contact(row).emails
        return emails[index] if len(emails) > index else None

    return get


def _phone(key: str) -> Getter:
    return lambda r: _contact(r).phones.get(key) or None


_CONTACT: dict[str, Getter] = {
    HTTPMAIL + "subject": lambda r: _contact(r).display_name,
    CONTACTS + "cn": lambda r: _contact(r).display_name or None,
    CONTACTS + "givenName": lambda r: _contact(r).given_name or None,
    CONTACTS + "sn": lambda r: _contact(r).surname or None,
    CONTACTS + "o": lambda r: _contact(r).company or None,
    CONTACTS + "fileas": lambda r: _contact(r).file_as or None,
    CONTACTS + "email1": _email(0),
    CONTACTS + "email2": _email(1),
    CONTACTS + "email3": _email(2),
    CONTACTS + "telephoneNumber": _phone("BusinessPhone"),
    CONTACTS + "mobile": _phone("MobilePhone"),
    CONTACTS + "homePhone": _phone("HomePhone"),
    CONTACTS + "facsimiletelephonenumber": _phone("BusinessFax"),
    CONTACTS + "pager": _phone("Pager"),
    # DavMail names the e-mail properties by MAPI id in the Address set (0x8083 ...).
    **{
        MAPI_ADDRESS + key: _email(index)
        for index, tags in enumerate(((0x8083, 0x8084), (0x8093, 0x8094), (0x80A3, 0x80A4)))
        for tag in tags
        for key in (f"0x{tag:04x}", str(tag))
    },
}


# ----------------------------------------------------------------- messages
def _message(row: Row) -> Message:
    assert isinstance(row.item, Message)
    return row.item


_MESSAGE: dict[str, Getter] = {
    HTTPMAIL + "subject": lambda r: _message(r).subject,
    HTTPMAIL + "from": lambda r: _message(r).sender or None,
    HTTPMAIL + "to": lambda r: ", ".join(_message(r).recipients) or None,
    HTTPMAIL + "date": lambda r: _message(r).sent or _message(r).created,
    HTTPMAIL + "textdescription": lambda r: message_text(_message(r).mime),
    HTTPMAIL + "datereceived": lambda r: _message(r).created,
}


__all__ = ["BUSY_STATUS", "INSTANCE_TYPE", "MAILBOX_FOLDER_PROPS", "Row", "known_names", "value"]
