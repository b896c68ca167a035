"""Every operation's responses validate against the Exchange 2007 SP1 schema.

Needs ``EWS_SCHEMA_DIR`` (the folder with messages.xsd); skips without it. The
``ews`` fixture also validates every response of every test at teardown; this
file makes sure each operation, success and error shapes alike, is exercised.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from simulators.exchange.ews import EwsOptions
from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from tests.conftest import ALICE, BOB, DOMAIN, EwsServer, default_seed
from tests.schema_check import SKIP_REASON, load_schema, response_errors, schema_dir
from tests.simulators.ews.soap import calendar_view, codes, distinguished, envelope, shape

pytestmark = [
    pytest.mark.schema,
    pytest.mark.skipif(schema_dir() is None, reason=SKIP_REASON),
]


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    folder = schema_dir()
    assert folder is not None
    return load_schema(str(folder))


def _valid(schema: etree.XMLSchema, content: bytes) -> None:
    assert response_errors(content, schema) == []


def _requests(ews: EwsServer) -> Iterator[tuple[str, str]]:
    """(expected first ResponseCode, body) for every operation and its error shapes."""
    weekly, lunch = ews.handles["weekly"], ews.handles["lunch"]
    customers = next(f for f in ews.store.folders.values() if f.display_name == "Customers")
    contact = ews.store.items_in(customers)[0]
    folder_ids = (
        distinguished("root", ALICE)
        + distinguished("calendar", ALICE)
        + distinguished("contacts", ALICE)
        + distinguished("inbox", ALICE)
        + distinguished("publicfoldersroot")
        + f'<t:FolderId Id="{customers.id}"/>'
    )
    for base in ("IdOnly", "Default", "AllProperties"):
        yield (
            "NoError",
            f"<m:GetFolder>{shape(base, tag='m:FolderShape')}<m:FolderIds>{folder_ids}</m:FolderIds></m:GetFolder>",
        )
    yield (
        "ErrorNonExistentMailbox",
        f"<m:GetFolder>{shape(tag='m:FolderShape')}<m:FolderIds>{distinguished('calendar', 'x@' + DOMAIN)}</m:FolderIds></m:GetFolder>",
    )
    for traversal, parent in (
        ("Shallow", "publicfoldersroot"),
        ("Deep", "root"),
        ("Deep", "publicfoldersroot"),
    ):
        code = (
            "ErrorInvalidOperation"
            if traversal == "Deep" and parent.startswith("public")
            else "NoError"
        )
        yield (
            code,
            (
                f'<m:FindFolder Traversal="{traversal}">{shape("AllProperties", tag="m:FolderShape")}'
                f"<m:ParentFolderIds>{distinguished(parent, ALICE)}</m:ParentFolderIds></m:FindFolder>"
            ),
        )
    everything = (
        "item:Subject",
        "calendar:Start",
        "calendar:End",
        "calendar:CalendarItemType",
        "calendar:IsRecurring",
        "calendar:LegacyFreeBusyStatus",
        "item:DateTimeCreated",
        "item:LastModifiedTime",
        "calendar:Organizer",
        "calendar:MeetingTimeZone",
    )
    cal = distinguished("calendar", ALICE)
    yield (
        "NoError",
        calendar_view("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", cal, fields=everything),
    )
    yield (
        "NoError",
        calendar_view("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", cal, max_entries=1),
    )
    yield (
        "NoError",
        calendar_view("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", cal).replace(
            "IdOnly", "AllProperties"
        ),
    )
    yield (
        "ErrorCalendarViewRangeTooBig",
        calendar_view("2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z", cal),
    )
    yield (
        "NoError",
        (
            f'<m:FindItem Traversal="Shallow">{shape("AllProperties")}'
            '<m:IndexedPageItemView MaxEntriesReturned="2" Offset="0" BasePoint="Beginning"/>'
            f'<m:ParentFolderIds><t:FolderId Id="{customers.id}"/>{cal}</m:ParentFolderIds></m:FindItem>'
        ),
    )
    occurrence = ews.store.calendar_view(
        ews.store.distinguished_folder("calendar", ALICE), weekly.start, weekly.end
    )[0]
    ids = (
        f'<t:ItemId Id="{weekly.id}"/><t:ItemId Id="{occurrence.id}"/><t:ItemId Id="{lunch.id}"/>'
        f'<t:ItemId Id="{contact.id}"/>'
        f'<t:OccurrenceItemId RecurringMasterId="{weekly.id}" InstanceIndex="2"/>'
    )
    for base in ("IdOnly", "Default", "AllProperties"):
        yield "NoError", f"<m:GetItem>{shape(base)}<m:ItemIds>{ids}</m:ItemIds></m:GetItem>"
    yield (
        "ErrorItemNotFound",
        f'<m:GetItem>{shape()}<m:ItemIds><t:ItemId Id="AAMkNone"/></m:ItemIds></m:GetItem>',
    )
    yield (
        "NoError",
        (
            '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
            '<t:Subject>New</t:Subject><t:Body BodyType="Text">Agenda</t:Body>'
            "<t:Start>2026-06-01T10:00:00Z</t:Start><t:End>2026-06-01T11:00:00Z</t:End>"
            "<t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval>"
            "<t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex>"
            "</t:RelativeMonthlyRecurrence><t:EndDateRecurrence><t:StartDate>2026-06-01</t:StartDate>"
            "<t:EndDate>2026-12-31</t:EndDate></t:EndDateRecurrence></t:Recurrence>"
            '<t:MeetingTimeZone TimeZoneName="W. Europe Standard Time"/>'
            "</t:CalendarItem></m:Items></m:CreateItem>"
        ),
    )
    yield (
        "ErrorSendMeetingInvitationsRequired",
        (
            "<m:CreateItem><m:Items><t:CalendarItem><t:Start>2026-06-01T10:00:00Z</t:Start>"
            "<t:End>2026-06-01T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>"
        ),
    )
    yield (
        "NoError",
        (
            f'<m:CreateItem><m:SavedItemFolderId><t:FolderId Id="{customers.id}"/></m:SavedItemFolderId>'
            "<m:Items><t:Contact><t:DisplayName>Neu</t:DisplayName></t:Contact></m:Items></m:CreateItem>"
        ),
    )
    yield (
        "NoError",
        (
            '<m:UpdateItem ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToNone">'
            f'<m:ItemChanges><t:ItemChange><t:ItemId Id="{occurrence.id}"/><t:Updates>'
            '<t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem>'
            "<t:Location>Elsewhere</t:Location></t:CalendarItem></t:SetItemField>"
            "</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
        ),
    )
    yield (
        "ErrorItemNotFound",
        (
            '<m:UpdateItem ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange>'
            '<t:ItemId Id="AAMkNone"/><t:Updates><t:DeleteItemField><t:FieldURI FieldURI="item:Subject"/>'
            "</t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
        ),
    )
    yield (
        "NoError",
        (
            '<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone">'
            f'<m:ItemIds><t:ItemId Id="{lunch.id}"/></m:ItemIds></m:DeleteItem>'
        ),
    )
    yield (
        "ErrorItemNotFound",
        (
            '<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone">'
            f'<m:ItemIds><t:ItemId Id="{lunch.id}"/></m:ItemIds></m:DeleteItem>'
        ),
    )
    yield from _mail_requests(ews)
    for entry, code in (
        ("alice", "NoError"),
        ("Bob", "ErrorNameResolutionMultipleResults"),
        ("zz", "ErrorNameResolutionNoResults"),
    ):
        yield (
            code,
            (
                '<m:ResolveNames ReturnFullContactData="true" SearchScope="ActiveDirectory">'
                f"<m:UnresolvedEntry>{entry}</m:UnresolvedEntry></m:ResolveNames>"
            ),
        )


def _mail_requests(ews: EwsServer) -> Iterator[tuple[str, str]]:
    """The operations and shapes the DavMail work added (extended properties, mail,
    ConvertId, moves, folders)."""
    root = ews.store.distinguished_folder("root", ALICE)
    item = ews.store.deliver_message(
        ALICE, subject="Hi", sender=BOB, recipients=[ALICE], mime=b"Subject: Hi\r\n\r\nx\r\n"
    )
    tag = '<t:ExtendedFieldURI PropertyTag="0xe23" PropertyType="Integer"/>'
    extended = f"<m:FolderShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties>{tag}"
    extended += '<t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/>'
    extended += "</t:AdditionalProperties></m:FolderShape>"
    yield (
        "NoError",
        (
            f"<m:GetFolder>{extended}<m:FolderIds>{distinguished('junkemail', ALICE)}"
            f"{distinguished('voicemail', ALICE)}</m:FolderIds></m:GetFolder>"
        ),
    )
    yield (
        "NoError",
        (
            '<m:ConvertId DestinationFormat="EwsId"><m:SourceIds>'
            f'<t:AlternateId Format="EwsId" Id="{root.id}" Mailbox="x@y.z"/></m:SourceIds></m:ConvertId>'
        ),
    )
    yield (
        "NoError",
        (
            '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>'
            f"<t:AdditionalProperties>{tag}</t:AdditionalProperties></m:ItemShape>"
            f'<m:SortOrder><t:FieldOrder Order="Descending">{tag}</t:FieldOrder></m:SortOrder>'
            f"<m:ParentFolderIds>{distinguished('inbox', ALICE)}</m:ParentFolderIds></m:FindItem>"
        ),
    )
    yield (
        "NoError",
        (
            "<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>"
            "<t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>"
            f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:GetItem>'
        ),
    )
    yield (
        "NoError",
        (
            '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message>'
            "<t:Subject>Draft</t:Subject></t:Message></m:Items></m:CreateItem>"
        ),
    )
    yield (
        "NoError",
        (
            f"<m:CopyItem><m:ToFolderId>{distinguished('drafts', ALICE)}</m:ToFolderId>"
            f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:CopyItem>'
        ),
    )
    yield (
        "NoError",
        (
            f"<m:MoveItem><m:ToFolderId>{distinguished('deleteditems', ALICE)}</m:ToFolderId>"
            f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:MoveItem>'
        ),
    )
    yield (
        "NoError",
        (
            f"<m:CreateFolder><m:ParentFolderId>{distinguished('msgfolderroot', ALICE)}"
            "</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>Made</t:DisplayName>"
            "</t:Folder></m:Folders></m:CreateFolder>"
        ),
    )
    made = next(f for f in ews.store.folders.values() if f.display_name == "Made")
    yield (
        "NoError",
        (
            f'<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id="{made.id}"/>'
            '<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder>'
            "<t:DisplayName>Made2</t:DisplayName></t:Folder></t:SetFolderField></t:Updates>"
            "</t:FolderChange></m:FolderChanges></m:UpdateFolder>"
        ),
    )
    yield (
        "NoError",
        (
            f"<m:MoveFolder><m:ToFolderId>{distinguished('inbox', ALICE)}</m:ToFolderId>"
            f'<m:FolderIds><t:FolderId Id="{made.id}"/></m:FolderIds></m:MoveFolder>'
        ),
    )
    yield (
        "NoError",
        (
            f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds><t:FolderId Id="{made.id}"/>'
            "</m:FolderIds></m:DeleteFolder>"
        ),
    )
    yield (
        "ErrorDeleteDistinguishedFolder",
        (
            f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds>{distinguished("inbox", ALICE)}'
            "</m:FolderIds></m:DeleteFolder>"
        ),
    )


def test_every_operation_validates(ews: EwsServer, schema: etree.XMLSchema) -> None:
    seen: set[str] = set()
    for expected, body in _requests(ews):
        response = ews.post(envelope(body, impersonate=ALICE))
        assert response.status_code == 200, response.text
        assert codes(response.content)[0] == expected, body
        _valid(schema, response.content)
        seen.add(body.split(" ", 1)[0].split(">", 1)[0])
    assert seen == {
        "<m:GetFolder",
        "<m:FindFolder",
        "<m:FindItem",
        "<m:GetItem",
        "<m:CreateItem",
        "<m:UpdateItem",
        "<m:DeleteItem",
        "<m:ResolveNames",
        "<m:ConvertId",
        "<m:CopyItem",
        "<m:MoveItem",
        "<m:CreateFolder",
        "<m:UpdateFolder",
        "<m:MoveFolder",
        "<m:DeleteFolder",
    }


@pytest.fixture(scope="module")
def mtz_site() -> Iterator[RunningSite]:
    store = ExchangeStore(domain=DOMAIN)
    site = start_site(store, options=EwsOptions(meeting_time_zone=True), journal=RequestJournal())
    apply_seed(store, default_seed())
    yield site
    site.stop()


def test_meeting_time_zone_shape_validates(mtz_site: RunningSite, schema: etree.XMLSchema) -> None:
    server = EwsServer(mtz_site, {})
    master = next(i for i in mtz_site.store.all_calendar_items() if i.recurrence)
    body = (
        f"<m:GetItem>{shape('IdOnly', 'calendar:MeetingTimeZone')}"
        f'<m:ItemIds><t:ItemId Id="{master.id}"/></m:ItemIds></m:GetItem>'
    )
    response = server.post(envelope(body, impersonate=ALICE))
    assert b"<t:MeetingTimeZone TimeZoneName=" in response.content
    _valid(schema, response.content)


def test_the_checker_catches_a_misordered_item(schema: etree.XMLSchema) -> None:
    bad = envelope(
        '<m:GetItemResponse><m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success">'
        "<m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:Start>"
        "2026-01-01T00:00:00Z</t:Start><t:Subject>x</t:Subject></t:CalendarItem></m:Items>"
        "</m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse>"
    ).encode()
    problems = response_errors(bad, schema)
    assert len(problems) == 1
    assert "Subject" in problems[0]
