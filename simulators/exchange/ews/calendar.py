"""Calendar items in EWS 2007 shape: writing singles, occurrences, exceptions and
recurring masters, and reading the CalendarItem elements of CreateItem/UpdateItem.

Child order follows t:CalendarItemType of the 2007 SP1 schema. Quirks kept on
purpose: a RecurringMaster reports IsRecurring=false to its organizer (2007 does),
and t:MeetingTimeZone is left out unless the front end is told to send it (see
``EwsOptions.meeting_time_zone``). A series with its own stored definition (its
client's bias and rules, ``ZoneRules``) reports that definition and its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulators.exchange.ews.errors import ResponseError
from simulators.exchange.ews.itemxml import (
    ITEM_DEFAULT,
    Kind,
    Out,
    Writer,
    const_writer,
    esc,
    item_writers,
    mailbox_text,
    stamp_writer,
    text_writer,
)
from simulators.exchange.ews.meetingzone import definition_text, read_definition
from simulators.exchange.ews.recurrences import read_recurrence, recurrence_text
from simulators.exchange.ews.timezones import iana_for, time_zone_text, windows_name
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    fmt_bool,
    fmt_datetime,
    fmt_duration,
    local,
    qname,
    text,
    text_bool,
    text_datetime,
    text_enum,
    words,
)
from simulators.exchange.meetings import appointment_state
from simulators.exchange.model import CalendarItem, Occurrence
from simulators.exchange.recurrence import localize
from simulators.exchange.webdav.ical import calendar_text

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


@dataclass(slots=True)
class CalView:
    """One calendar row to write: a single, master, occurrence or exception. Made
    per row written and never changed; slots, not frozen: a frozen dataclass's
    ``__init__`` cost six times as much (profiled)."""

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
    row: Occurrence | None = None  # the expanded row, for occurrences and exceptions

    @property
    def folder_id(self) -> str:
        return self.master.folder_id

    @property
    def model(self) -> CalendarItem | Occurrence:
        """What the store's properties are read from."""
        return self.row if self.row is not None else self.master

    def mime_content(self, store: Any) -> bytes:
        """EWS MimeContent of a calendar item: its iCalendar (as Exchange 2007 gives it)."""
        return calendar_text(self.master).encode("utf-8")

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
            obj if obj.item_type != "Single" else None,
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
def _if_instance(name: str) -> Writer:
    """RecurrenceId / OriginalStart: only occurrences and exceptions have one."""
    opening, closing = f"<t:{name}>", f"</t:{name}>"

    def write(parts: list[str], v: CalView, out: Out) -> None:
        if v.original_start is not None:
            parts.append(opening + fmt_datetime(v.original_start) + closing)

    return write


def _organizer(parts: list[str], v: CalView, out: Out) -> None:
    organizer = v.master.organizer
    if organizer:
        name = out.owner_name(organizer) or organizer
        parts.append(f"<t:Organizer>{mailbox_text(name, organizer)}</t:Organizer>")


def _recurrence(parts: list[str], v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster" and v.master.recurrence is not None:
        parts.append(recurrence_text(v.master.recurrence))


def _occurrence_info(tag: str, row: Occurrence) -> str:
    return (
        f'<t:{tag}><t:ItemId Id="{esc(row.id)}" ChangeKey="{esc(row.master.change_key)}"/>'
        f"<t:Start>{fmt_datetime(row.start)}</t:Start><t:End>{fmt_datetime(row.end)}</t:End>"
        f"<t:OriginalStart>{fmt_datetime(row.original_start or row.start)}</t:OriginalStart>"
        f"</t:{tag}>"
    )


def _first(parts: list[str], v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster":
        first, _ = out.store.first_and_last(v.master)
        if first is not None:
            parts.append(_occurrence_info("FirstOccurrence", first))


def _last(parts: list[str], v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster":
        _, last = out.store.first_and_last(v.master)
        if last is not None:
            parts.append(_occurrence_info("LastOccurrence", last))


def _modified(parts: list[str], v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster" and v.master.exceptions:
        rows = out.store.modified_occurrences(v.master)
        inner = "".join(_occurrence_info("Occurrence", row) for row in rows)
        parts.append(f"<t:ModifiedOccurrences>{inner}</t:ModifiedOccurrences>")


def _deleted(parts: list[str], v: CalView, out: Out) -> None:
    if v.item_type == "RecurringMaster" and v.master.deleted:
        inner = "".join(
            f"<t:DeletedOccurrence><t:Start>{fmt_datetime(start)}</t:Start></t:DeletedOccurrence>"
            for start in out.store.deleted_occurrence_starts(v.master)
        )
        parts.append(f"<t:DeletedOccurrences>{inner}</t:DeletedOccurrences>")


def _meeting_time_zone(parts: list[str], v: CalView, out: Out) -> None:
    # The series' stored definition as its client wrote it, else the IANA zone's rules.
    rules = v.master.time_zone_rules
    if rules is not None:
        parts.append(definition_text("MeetingTimeZone", rules))
    else:
        parts.append(time_zone_text("MeetingTimeZone", v.master.time_zone, v.start.year))


def _zone_name(v: CalView) -> str:
    rules = v.master.time_zone_rules
    return rules.name if rules is not None else windows_name(v.master.time_zone)[1]


CALENDAR = Kind(
    name="CalendarItem",
    writers=tuple(
        item_writers("IPM.Appointment")
        + [
            ("calendar:UID", text_writer("UID", lambda v: v.master.uid)),
            ("calendar:RecurrenceId", _if_instance("RecurrenceId")),
            ("calendar:DateTimeStamp", stamp_writer("DateTimeStamp", lambda v: v.created)),
            ("calendar:Start", stamp_writer("Start", lambda v: v.start)),
            ("calendar:End", stamp_writer("End", lambda v: v.end)),
            ("calendar:OriginalStart", _if_instance("OriginalStart")),
            (
                "calendar:IsAllDayEvent",
                text_writer("IsAllDayEvent", lambda v: fmt_bool(v.master.all_day)),
            ),
            (
                "calendar:LegacyFreeBusyStatus",
                text_writer("LegacyFreeBusyStatus", lambda v: v.busy_status),
            ),
            ("calendar:Location", text_writer("Location", lambda v: v.location)),
            (
                "calendar:IsMeeting",
                text_writer("IsMeeting", lambda v: fmt_bool(v.master.is_meeting)),
            ),
            (
                "calendar:IsCancelled",
                text_writer("IsCancelled", lambda v: fmt_bool(v.master.cancelled)),
            ),
            (
                "calendar:IsRecurring",
                text_writer("IsRecurring", lambda v: fmt_bool(v.original_start is not None)),
            ),
            ("calendar:MeetingRequestWasSent", const_writer("MeetingRequestWasSent", "false")),
            ("calendar:IsResponseRequested", const_writer("IsResponseRequested", "false")),
            ("calendar:CalendarItemType", text_writer("CalendarItemType", lambda v: v.item_type)),
            ("calendar:MyResponseType", text_writer("MyResponseType", lambda v: v.master.response)),
            ("calendar:Organizer", _organizer),
            ("calendar:Duration", text_writer("Duration", lambda v: fmt_duration(v.end - v.start))),
            (
                "calendar:TimeZone",
                text_writer("TimeZone", _zone_name),
            ),
            ("calendar:AppointmentSequenceNumber", const_writer("AppointmentSequenceNumber", "0")),
            (
                "calendar:AppointmentState",
                text_writer("AppointmentState", lambda v: str(appointment_state(v.master))),
            ),
            ("calendar:Recurrence", _recurrence),
            ("calendar:FirstOccurrence", _first),
            ("calendar:LastOccurrence", _last),
            ("calendar:ModifiedOccurrences", _modified),
            ("calendar:DeletedOccurrences", _deleted),
            ("calendar:MeetingTimeZone", _meeting_time_zone),
            ("calendar:ConferenceType", const_writer("ConferenceType", "0")),
            ("calendar:AllowNewTimeProposal", const_writer("AllowNewTimeProposal", "true")),
            ("calendar:IsOnlineMeeting", const_writer("IsOnlineMeeting", "false")),
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


def read_calendar_item(element: Element, require_times: bool = True) -> dict[str, Any]:
    """The store fields of a CalendarItem element (CreateItem)."""
    CALENDAR_ITEM.read(element)
    fields: dict[str, Any] = {}
    elements: dict[str, Element] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        reader = READERS.get(local(child.tag))
        if reader is not None:
            fields[reader[0]] = reader[1](child)
            elements[reader[0]] = child
    in_meeting_zone(fields, elements)
    if require_times and ("start" not in fields or "end" not in fields):
        missing = "Start" if "start" not in fields else "End"
        raise ResponseError(
            "ErrorRequiredPropertyMissing", f"Required property is missing: calendar:{missing}"
        )
    zone_el = element.find(qname("t:MeetingTimeZone"))
    if zone_el is not None:
        # A 2007 client spells its zone out (bias and rules): that definition is kept.
        rules = read_definition(zone_el, fields.get("time_zone", "UTC"))
        if rules is not None:
            fields["time_zone_rules"] = rules
    return fields


_OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def in_meeting_zone(fields: dict[str, Any], elements: dict[str, Element]) -> None:
    """Exchange 2007 reads a Start/End without a UTC offset in the MeetingTimeZone the
    same request sets (what DavMail relies on: it sends local times with the zone);
    without one, such a time is UTC."""
    zone = fields.get("time_zone")
    if not zone:
        return
    for name in ("start", "end"):
        element = elements.get(name)
        if element is None or _OFFSET.search(text(element).strip()):
            continue
        naive = fields[name].replace(tzinfo=None)
        fields[name] = localize(naive, ZoneInfo(zone))


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
