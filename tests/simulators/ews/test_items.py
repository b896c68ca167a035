"""GetItem, CreateItem, UpdateItem and DeleteItem over raw SOAP."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from simulators.exchange.model import CalendarItem, Contact, Occurrence
from tests.conftest import ALICE, EwsServer
from tests.simulators.ews.soap import NS, codes, distinguished, envelope, messages, shape, texts

SPRING = (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 4, 21, tzinfo=UTC))


def _post(ews: EwsServer, body: str) -> bytes:
    response = ews.post(envelope(body, impersonate=ALICE))
    assert response.status_code == 200, response.text
    return response.content


def _rows(ews: EwsServer) -> list[Occurrence]:
    folder = ews.store.distinguished_folder("calendar", ALICE)
    return ews.store.calendar_view(folder, *SPRING)


def _get(ews: EwsServer, ids: str, base: str = "AllProperties", *fields: str) -> bytes:
    return _post(ews, f"<m:GetItem>{shape(base, *fields)}<m:ItemIds>{ids}</m:ItemIds></m:GetItem>")


def test_occurrence_and_exception_by_their_ids(ews: EwsServer) -> None:
    rows = _rows(ews)
    content = _get(ews, f'<t:ItemId Id="{rows[0].id}"/><t:ItemId Id="{rows[1].id}"/>')
    first, second = (m.find("m:Items/t:CalendarItem", NS) for m in messages(content))
    assert first.findtext("t:CalendarItemType", namespaces=NS) == "Occurrence"
    assert first.findtext("t:RecurrenceId", namespaces=NS) == "2026-03-16T08:00:00Z"
    assert first.findtext("t:IsRecurring", namespaces=NS) == "true"
    assert first.find("t:Recurrence", NS) is None
    assert second.findtext("t:CalendarItemType", namespaces=NS) == "Exception"
    assert second.findtext("t:Start", namespaces=NS) == "2026-03-23T13:00:00Z"
    assert second.findtext("t:OriginalStart", namespaces=NS) == "2026-03-23T08:00:00Z"
    assert second.findtext("t:Subject", namespaces=NS) == "Moved review"


def test_master_with_recurrence_and_changed_occurrences(ews: EwsServer) -> None:
    master = ews.handles["weekly"]
    item = messages(_get(ews, f'<t:ItemId Id="{master.id}"/>'))[0].find(".//t:CalendarItem", NS)
    weekly = item.find("t:Recurrence/t:WeeklyRecurrence", NS)
    assert texts(weekly, "*") == ["1", "Monday"]
    numbered = item.find("t:Recurrence/t:NumberedRecurrence", NS)
    assert texts(numbered, "*") == ["2026-03-16", "6"]
    assert texts(item, "t:ModifiedOccurrences/t:Occurrence/t:Start") == ["2026-03-23T13:00:00Z"]
    assert texts(item, "t:DeletedOccurrences/t:DeletedOccurrence/t:Start") == [
        "2026-04-06T07:00:00Z"
    ]
    assert texts(item, "t:LastOccurrence/t:Start") == ["2026-04-20T07:00:00Z"]
    assert item.findtext("t:TimeZone", namespaces=NS).startswith("(GMT+01:00) Amsterdam, Berlin")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (2, "NoError:Exception"),
        (3, "NoError:Occurrence"),
        (4, "ErrorCalendarOccurrenceIsDeletedFromRecurrence"),
        (7, "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"),
    ],
)
def test_occurrence_item_id_by_index(ews: EwsServer, index: int, expected: str) -> None:
    master = ews.handles["weekly"]
    ids = f'<t:OccurrenceItemId RecurringMasterId="{master.id}" InstanceIndex="{index}"/>'
    content = _get(ews, ids, "IdOnly", "calendar:CalendarItemType")
    kind = texts(messages(content)[0], ".//t:CalendarItemType")
    assert ":".join(codes(content) + kind) == expected


def test_recurring_master_item_id_from_an_occurrence(ews: EwsServer) -> None:
    occurrence = _rows(ews)[2]
    content = _get(ews, f'<t:RecurringMasterItemId OccurrenceId="{occurrence.id}"/>', "IdOnly")
    item_id = messages(content)[0].find(".//t:ItemId", NS)
    assert item_id.get("Id") == ews.handles["weekly"].id


def _update(ews: EwsServer, item_id: str, updates: str, **attrs: str) -> bytes:
    options = {
        "ConflictResolution": "AutoResolve",
        "SendMeetingInvitationsOrCancellations": "SendToNone",
        **attrs,
    }
    attributes = " ".join(f'{k}="{v}"' for k, v in options.items() if v)
    return _post(
        ews,
        f"<m:UpdateItem {attributes}><m:ItemChanges><t:ItemChange>{item_id}"
        f"<t:Updates>{updates}</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
    )


def _set(field: str, element: str, value: str) -> str:
    return (
        f'<t:SetItemField><t:FieldURI FieldURI="{field}"/>'
        f"<t:CalendarItem><t:{element}>{value}</t:{element}></t:CalendarItem></t:SetItemField>"
    )


def test_update_an_occurrence_makes_an_exception(ews: EwsServer) -> None:
    occurrence = _rows(ews)[4]  # 13 April
    content = _update(
        ews,
        f'<t:ItemId Id="{occurrence.id}"/>',
        _set("item:Subject", "Subject", "Special review")
        + _set("calendar:Start", "Start", "2026-04-13T12:00:00Z")
        + _set("calendar:End", "End", "2026-04-13T13:00:00Z"),
    )
    assert codes(content) == ["NoError"]
    master = ews.handles["weekly"]
    assert date(2026, 4, 13) in master.exceptions
    changed = [r for r in _rows(ews) if r.subject == "Special review"]
    assert [(r.item_type, r.start.isoformat()) for r in changed] == [
        ("Exception", "2026-04-13T12:00:00+00:00")
    ]
    key = messages(content)[0].find("m:Items/t:CalendarItem/t:ItemId", NS).get("ChangeKey")
    assert key == master.change_key


def test_set_and_delete_fields_of_a_single(ews: EwsServer) -> None:
    lunch = ews.handles["lunch"]
    content = _update(
        ews,
        f'<t:ItemId Id="{lunch.id}" ChangeKey="{lunch.change_key}"/>',
        _set("calendar:Location", "Location", "Canteen")
        + _set("calendar:LegacyFreeBusyStatus", "LegacyFreeBusyStatus", "Tentative")
        + '<t:DeleteItemField><t:FieldURI FieldURI="item:Subject"/></t:DeleteItemField>',
    )
    assert codes(content) == ["NoError"]
    stored = ews.store.item(lunch.id)
    assert isinstance(stored, CalendarItem)
    assert (stored.location, stored.busy_status, stored.subject) == ("Canteen", "Tentative", "")


@pytest.mark.parametrize(
    ("updates", "attrs", "code"),
    [
        (
            '<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem>'
            "<t:Subject>a</t:Subject><t:Location>b</t:Location></t:CalendarItem></t:SetItemField>",
            {},
            "ErrorIncorrectUpdatePropertyCount",
        ),
        (_set("item:Subject", "Location", "x"), {}, "ErrorUpdatePropertyMismatch"),
        (
            _set("calendar:CalendarItemType", "CalendarItemType", "Single"),
            {},
            "ErrorInvalidPropertySet",
        ),
        (
            '<t:DeleteItemField><t:FieldURI FieldURI="calendar:Start"/></t:DeleteItemField>',
            {},
            "ErrorInvalidPropertyDelete",
        ),
        (
            _set("calendar:End", "End", "2026-03-30T09:00:00Z"),
            {},
            "ErrorCalendarEndDateIsEarlierThanStartDate",
        ),
        (
            _set("item:Subject", "Subject", "x"),
            {"SendMeetingInvitationsOrCancellations": ""},
            "ErrorSendMeetingInvitationsOrCancellationsRequired",
        ),
        (
            _set("item:Subject", "Subject", "x"),
            {"ConflictResolution": "NeverOverwrite"},
            "ErrorIrresolvableConflict",
        ),
    ],
)
def test_update_errors(ews: EwsServer, updates: str, attrs: dict[str, str], code: str) -> None:
    lunch = ews.handles["lunch"]
    content = _update(
        ews, f'<t:ItemId Id="{lunch.id}" ChangeKey="DwAAABYA9999"/>', updates, **attrs
    )
    assert codes(content) == [code]
    assert messages(content)[0].find("m:Items", NS) is not None  # required even on errors
    assert ews.store.item(lunch.id).subject == "Lunch"  # type: ignore[union-attr]


def test_delete_one_occurrence_and_a_single(ews: EwsServer) -> None:
    occurrence = _rows(ews)[0]
    lunch = ews.handles["lunch"]
    content = _post(
        ews,
        '<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone">'
        f'<m:ItemIds><t:ItemId Id="{occurrence.id}"/><t:ItemId Id="{lunch.id}"/>'
        '<t:ItemId Id="AAMkGone"/></m:ItemIds></m:DeleteItem>',
    )
    assert codes(content) == ["NoError", "NoError", "ErrorItemNotFound"]
    assert ews.handles["weekly"].deleted == {date(2026, 3, 16), date(2026, 4, 6)}
    assert [r.subject for r in _rows(ews)] == ["Moved review"] + ["Weekly review"] * 3


def test_delete_calendar_item_needs_send_meeting_cancellations(ews: EwsServer) -> None:
    lunch = ews.handles["lunch"]
    content = _post(
        ews,
        '<m:DeleteItem DeleteType="HardDelete">'
        f'<m:ItemIds><t:ItemId Id="{lunch.id}"/></m:ItemIds></m:DeleteItem>',
    )
    assert codes(content) == ["ErrorSendMeetingCancellationsRequired"]


def test_create_a_contact_in_a_public_folder(ews: EwsServer) -> None:
    folder = next(f for f in ews.store.folders.values() if f.display_name == "Suppliers")
    content = _post(
        ews,
        f'<m:CreateItem><m:SavedItemFolderId><t:FolderId Id="{folder.id}"/></m:SavedItemFolderId>'
        "<m:Items><t:Contact><t:GivenName>Paula</t:GivenName>"
        '<t:EmailAddresses><t:Entry Key="EmailAddress1">paula@lief.de</t:Entry></t:EmailAddresses>'
        '<t:PhoneNumbers><t:Entry Key="BusinessPhone">+49 89 1</t:Entry></t:PhoneNumbers>'
        "<t:Surname>Lieferant</t:Surname></t:Contact></m:Items></m:CreateItem>",
    )
    assert codes(content) == ["NoError"]
    new_id = messages(content)[0].find("m:Items/t:Contact/t:ItemId", NS).get("Id")
    stored = ews.store.item(new_id)
    assert isinstance(stored, Contact)
    assert (stored.display_name, stored.emails, stored.phones) == (
        "Paula Lieferant",
        ["paula@lief.de"],
        {"BusinessPhone": "+49 89 1"},
    )


def test_create_calendar_item_rules(ews: EwsServer) -> None:
    item = (
        "<t:CalendarItem><t:Subject>Call</t:Subject><t:Start>2026-06-01T10:00:00</t:Start>"
        "<t:End>2026-06-01T10:30:00</t:End></t:CalendarItem>"
    )
    without = _post(ews, f"<m:CreateItem><m:Items>{item}</m:Items></m:CreateItem>")
    in_contacts = _post(
        ews,
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId>'
        f"{distinguished('contacts', ALICE)}</m:SavedItemFolderId><m:Items>{item}</m:Items></m:CreateItem>",
    )
    ok = _post(
        ews,
        f'<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items>{item}</m:Items></m:CreateItem>',
    )
    assert codes(without) == ["ErrorSendMeetingInvitationsRequired"]
    assert codes(in_contacts) == ["ErrorCannotCreateCalendarItemInNonCalendarFolder"]
    assert codes(ok) == ["NoError"]
    new_id = messages(ok)[0].find(".//t:ItemId", NS).get("Id")
    stored = ews.store.item(new_id)
    assert isinstance(stored, CalendarItem)
    # A dateTime without offset is UTC.
    assert stored.start.isoformat() == "2026-06-01T10:00:00+00:00"


def test_text_is_escaped_and_non_ascii_survives(ews: EwsServer) -> None:
    subject = 'Über <Ärger> & "Ölpreis" \x07'
    lunch = ews.handles["lunch"]
    ews.store.update_item(lunch.id, subject=subject, location="Café & Bar")
    content = _get(
        ews, f'<t:ItemId Id="{lunch.id}"/>', "IdOnly", "item:Subject", "calendar:Location"
    )
    item = messages(content)[0].find(".//t:CalendarItem", NS)
    assert item.findtext("t:Subject", namespaces=NS) == 'Über <Ärger> & "Ölpreis" '
    assert item.findtext("t:Location", namespaces=NS) == "Café & Bar"
    assert "Über &lt;Ärger&gt; &amp;".encode() in content
