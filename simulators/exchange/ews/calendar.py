"""Calendar items in EWS 2007 shape: writing singles, occurrences, exceptions and
recurring masters, and reading the CalendarItem elements of CreateItem/UpdateItem.

Child order follows t:CalendarItemType of the 2007 SP1 schema. Quirks kept on
purpose: a RecurringMaster reports IsRecurring=false to its organizer (2007 does),
and t:MeetingTimeZone is left out unless the front end is told to send it (see
``EwsOptions.meeting_time_zone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.itemxml import ITEM_DEFAULT, Kind, Out, Writer, item_writers
from simulators.exchange.ews.recurrences import read_recurrence, write_recurrence
from simulators.exchange.ews.timezones import iana_for, windows_name, write_time_zone
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    fmt_bool,
    fmt_datetime,
    fmt_duration,
    local,
    t,
    text,
    text_bool,
    text_datetime,
    text_enum,
    words,
)
from simulators.exchange.model import CalendarItem, Occurrence

SubElement = etree.SubElement
FREE_BUSY = ("Free", "Tentative", "Busy", "OOF", "NoData")

# t:ItemType then t:CalendarItemType, 2007 SP1 order: what a CalendarItem may contain.
ITEM_ELEMENTS = words(
    "MimeContent ItemId ParentFolderId ItemClass Subject Sensitivity Body Attachments "
    "DateTimeReceived Size Categories Importance InReplyTo IsSubmitted IsDraft IsFromMe IsResend "
    "IsUnmodified InternetMessageHeaders DateTimeSent DateTimeCreated ResponseObjects "
    "ReminderDueBy ReminderIsSet ReminderMinutesBeforeStart DisplayCc DisplayTo HasAttachments "
    "ExtendedProperty Culture EffectiveRights LastModifiedName LastModifiedTime"
)
CALENDAR_ELEMENTS = words(
    "UID RecurrenceId DateTimeStamp Start End OriginalStart IsAllDayEvent LegacyFreeBusyStatus "
    "Location When IsMeeting IsCancelled IsRecurring MeetingRequestWasSent IsResponseRequested "
    "CalendarItemType MyResponseType Organizer RequiredAttendees OptionalAttendees Resources "
    "ConflictingMeetingCount AdjacentMeetingCount ConflictingMeetings AdjacentMeetings Duration "
    "TimeZone AppointmentReplyTime AppointmentSequenceNumber AppointmentState Recurrence "
    "FirstOccurrence LastOccurrence ModifiedOccurrences DeletedOccurrences MeetingTimeZone "
    "ConferenceType AllowNewTimeProposal IsOnlineMeeting MeetingWorkspaceUrl NetShowUrl"
)
# Newer clients (exchangelib) fill in elements 2007 lacks: skip those, check the order
# of the rest.
CALENDAR_ITEM = Sequence_(
    *((f"t:{name}", 0, -1 if name == "ExtendedProperty" else 1) for name in ITEM_ELEMENTS),
    *((f"t:{name}", 0, 1) for name in CALENDAR_ELEMENTS),
    lenient=True,
)


@dataclass(frozen=True)
class CalView:
    """One calendar row to write: a single, master, occurrence or exception."""

    id: str
    change_key: str
    master: CalendarItem
    item_type: str
    subject: str
    start: datetime
    end: datetime
    location: str
    busy_status: str
    modified: datetime
    original_start: datetime | None

    @property
    def folder_id(self) -> str:
        return self.master.folder_id

    @property
    def body(self) -> str:
        return self.master.body

    @property
    def created(self) -> datetime:
        return self.master.created

    @property
    def owner(self) -> str | None:
        return self.master.organizer or None


def view_of(obj: CalendarItem | Occurrence) -> CalView:
    if isinstance(obj, Occurrence):
        return CalView(
            obj.id,
            obj.master.change_key,
            obj.master,
            obj.item_type,
            obj.subject,
            obj.start,
            obj.end,
            obj.location,
            obj.busy_status,
            obj.modified,
            obj.original_start,
        )
    return CalView(
        obj.id,
        obj.change_key,
        obj,
        obj.item_type,
        obj.subject,
        obj.start,
        obj.end,
        obj.location,
        obj.busy_status,
        obj.modified,
        None,
    )


# ------------------------------------------------------------ writers
def _simple(name: str, value: Any) -> Writer:
    tag = t(name)

    def write(parent: Element, v: CalView, out: Out) -> None:
        SubElement(parent, tag).text = value(v) if callable(value) else value

    return write


def _if_instance(name: str) -> Writer:
    """RecurrenceId / OriginalStart: only occurrences and exceptions have one."""
    tag = t(name)

    def write(parent: Element, v: CalView, out: Out) -> None:
        if v.original_start is not None:
            SubElement(parent, tag).text = fmt_datetime(v.original_start)

    return write


def _organizer(parent: Element, v: CalView, out: Out) -> None:
    if not v.master.organizer:
        return
    box = SubElement(SubElement(parent, t("Organizer")), t("Mailbox"))
    SubElement(box, t("Name")).text = out.owner_name(v.master.organizer) or v.master.organizer
    SubElement(box, t("EmailAddress")).text = v.master.organizer
    SubElement(box, t("RoutingType")).text = "SMTP"


def _recurrence(parent: Element, v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster" and v.master.recurrence is not None:
        write_recurrence(parent, v.master.recurrence)


def _occurrence_info(parent: Element, tag: str, row: Occurrence) -> None:
    node = SubElement(parent, t(tag))
    SubElement(node, t("ItemId"), Id=row.id, ChangeKey=row.master.change_key)
    SubElement(node, t("Start")).text = fmt_datetime(row.start)
    SubElement(node, t("End")).text = fmt_datetime(row.end)
    SubElement(node, t("OriginalStart")).text = fmt_datetime(row.original_start or row.start)


def _first(parent: Element, v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster":
        first, _ = out.store.first_and_last(v.master)
        if first is not None:
            _occurrence_info(parent, "FirstOccurrence", first)


def _last(parent: Element, v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster":
        _, last = out.store.first_and_last(v.master)
        if last is not None:
            _occurrence_info(parent, "LastOccurrence", last)


def _modified(parent: Element, v: CalView, out: Out) -> None:
    if v.item_type != "RecurringMaster" or not v.master.exceptions:
        return
    rows = out.store.modified_occurrences(v.master)
    node = SubElement(parent, t("ModifiedOccurrences"))
    for row in rows:
        _occurrence_info(node, "Occurrence", row)


def _deleted(parent: Element, v: CalView, out: Out) -> None:
    if v.item_type != "RecurringMaster" or not v.master.deleted:
        return
    node = SubElement(parent, t("DeletedOccurrences"))
    for start in out.store.deleted_occurrence_starts(v.master):
        SubElement(SubElement(node, t("DeletedOccurrence")), t("Start")).text = fmt_datetime(start)


def _meeting_time_zone(parent: Element, v: CalView, out: Out) -> None:
    write_time_zone(parent, "MeetingTimeZone", v.master.time_zone, v.start.year)


CALENDAR = Kind(
    tag=t("CalendarItem"),
    writers=tuple(
        item_writers("IPM.Appointment")
        + [
            ("calendar:UID", _simple("UID", lambda v: v.master.uid)),
            ("calendar:RecurrenceId", _if_instance("RecurrenceId")),
            ("calendar:DateTimeStamp", _simple("DateTimeStamp", lambda v: fmt_datetime(v.created))),
            ("calendar:Start", _simple("Start", lambda v: fmt_datetime(v.start))),
            ("calendar:End", _simple("End", lambda v: fmt_datetime(v.end))),
            ("calendar:OriginalStart", _if_instance("OriginalStart")),
            (
                "calendar:IsAllDayEvent",
                _simple("IsAllDayEvent", lambda v: fmt_bool(v.master.all_day)),
            ),
            (
                "calendar:LegacyFreeBusyStatus",
                _simple("LegacyFreeBusyStatus", lambda v: v.busy_status),
            ),
            ("calendar:Location", _simple("Location", lambda v: v.location)),
            ("calendar:IsMeeting", _simple("IsMeeting", "false")),
            ("calendar:IsCancelled", _simple("IsCancelled", "false")),
            (
                "calendar:IsRecurring",
                _simple("IsRecurring", lambda v: fmt_bool(v.original_start is not None)),
            ),
            ("calendar:MeetingRequestWasSent", _simple("MeetingRequestWasSent", "false")),
            ("calendar:IsResponseRequested", _simple("IsResponseRequested", "false")),
            ("calendar:CalendarItemType", _simple("CalendarItemType", lambda v: v.item_type)),
            ("calendar:MyResponseType", _simple("MyResponseType", "Organizer")),
            ("calendar:Organizer", _organizer),
            ("calendar:Duration", _simple("Duration", lambda v: fmt_duration(v.end - v.start))),
            (
                "calendar:TimeZone",
                _simple("TimeZone", lambda v: windows_name(v.master.time_zone)[1]),
            ),
            ("calendar:AppointmentSequenceNumber", _simple("AppointmentSequenceNumber", "0")),
            ("calendar:AppointmentState", _simple("AppointmentState", "0")),
            ("calendar:Recurrence", _recurrence),
            ("calendar:FirstOccurrence", _first),
            ("calendar:LastOccurrence", _last),
            ("calendar:ModifiedOccurrences", _modified),
            ("calendar:DeletedOccurrences", _deleted),
            ("calendar:MeetingTimeZone", _meeting_time_zone),
            ("calendar:ConferenceType", _simple("ConferenceType", "0")),
            ("calendar:AllowNewTimeProposal", _simple("AllowNewTimeProposal", "true")),
            ("calendar:IsOnlineMeeting", _simple("IsOnlineMeeting", "false")),
        ]
    ),
    default=ITEM_DEFAULT
    | {
        "calendar:Start",
        "calendar:End",
        "calendar:IsAllDayEvent",
        "calendar:LegacyFreeBusyStatus",
        "calendar:Location",
        "calendar:CalendarItemType",
        "calendar:Organizer",
    },
    not_in_find=frozenset(
        {
            "item:Body",
            "calendar:Recurrence",
            "calendar:FirstOccurrence",
            "calendar:LastOccurrence",
            "calendar:ModifiedOccurrences",
            "calendar:DeletedOccurrences",
        }
    ),
    guarded=frozenset({"calendar:MeetingTimeZone"}),
)


# ------------------------------------------------------------ reading
def _time_zone(element: Element) -> str:
    """MeetingTimeZone: TimeZoneName (2007) or Id/Name (what 2010 clients send)."""
    for name in ("TimeZoneName", "Id", "Name"):
        zone = iana_for(element.get(name))
        if zone:
            return zone
    return "UTC"


# element name -> (store field, reader). Fields the store keeps.
READERS: dict[str, tuple[str, Any]] = {
    "Subject": ("subject", text),
    "Body": ("body", text),
    "UID": ("uid", text),
    "Start": ("start", text_datetime),
    "End": ("end", text_datetime),
    "IsAllDayEvent": ("all_day", text_bool),
    "LegacyFreeBusyStatus": (
        "busy_status",
        lambda el: text_enum(el, FREE_BUSY, "LegacyFreeBusyType"),
    ),
    "Location": ("location", text),
    "Recurrence": ("recurrence", read_recurrence),
    "MeetingTimeZone": ("time_zone", _time_zone),
}
# Writable in 2007 but not kept by the store: accepted and dropped.
ACCEPTED = frozenset(
    words(
        "Sensitivity Importance Categories ReminderIsSet ReminderMinutesBeforeStart Culture When "
        "RequiredAttendees OptionalAttendees Resources AllowNewTimeProposal ConferenceType "
        "MeetingWorkspaceUrl NetShowUrl IsResponseRequested ItemClass ExtendedProperty "
        "ReminderDueBy InReplyTo"
    )
)
# What DeleteItemField leaves behind.
CLEARED: dict[str, Any] = {"subject": "", "body": "", "location": "", "recurrence": None}


def read_calendar_item(element: Element) -> dict[str, Any]:
    """The store fields of a CalendarItem element (CreateItem)."""
    CALENDAR_ITEM.read(element)
    fields: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        reader = READERS.get(local(child.tag))
        if reader is not None:
            fields[reader[0]] = reader[1](child)
    if "start" not in fields or "end" not in fields:
        missing = "Start" if "start" not in fields else "End"
        raise ResponseError(
            "ErrorRequiredPropertyMissing", f"Required property is missing: calendar:{missing}"
        )
    return fields


def read_update_value(name: str, child: Element) -> tuple[str, Any] | None:
    """(store field, value) for SetItemField on element ``name``; None if dropped."""
    reader = READERS.get(name)
    if reader is not None:
        return reader[0], reader[1](child)
    if name in ACCEPTED:
        return None
    raise ResponseError("ErrorInvalidPropertySet")


def cleared_value(name: str) -> tuple[str, Any] | None:
    """(store field, empty value) for DeleteItemField on element ``name``."""
    reader = READERS.get(name)
    if reader is not None and reader[0] in CLEARED:
        return reader[0], CLEARED[reader[0]]
    if name in ACCEPTED:
        return None
    raise ResponseError("ErrorInvalidPropertyDelete")
