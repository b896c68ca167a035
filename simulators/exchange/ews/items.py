"""GetItem, CreateItem, UpdateItem and DeleteItem.

Items are calendar items (singles, masters, occurrences by their own id, by
OccurrenceItemId or through RecurringMasterItemId) and contacts. Every id gets
its own response message; an error in one does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from simulators.exchange import ical_in
from simulators.exchange.ews import calendar, contacts, messages
from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.extended import (
    EXTENDED_FIELD_URI,
    EXTENDED_PROPERTY,
    read_extended_property,
)
from simulators.exchange.ews.itemxml import Out, RawXml, element_text, write_items
from simulators.exchange.ews.kinds import kind_and_view
from simulators.exchange.ews.shapes import INDEXED_FIELD_URI, read_path, read_shape
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr,
    attr_enum,
    local,
    m,
    new_element,
    qname,
    t,
)
from simulators.exchange.model import CalendarItem, Contact, Folder, Item, Message, Occurrence
from simulators.exchange.recurrence import RecurrenceError
from simulators.exchange.store import StoreError

SubElement = etree.SubElement

ITEM_ID_CHOICE = "t:ItemId|t:OccurrenceItemId|t:RecurringMasterItemId"
GET_ITEM = Sequence_(("m:ItemShape", 1, 1), ("m:ItemIds", 1, 1))
ITEM_IDS = Sequence_((ITEM_ID_CHOICE, 1, -1))
CREATE_ITEM = Sequence_(("m:SavedItemFolderId", 0, 1), ("m:Items", 1, 1))
TARGET_FOLDER = Sequence_(("t:FolderId|t:DistinguishedFolderId", 1, 1))
NEW_ITEMS = Sequence_(
    (
        "t:Item|t:Message|t:CalendarItem|t:Contact|t:DistributionList|t:MeetingMessage|"
        "t:MeetingRequest|t:MeetingResponse|t:MeetingCancellation|t:Task|t:PostItem",
        1,
        -1,
    )
)
UPDATE_ITEM = Sequence_(("m:SavedItemFolderId", 0, 1), ("m:ItemChanges", 1, 1))
ITEM_CHANGES = Sequence_(("t:ItemChange", 1, -1))
ITEM_CHANGE = Sequence_((ITEM_ID_CHOICE, 1, 1), ("t:Updates", 1, 1))
UPDATES = Sequence_(("t:AppendToItemField|t:SetItemField|t:DeleteItemField", 1, -1))
PATH_CHOICE = "t:FieldURI|t:IndexedFieldURI|t:ExtendedFieldURI"
SET_FIELD = Sequence_(
    (PATH_CHOICE, 1, 1),
    (
        "t:Item|t:Message|t:CalendarItem|t:Contact|t:DistributionList|t:MeetingMessage|"
        "t:MeetingRequest|t:MeetingResponse|t:MeetingCancellation|t:Task|t:PostItem",
        1,
        1,
    ),
)
DELETE_FIELD = Sequence_((PATH_CHOICE, 1, 1))
DELETE_ITEM = Sequence_(("m:ItemIds", 1, 1))

DISPOSITIONS = ("SaveOnly", "SendOnly", "SendAndSaveCopy")
INVITATIONS = ("SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy")
UPDATE_INVITATIONS = (
    "SendToNone",
    "SendOnlyToAll",
    "SendOnlyToChanged",
    "SendToAllAndSaveCopy",
    "SendToChangedAndSaveCopy",
)
CALENDAR_ITEM = qname("t:CalendarItem")
CONTACT = qname("t:Contact")
# IndexedFieldURI (last part) -> the dictionary element a SetItemField carries
DICTIONARY_ELEMENTS = {
    "PhoneNumber": "PhoneNumbers",
    "EmailAddress": "EmailAddresses",
    "ImAddress": "ImAddresses",
    "Street": "PhysicalAddresses",
    "City": "PhysicalAddresses",
    "State": "PhysicalAddresses",
    "CountryOrRegion": "PhysicalAddresses",
    "PostalCode": "PhysicalAddresses",
}
CONTACT_FIELDS = {
    "DisplayName": "display_name",
    "GivenName": "given_name",
    "Surname": "surname",
    "CompanyName": "company",
}


def _children(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str)]


def _store_error(exc: StoreError) -> ResponseError:
    return ResponseError.from_store(exc)


# ------------------------------------------------------------------ GetItem
def get_item(call: EwsCall, request: Element) -> RawXml:
    kids = GET_ITEM.read(request)
    shape = read_shape(kids.one("m:ItemShape"))
    ids = kids.one("m:ItemIds")
    ITEM_IDS.read(ids)
    out = Out(call.store, call.options.meeting_time_zone)
    parts = ["<m:ResponseMessages>"]
    for id_el in _children(ids):
        try:
            found = call.item(id_el)
        except ResponseError as exc:
            parts.append(element_text(error_message("GetItemResponseMessage", exc, ("Items",))))
            continue
        parts.append(
            '<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError'
            "</m:ResponseCode><m:Items>"
        )
        write_items(parts, [kind_and_view(call.store, found)], shape, out, find=False)
        parts.append("</m:Items></m:GetItemResponseMessage>")
    parts.append("</m:ResponseMessages>")
    return RawXml("".join(parts))


# --------------------------------------------------------------- CreateItem
def _target(call: EwsCall, saved: Element | None, default: str) -> Folder:
    if saved is not None:
        TARGET_FOLDER.read(saved)
        return call.folder(_children(saved)[0])
    box = call.caller.mailbox(call.store, None)
    call.touched(box.smtp)
    return call.store.distinguished_folder(default, box.smtp)


def _calendar_fields(call: EwsCall, folder: Folder, item: Element) -> dict[str, Any]:
    """The store fields of a new CalendarItem: its MimeContent (an iCalendar), then its
    elements; without Start and End the next half hour, as Exchange fills them in."""
    fields = calendar.read_calendar_item(item, require_times=False)
    mime = item.find(qname("t:MimeContent"))
    data = ical_in.EventData({})
    if mime is not None:
        zone = call.store.mailboxes[folder.mailbox].time_zone if folder.mailbox else "UTC"
        try:
            data = ical_in.read_event(messages.mime_content(mime), zone)
        except ical_in.IcalError as exc:
            raise ResponseError("ErrorMimeContentConversionFailed", str(exc)) from None
    merged = {**data.fields, **fields}
    if "start" not in merged or "end" not in merged:
        start, end = ical_in.default_times(call.store.clock.now())
        merged.setdefault("start", start)
        merged.setdefault("end", merged["start"] + (end - start))
    merged.setdefault("subject", "")
    return {"data": ical_in.EventData(merged, data.exceptions, data.deleted)}


def _create_one(
    call: EwsCall, request: Element, saved: Element | None, item: Element
) -> Item | None:
    if item.tag == CALENDAR_ITEM:
        if request.get("SendMeetingInvitations") is None:
            raise ResponseError("ErrorSendMeetingInvitationsRequired")
        folder = _target(call, saved, "calendar")
        if folder.folder_class != "IPF.Appointment":
            raise ResponseError(
                "ErrorCannotCreateCalendarItemInNonCalendarFolder",
                "Cannot create calendar items in a non-calendar folder.",
            )
        extended = messages.extended_properties(item)
        data = _calendar_fields(call, folder, item)["data"]
        try:
            created: Item = ical_in.apply_event(call.store, folder, data)
        except ical_in.IcalError as exc:
            raise ResponseError("ErrorCalendarInvalidRecurrence", str(exc)) from None
    elif item.tag == CONTACT:
        fields = contacts.read_contact(item)
        folder = _target(call, saved, "contacts")
        if folder.folder_class != "IPF.Contact":
            raise ResponseError(
                "ErrorCannotCreateContactInNonContactFolder",
                "Cannot create contact items in a non-contact folder.",
            )
        extended = messages.extended_properties(item)
        created = call.store.create_contact(folder, **fields)
    elif item.tag == messages.MESSAGE:
        target = None
        if saved is not None:
            TARGET_FOLDER.read(saved)
            target = call.folder(_children(saved)[0])
        return messages.create_message(call, request, target, item)
    else:
        raise ResponseError(
            "ErrorInvalidItemForOperationCreateItem",
            f"This server creates calendar items, contacts and messages, not {local(item.tag)}.",
        )
    if extended:
        call.store.set_properties(created, [(p.key, p.type, v) for p, v in extended])
    return created


def create_item(call: EwsCall, request: Element) -> Element:
    kids = CREATE_ITEM.read(request)
    attr_enum(request, "MessageDisposition", DISPOSITIONS, "MessageDispositionType")
    attr_enum(
        request, "SendMeetingInvitations", INVITATIONS, "CalendarItemCreateOrDeleteOperationType"
    )
    saved = kids.opt("m:SavedItemFolderId")
    items = kids.one("m:Items")
    NEW_ITEMS.read(items)
    responses = new_element(m("ResponseMessages"))
    for item in _children(items):
        try:
            created = _create_one(call, request, saved, item)
        except ResponseError as exc:
            responses.append(error_message("CreateItemResponseMessage", exc, ("Items",)))
            continue
        except StoreError as exc:
            responses.append(
                error_message("CreateItemResponseMessage", _store_error(exc), ("Items",))
            )
            continue
        except (RecurrenceError, ValueError) as exc:
            error = ResponseError("ErrorCalendarInvalidRecurrence", str(exc))
            responses.append(error_message("CreateItemResponseMessage", error, ("Items",)))
            continue
        message = success_message("CreateItemResponseMessage")
        items_el = SubElement(message, m("Items"))
        if created is not None:  # a message only sent leaves nothing to name
            node = SubElement(items_el, item.tag)
            SubElement(node, t("ItemId"), Id=created.id, ChangeKey=created.change_key)
        responses.append(message)
    return responses


# --------------------------------------------------------------- UpdateItem
def _field_name(path_el: Element) -> tuple[str, str | None]:
    path = read_path(path_el)
    return path.uri.rsplit(":", 1)[-1], path.index


def _contact_change(name: str, index: str | None, child: Element | None, item: Contact) -> Any:
    if index is not None and name == "PhoneNumber":
        phones = dict(item.phones)
        if child is None:
            phones.pop(index, None)
        else:
            entries = [e for e in child.iter(t("Entry")) if e.get("Key") == index]
            if not entries:
                raise ResponseError(
                    "ErrorUpdatePropertyMismatch",
                    "The property being updated doesn't match the item.",
                )
            phones[index] = entries[0].text or ""
        return "phones", phones
    if name in CONTACT_FIELDS and index is None:
        return CONTACT_FIELDS[name], (child.text or "") if child is not None else ""
    raise ResponseError("ErrorInvalidPropertySet")


@dataclass
class Changes:
    """What one ItemChange asks for: model fields and extended properties."""

    fields: dict[str, Any] = field(default_factory=dict)
    extended: list[tuple[Any, str, Any]] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)


def _extended_change(
    update: Element, path_el: Element, rest: list[Element], found: Changes
) -> None:
    path = read_path(path_el).ext
    assert path is not None
    if not rest:
        found.removed.append(path.key)
        return
    values = _children(rest[0])
    if len(values) != 1 or values[0].tag != EXTENDED_PROPERTY:
        raise ResponseError("ErrorIncorrectUpdatePropertyCount")
    written, value = read_extended_property(values[0])
    if written.key != path.key:
        raise ResponseError(
            "ErrorUpdatePropertyMismatch",
            "The property being updated doesn't match the property in the item.",
        )
    found.extended.append((path.key, written.type, value))


def _changes(updates: Element, target: Item | Occurrence) -> Changes:
    found = Changes()
    changes = found.fields
    sources: dict[str, Element] = {}  # field -> the element its value came from
    is_calendar = isinstance(target, (CalendarItem, Occurrence))
    for update in _children(updates):
        verb = local(update.tag)
        if verb == "AppendToItemField":
            raise ResponseError("ErrorInvalidPropertyAppend")
        (SET_FIELD if verb == "SetItemField" else DELETE_FIELD).read(update)
        path_el, *rest = _children(update)
        if path_el.tag == EXTENDED_FIELD_URI:
            _extended_change(update, path_el, rest, found)
            continue
        name, index = _field_name(path_el)
        value_el: Element | None = None
        if rest:
            fields = _children(rest[0])
            if len(fields) != 1:
                raise ResponseError("ErrorIncorrectUpdatePropertyCount")
            value_el = fields[0]
            expected = name if path_el.tag != INDEXED_FIELD_URI else DICTIONARY_ELEMENTS[name]
            if local(value_el.tag) != expected:
                raise ResponseError(
                    "ErrorUpdatePropertyMismatch",
                    "The property being updated doesn't match the property in the item.",
                )
        if is_calendar:
            change = (
                calendar.read_update_value(name, value_el)
                if value_el is not None
                else calendar.cleared_value(name)
            )
        elif isinstance(target, Contact):
            change = _contact_change(name, index, value_el, target)
        elif isinstance(target, Message):
            change = messages.message_change(name, value_el)
        else:
            raise ResponseError("ErrorInvalidPropertySet")
        if change is not None:
            changes[change[0]] = change[1]
            if value_el is not None:
                sources[change[0]] = value_el
    if is_calendar:
        calendar.in_meeting_zone(changes, sources)
    if "recurrence" in changes:
        if isinstance(target, Occurrence):
            raise ResponseError("ErrorInvalidPropertySet", "An occurrence has no recurrence.")
        # A new pattern (or none) drops the series' exceptions, as Exchange does.
        changes.update(exceptions={}, deleted=set())
    return found


def _update_one(call: EwsCall, request: Element, change: Element) -> Any:
    kids = ITEM_CHANGE.read(change)
    id_el = _children(change)[0]
    updates = kids.one("t:Updates")
    UPDATES.read(updates)
    target = call.item(id_el)
    if isinstance(target, (CalendarItem, Occurrence)) and (
        request.get("SendMeetingInvitationsOrCancellations") is None
    ):
        raise ResponseError(
            "ErrorSendMeetingInvitationsOrCancellationsRequired",
            "SendMeetingInvitationsOrCancellations attribute is required for Calendar items.",
        )
    stored = target.master if isinstance(target, Occurrence) else target
    sent_key = id_el.get("ChangeKey")
    if (
        request.get("ConflictResolution") == "NeverOverwrite"
        and sent_key
        and sent_key != stored.change_key
    ):
        raise ResponseError("ErrorIrresolvableConflict")
    changes = _changes(updates, target)
    store = call.store
    try:
        with store._lock:  # all of one ItemChange or nothing: property errors first
            if changes.extended:
                store.set_properties(target, changes.extended)
            if changes.removed:
                store.remove_properties(target, changes.removed)
            if changes.fields or not (changes.extended or changes.removed):
                return store.update_item(target.id, **changes.fields)
            return store.item(target.id)
    except (RecurrenceError, ValueError) as exc:
        raise ResponseError("ErrorCalendarInvalidRecurrence", str(exc)) from None


def update_item(call: EwsCall, request: Element) -> Element:
    kids = UPDATE_ITEM.read(request)
    attr_enum(
        request,
        "ConflictResolution",
        ("NeverOverwrite", "AutoResolve", "AlwaysOverwrite"),
        "ConflictResolutionType",
        required=True,
    )
    attr_enum(request, "MessageDisposition", DISPOSITIONS, "MessageDispositionType")
    attr_enum(
        request,
        "SendMeetingInvitationsOrCancellations",
        UPDATE_INVITATIONS,
        "CalendarItemUpdateOperationType",
    )
    item_changes = kids.one("m:ItemChanges")
    ITEM_CHANGES.read(item_changes)
    responses = new_element(m("ResponseMessages"))
    for change in _children(item_changes):
        try:
            updated = _update_one(call, request, change)
        except ResponseError as exc:
            responses.append(error_message("UpdateItemResponseMessage", exc, ("Items",)))
            continue
        except StoreError as exc:
            responses.append(
                error_message("UpdateItemResponseMessage", _store_error(exc), ("Items",))
            )
            continue
        key = updated.master.change_key if isinstance(updated, Occurrence) else updated.change_key
        message = success_message("UpdateItemResponseMessage")
        items = SubElement(message, m("Items"))
        node = SubElement(items, t(kind_and_view(call.store, updated)[0].name))
        SubElement(node, t("ItemId"), Id=updated.id, ChangeKey=key)
        SubElement(SubElement(message, m("ConflictResults")), t("Count")).text = "0"
        responses.append(message)
    return responses


# --------------------------------------------------------------- DeleteItem
def delete_item(call: EwsCall, request: Element) -> Element:
    kids = DELETE_ITEM.read(request)
    delete_type = attr_enum(
        request,
        "DeleteType",
        ("HardDelete", "SoftDelete", "MoveToDeletedItems"),
        "DisposalType",
        required=True,
    )
    attr_enum(
        request, "SendMeetingCancellations", INVITATIONS, "CalendarItemCreateOrDeleteOperationType"
    )
    attr_enum(
        request,
        "AffectedTaskOccurrences",
        ("AllOccurrences", "SpecifiedOccurrenceOnly"),
        "AffectedTaskOccurrencesType",
    )
    ids = kids.one("m:ItemIds")
    ITEM_IDS.read(ids)
    responses = new_element(m("ResponseMessages"))
    for id_el in _children(ids):
        try:
            target = call.item(id_el)
            if isinstance(target, (CalendarItem, Occurrence)) and (
                attr(request, "SendMeetingCancellations") is None
            ):
                raise ResponseError("ErrorSendMeetingCancellationsRequired")
            call.store.delete_as(target.id, delete_type)  # type: ignore[arg-type]
        except ResponseError as exc:
            responses.append(error_message("DeleteItemResponseMessage", exc))
            continue
        except StoreError as exc:
            responses.append(error_message("DeleteItemResponseMessage", _store_error(exc)))
            continue
        responses.append(success_message("DeleteItemResponseMessage"))
    return responses
