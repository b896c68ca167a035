"""ConvertId, the default folders by their 2007 ids, and extended properties on
folders and items: returned, set by CreateItem/UpdateItem, filtered and sorted on.
Every answer is validated against the 2007 SP1 schema by the ``ews`` fixture."""

from __future__ import annotations

import base64

import pytest

from simulators.exchange.mapi import PS_PUBLIC_STRINGS, PropKey
from tests.conftest import ALICE, BOB, EwsServer
from tests.simulators.ews.soap import NS, codes, distinguished, envelope, messages, shape

DEFAULT_FOLDERS = [
    "root",
    "msgfolderroot",
    "inbox",
    "outbox",
    "drafts",
    "sentitems",
    "deleteditems",
    "junkemail",
    "calendar",
    "contacts",
    "tasks",
    "journal",
    "notes",
    "searchfolders",
    "voicemail",
]
CLASS = '<t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/>'
COUNT = '<t:ExtendedFieldURI PropertyTag="0x3602" PropertyType="Integer"/>'
ARTICLE = '<t:ExtendedFieldURI PropertyTag="0xe23" PropertyType="Integer"/>'
INSTANCE = (
    '<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" '
    'PropertyName="urn:schemas:calendar:instancetype" PropertyType="Integer"/>'
)
RECURRING = (
    '<t:ExtendedFieldURI DistinguishedPropertySetId="Appointment" PropertyId="33315" '
    'PropertyType="Boolean"/>'
)


def _post(ews: EwsServer, body: str, mailbox: str = ALICE) -> bytes:
    response = ews.post(envelope(body, impersonate=mailbox))
    assert response.status_code == 200, response.text
    return response.content


def _extended(element: object) -> dict[str, str]:
    """PropertyTag/Id/Name -> value of the ExtendedProperty children of an element."""
    found = {}
    for prop in element.findall("t:ExtendedProperty", NS):  # type: ignore[attr-defined]
        uri = prop.find("t:ExtendedFieldURI", NS)
        name = uri.get("PropertyTag") or uri.get("PropertyId") or uri.get("PropertyName")
        found[name] = prop.findtext("t:Value", namespaces=NS)
    return found


def test_every_2007_distinguished_folder_exists(ews: EwsServer) -> None:
    ids = "".join(distinguished(name) for name in DEFAULT_FOLDERS)
    content = _post(
        ews,
        f"<m:GetFolder>{shape('IdOnly', 'folder:DisplayName', tag='m:FolderShape')}"
        f"<m:FolderIds>{ids}</m:FolderIds></m:GetFolder>",
    )
    assert codes(content) == ["NoError"] * len(DEFAULT_FOLDERS)
    names = [m.findtext(".//t:DisplayName", namespaces=NS) for m in messages(content)]
    assert names[2:5] == ["Inbox", "Outbox", "Drafts"]
    assert names[7] == "Junk E-mail" and names[-1] == "Voice Mail"


def test_convert_id_names_the_mailbox_of_a_folder_or_item(ews: EwsServer) -> None:
    root = ews.store.distinguished_folder("root", ALICE)
    lunch = ews.handles["lunch"]
    hex_id = base64.b64decode(lunch.id).hex().upper()
    content = _post(
        ews,
        '<m:ConvertId DestinationFormat="EwsId"><m:SourceIds>'
        f'<t:AlternateId Format="EwsId" Id="{root.id}" Mailbox="blah@blah.com"/>'
        f'<t:AlternateId Format="HexEntryId" Id="{hex_id}" Mailbox="blah@blah.com"/>'
        '<t:AlternateId Format="EwsId" Id="not-an-id" Mailbox="blah@blah.com"/>'
        "</m:SourceIds></m:ConvertId>",
    )
    assert codes(content) == ["NoError", "NoError", "ErrorInvalidIdMalformed"]
    first, second, _ = (m.find("m:AlternateId", NS) for m in messages(content))
    assert (first.get("Mailbox"), first.get("Id"), first.get("Format")) == (ALICE, root.id, "EwsId")
    assert second.get("Id") == lunch.id


def test_convert_id_of_a_mailbox_without_full_access_is_denied(ews: EwsServer) -> None:
    bob_root = ews.store.distinguished_folder("root", BOB)
    response = ews.post(
        envelope(
            '<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds>'
            f'<t:AlternateId Format="EwsId" Id="{bob_root.id}" Mailbox="x@y.z"/>'
            "</m:SourceIds></m:ConvertId>"
        ),
        auth=(ALICE, "secret"),
    )
    assert codes(response.content) == ["ErrorAccessDenied"]


def test_folders_answer_extended_properties(ews: EwsServer) -> None:
    content = _post(
        ews,
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        f"{CLASS}{COUNT}</t:AdditionalProperties></m:FolderShape>"
        f"<m:FolderIds>{distinguished('calendar')}{distinguished('inbox')}</m:FolderIds>"
        "</m:GetFolder>",
    )
    calendar, inbox = (m.find("m:Folders/*", NS) for m in messages(content))
    assert _extended(calendar) == {"0x3613": "IPF.Appointment", "0x3602": "2"}
    assert _extended(inbox) == {"0x3613": "IPF.Note", "0x3602": "0"}


def test_find_folder_restricts_on_an_extended_property(ews: EwsServer) -> None:
    content = _post(
        ews,
        '<m:FindFolder Traversal="Deep">'
        f"{shape('IdOnly', 'folder:DisplayName', tag='m:FolderShape')}"
        f"<m:Restriction><t:IsEqualTo>{CLASS}<t:FieldURIOrConstant>"
        '<t:Constant Value="IPF.Note"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>'
        f"<m:ParentFolderIds>{distinguished('msgfolderroot')}</m:ParentFolderIds></m:FindFolder>",
    )
    names = {e.text for e in messages(content)[0].iterfind(".//t:DisplayName", NS)}
    assert names == {"Inbox", "Outbox", "Drafts", "Sent Items", "Deleted Items", "Junk E-mail"}


def _find_calendar(ews: EwsServer, restriction: str, sort: str = "") -> list[str]:
    content = _post(
        ews,
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
        f'<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/>{INSTANCE}{ARTICLE}'
        "</t:AdditionalProperties></m:ItemShape>"
        '<m:IndexedPageItemView MaxEntriesReturned="50" Offset="0" BasePoint="Beginning"/>'
        f"{restriction}{sort}<m:ParentFolderIds>{distinguished('calendar')}</m:ParentFolderIds>"
        "</m:FindItem>",
    )
    assert codes(content) == ["NoError"]
    return [
        f"{i.findtext('t:Subject', namespaces=NS)}:{_extended(i)['urn:schemas:calendar:instancetype']}"
        for i in messages(content)[0].iterfind(".//t:CalendarItem", NS)
    ]


def test_find_item_filters_and_sorts_on_extended_properties(ews: EwsServer) -> None:
    # DavMail's calendar condition: series masters, or singles (by instancetype).
    masters_or_recurring = (
        f"<m:Restriction><t:Or><t:IsEqualTo>{RECURRING}<t:FieldURIOrConstant>"
        '<t:Constant Value="true"/></t:FieldURIOrConstant></t:IsEqualTo>'
        f'<t:IsEqualTo>{INSTANCE}<t:FieldURIOrConstant><t:Constant Value="1"/>'
        "</t:FieldURIOrConstant></t:IsEqualTo></t:Or></m:Restriction>"
    )
    assert _find_calendar(ews, masters_or_recurring) == ["Weekly review:1"]
    descending = (
        f'<m:SortOrder><t:FieldOrder Order="Descending">{ARTICLE}</t:FieldOrder></m:SortOrder>'
    )
    assert _find_calendar(ews, "", descending) == ["Lunch:0", "Weekly review:1"]


def test_create_and_update_set_stored_and_bound_properties(ews: EwsServer) -> None:
    url_name = '<t:ExtendedFieldURI PropertyTag="0x10f3" PropertyType="String"/>'
    tag = (
        '<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" '
        'PropertyName="xmozlastack" PropertyType="String"/>'
    )
    content = _post(
        ews,
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
        f"<t:Subject>Planning</t:Subject><t:ExtendedProperty>{url_name}<t:Value>plan.EML"
        f"</t:Value></t:ExtendedProperty><t:ExtendedProperty>{tag}<t:Value>20260301T000000Z"
        "</t:Value></t:ExtendedProperty><t:Start>2026-03-25T10:00:00Z</t:Start>"
        "<t:End>2026-03-25T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>",
    )
    assert codes(content) == ["NoError"]
    item_id = messages(content)[0].find(".//t:ItemId", NS).get("Id")
    item = ews.store.item(item_id)
    assert item.url_name == "plan.EML"  # type: ignore[union-attr]
    assert ews.store.get_property(item, PropKey.named(PS_PUBLIC_STRINGS, "xmozlastack")) == (
        "20260301T000000Z"
    )
    subject = '<t:ExtendedFieldURI PropertyTag="0x37" PropertyType="String"/>'
    updated = _post(
        ews,
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" '
        'SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>'
        f'<t:ItemId Id="{item_id}"/><t:Updates><t:SetItemField>{subject}<t:CalendarItem>'
        f"<t:ExtendedProperty>{subject}<t:Value>Planning (final)</t:Value></t:ExtendedProperty>"
        f"</t:CalendarItem></t:SetItemField><t:DeleteItemField>{tag}</t:DeleteItemField>"
        "</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
    )
    assert codes(updated) == ["NoError"]
    assert item.subject == "Planning (final)"  # type: ignore[union-attr]
    assert ews.store.get_property(item, PropKey.named(PS_PUBLIC_STRINGS, "xmozlastack")) is None


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ('<t:ExtendedFieldURI PropertyTag="0x3602" PropertyId="1" PropertyType="Integer"/>',
         "ErrorInvalidExtendedProperty"),
        ('<t:ExtendedFieldURI DistinguishedPropertySetId="Common" PropertyType="Integer"/>',
         "ErrorInvalidExtendedProperty"),
        ('<t:ExtendedFieldURI PropertyTag="0xe23" PropertyType="Integer"/>',
         "ErrorInvalidPropertySet"),
    ],
)  # fmt: skip
def test_bad_or_computed_extended_updates_are_refused(ews: EwsServer, uri: str, code: str) -> None:
    lunch = ews.handles["lunch"]
    content = _post(
        ews,
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" '
        'SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>'
        f'<t:ItemId Id="{lunch.id}"/><t:Updates><t:SetItemField>{uri}<t:CalendarItem>'
        f"<t:ExtendedProperty>{uri}<t:Value>7</t:Value></t:ExtendedProperty></t:CalendarItem>"
        "</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
    )
    assert codes(content) == [code]
    assert lunch.subject == "Lunch"
