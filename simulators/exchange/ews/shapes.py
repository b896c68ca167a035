"""Response shapes (ItemShape, FolderShape) and property paths (FieldURI & co).

A shape is a base (IdOnly, Default, AllProperties) plus additional properties;
the serialisers decide what each base means for their item kind. Property paths
are checked against the 2007 SP1 enumerations, so an unknown FieldURI is a schema
violation as on the real server.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.exchange.ews.extended import ExtendedPath, read_extended_path
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    T,
    attr,
    fail,
    local,
    qname,
    text_enum,
    words,
)

BASE_SHAPES = ("IdOnly", "Default", "AllProperties")

# t:UnindexedFieldURIType of the 2007 SP1 schema.
UNINDEXED_FIELD_URIS = frozenset(
    words(
        """
folder:FolderId folder:ParentFolderId folder:DisplayName folder:UnreadCount folder:TotalCount
folder:ChildFolderCount folder:FolderClass folder:SearchParameters folder:ManagedFolderInformation
folder:PermissionSet folder:EffectiveRights
item:ItemId item:ParentFolderId item:ItemClass item:MimeContent item:Attachments item:Subject
item:DateTimeReceived item:Size item:Categories item:HasAttachments item:Importance item:InReplyTo
item:InternetMessageHeaders item:IsDraft item:IsFromMe item:IsResend item:IsSubmitted
item:IsUnmodified item:DateTimeSent item:DateTimeCreated item:Body item:ResponseObjects
item:Sensitivity item:ReminderDueBy item:ReminderIsSet item:ReminderMinutesBeforeStart
item:DisplayTo item:DisplayCc item:Culture item:EffectiveRights item:LastModifiedName
item:LastModifiedTime
message:ConversationIndex message:ConversationTopic message:InternetMessageId message:IsRead
message:IsResponseRequested message:IsReadReceiptRequested message:IsDeliveryReceiptRequested
message:ReceivedBy message:ReceivedRepresenting message:References message:ReplyTo message:From
message:Sender message:ToRecipients message:CcRecipients message:BccRecipients
meeting:AssociatedCalendarItemId meeting:IsDelegated meeting:IsOutOfDate meeting:HasBeenProcessed
meeting:ResponseType meetingRequest:MeetingRequestType meetingRequest:IntendedFreeBusyStatus
calendar:Start calendar:End calendar:OriginalStart calendar:IsAllDayEvent
calendar:LegacyFreeBusyStatus calendar:Location calendar:When calendar:IsMeeting
calendar:IsCancelled calendar:IsRecurring calendar:MeetingRequestWasSent
calendar:IsResponseRequested calendar:CalendarItemType calendar:MyResponseType calendar:Organizer
calendar:RequiredAttendees calendar:OptionalAttendees calendar:Resources
calendar:ConflictingMeetingCount calendar:AdjacentMeetingCount calendar:ConflictingMeetings
calendar:AdjacentMeetings calendar:Duration calendar:TimeZone calendar:AppointmentReplyTime
calendar:AppointmentSequenceNumber calendar:AppointmentState calendar:Recurrence
calendar:FirstOccurrence calendar:LastOccurrence calendar:ModifiedOccurrences
calendar:DeletedOccurrences calendar:MeetingTimeZone calendar:ConferenceType
calendar:AllowNewTimeProposal calendar:IsOnlineMeeting calendar:MeetingWorkspaceUrl
calendar:NetShowUrl calendar:UID calendar:RecurrenceId calendar:DateTimeStamp
task:ActualWork task:AssignedTime task:BillingInformation task:ChangeCount task:Companies
task:CompleteDate task:Contacts task:DelegationState task:Delegator task:DueDate
task:IsAssignmentEditable task:IsComplete task:IsRecurring task:IsTeamTask task:Mileage task:Owner
task:PercentComplete task:Recurrence task:StartDate task:Status task:StatusDescription
task:TotalWork
contacts:AssistantName contacts:Birthday contacts:BusinessHomePage contacts:Children
contacts:Companies contacts:CompanyName contacts:CompleteName contacts:ContactSource
contacts:Culture contacts:Department contacts:DisplayName contacts:EmailAddresses contacts:FileAs
contacts:FileAsMapping contacts:Generation contacts:GivenName contacts:ImAddresses
contacts:Initials contacts:JobTitle contacts:Manager contacts:MiddleName contacts:Mileage
contacts:Nickname contacts:OfficeLocation contacts:PhoneNumbers contacts:PhysicalAddresses
contacts:PostalAddressIndex contacts:Profession contacts:SpouseName contacts:Surname
contacts:WeddingAnniversary postitem:PostedTime
"""
    )
)

# t:DictionaryURIType.
INDEXED_FIELD_URIS = frozenset(
    words(
        """
item:InternetMessageHeader contacts:ImAddress contacts:PhysicalAddress:Street
contacts:PhysicalAddress:City contacts:PhysicalAddress:State
contacts:PhysicalAddress:CountryOrRegion contacts:PhysicalAddress:PostalCode
contacts:PhoneNumber contacts:EmailAddress
"""
    )
)

_SHAPE = Sequence_(
    ("t:BaseShape", 1, 1),
    ("t:IncludeMimeContent", 0, 1),
    ("t:BodyType", 0, 1),
    ("t:AdditionalProperties", 0, 1),
)
_FOLDER_SHAPE = Sequence_(("t:BaseShape", 1, 1), ("t:AdditionalProperties", 0, 1))
_PATHS = Sequence_(("t:FieldURI|t:IndexedFieldURI|t:ExtendedFieldURI", 1, Sequence_.UNBOUNDED))

FIELD_URI = qname("t:FieldURI")
INDEXED_FIELD_URI = qname("t:IndexedFieldURI")
EXTENDED_FIELD_URI = qname("t:ExtendedFieldURI")
PATH_TAGS = frozenset((FIELD_URI, INDEXED_FIELD_URI, EXTENDED_FIELD_URI))


@dataclass(frozen=True)
class Path:
    """One property path: ``uri`` plus ``index`` for an IndexedFieldURI (None otherwise)."""

    uri: str
    index: str | None = None
    extended: bool = False
    ext: ExtendedPath | None = None  # the MAPI property of an ExtendedFieldURI


@dataclass(frozen=True)
class Shape:
    base: str
    fields: frozenset[str] = frozenset()
    indexed: frozenset[tuple[str, str]] = frozenset()
    extended: tuple[ExtendedPath, ...] = ()  # in the order asked for
    mime: bool = False  # IncludeMimeContent

    def key(self) -> tuple[str, frozenset[str], frozenset[tuple[str, str]]]:
        return (self.base, self.fields, self.indexed)


ID_ONLY = Shape("IdOnly")


def read_path(element: Element) -> Path:
    """A FieldURI / IndexedFieldURI / ExtendedFieldURI element, checked."""
    tag = element.tag
    if tag == FIELD_URI:
        uri = attr(element, "FieldURI", required=True) or ""
        if uri not in UNINDEXED_FIELD_URIS:
            _bad_uri(element, uri, "UnindexedFieldURIType")
        return Path(uri)
    if tag == INDEXED_FIELD_URI:
        uri = attr(element, "FieldURI", required=True) or ""
        index = attr(element, "FieldIndex", required=True) or ""
        if uri not in INDEXED_FIELD_URIS:
            _bad_uri(element, uri, "DictionaryURIType")
        return Path(uri, index)
    if tag == EXTENDED_FIELD_URI:
        attr(element, "PropertyType", required=True)
        return Path("extended", None, extended=True, ext=read_extended_path(element))
    fail(f"The element '{local(tag)}' is not a property path.", element)


def _bad_uri(element: Element, uri: str, type_name: str) -> None:
    fail(
        f"The 'FieldURI' attribute is invalid - The value '{uri}' is invalid according to its "
        f"datatype '{T}:{type_name}' - The Enumeration constraint failed.",
        element,
    )


def read_shape(element: Element, folder: bool = False) -> Shape:
    kids = (_FOLDER_SHAPE if folder else _SHAPE).read(element)
    base = text_enum(kids.one("t:BaseShape"), BASE_SHAPES, "DefaultShapeNamesType")
    extra = kids.opt("t:AdditionalProperties")
    fields: set[str] = set()
    indexed: set[tuple[str, str]] = set()
    extended: dict[object, ExtendedPath] = {}
    if extra is not None:
        _PATHS.read(extra)
        for child in extra:
            if not isinstance(child.tag, str):
                continue
            path = read_path(child)
            if path.ext is not None:
                extended.setdefault(path.ext.key, path.ext)
            elif path.index is None:
                fields.add(path.uri)
            else:
                indexed.add((path.uri, path.index))
    mime_el = None if folder else kids.opt("t:IncludeMimeContent")
    mime = mime_el is not None and (mime_el.text or "").strip().lower() in ("true", "1")
    if "item:MimeContent" in fields:
        fields.discard("item:MimeContent")
        mime = True
    return Shape(base, frozenset(fields), frozenset(indexed), tuple(extended.values()), mime)
