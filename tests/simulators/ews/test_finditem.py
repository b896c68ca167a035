"""FindItem over raw SOAP: CalendarView expansion and limits, paged views,
restrictions, sort order and response shapes."""

from __future__ import annotations

import pytest

from tests.conftest import ALICE, EwsServer
from tests.simulators.ews.soap import (
    NS,
    calendar_view,
    codes,
    distinguished,
    envelope,
    messages,
    shape,
    texts,
)

CAL = distinguished("calendar", ALICE)
SPRING = ("2026-03-16T00:00:00Z", "2026-04-21T00:00:00Z")


def _find(ews: EwsServer, body: str) -> bytes:
    response = ews.post(envelope(body, impersonate=ALICE))
    assert response.status_code == 200, response.text
    return response.content


def _root(content: bytes) -> tuple[dict[str, str], list[object]]:
    root = messages(content)[0].find("m:RootFolder", NS)
    return dict(root.attrib), list(root.find("t:Items", NS))


def test_calendar_view_rows_and_paging_attributes(ews: EwsServer) -> None:
    fields = ("item:Subject", "calendar:Start", "calendar:CalendarItemType")
    attrs, items = _root(_find(ews, calendar_view(*SPRING, CAL, fields=fields)))

    assert attrs == {"TotalItemsInView": "6", "IncludesLastItemInRange": "true"}
    rows = [
        (
            i.findtext("t:Subject", namespaces=NS),
            i.findtext("t:Start", namespaces=NS),
            i.findtext("t:CalendarItemType", namespaces=NS),
        )
        for i in items
    ]
    assert rows == [
        ("Weekly review", "2026-03-16T08:00:00Z", "Occurrence"),
        ("Moved review", "2026-03-23T13:00:00Z", "Exception"),
        ("Weekly review", "2026-03-30T07:00:00Z", "Occurrence"),
        ("Lunch", "2026-03-30T10:00:00Z", "Single"),
        ("Weekly review", "2026-04-13T07:00:00Z", "Occurrence"),
        ("Weekly review", "2026-04-20T07:00:00Z", "Occurrence"),
    ]


def test_calendar_view_overlap_is_end_after_start_and_start_before_end(ews: EwsServer) -> None:
    # The lunch runs 10:00-11:00Z: a view ending at 10:00 or starting at 11:00 misses it.
    fields = ("item:Subject",)
    before = _root(
        _find(
            ews, calendar_view("2026-03-30T09:00:00Z", "2026-03-30T10:00:00Z", CAL, fields=fields)
        )
    )
    during = _root(
        _find(
            ews, calendar_view("2026-03-30T10:59:59Z", "2026-03-30T11:00:00Z", CAL, fields=fields)
        )
    )
    after = _root(
        _find(
            ews, calendar_view("2026-03-30T11:00:00Z", "2026-03-30T12:00:00Z", CAL, fields=fields)
        )
    )
    assert [len(before[1]), len(during[1]), len(after[1])] == [0, 1, 0]


def test_max_entries_returns_the_first_rows_and_says_so(ews: EwsServer) -> None:
    attrs, items = _root(_find(ews, calendar_view(*SPRING, CAL, max_entries=2)))
    assert attrs == {"TotalItemsInView": "6", "IncludesLastItemInRange": "false"}
    assert len(items) == 2


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "NoError"),
        ("2026-01-01T00:00:00Z", "2028-01-01T00:00:01Z", "ErrorCalendarViewRangeTooBig"),
        ("2026-01-01T00:00:00Z", "2029-06-01T00:00:00Z", "ErrorCalendarViewRangeTooBig"),
        (
            "2026-02-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "ErrorCalendarEndDateIsEarlierThanStartDate",
        ),
    ],
)
def test_calendar_view_range_limits(ews: EwsServer, start: str, end: str, code: str) -> None:
    assert codes(_find(ews, calendar_view(start, end, CAL))) == [code]


def test_calendar_view_needs_a_calendar_folder(ews: EwsServer) -> None:
    content = _find(ews, calendar_view(*SPRING, distinguished("contacts", ALICE)))
    assert codes(content) == ["ErrorCalendarFolderIsInvalidForCalendarView"]


def test_without_calendar_view_nothing_is_expanded(ews: EwsServer) -> None:
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", "calendar:CalendarItemType", "item:Subject")}'
        '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'
        f"<m:ParentFolderIds>{CAL}</m:ParentFolderIds></m:FindItem>"
    )
    attrs, items = _root(_find(ews, body))
    assert [
        (i.findtext("t:Subject", namespaces=NS), i.findtext("t:CalendarItemType", namespaces=NS))
        for i in items
    ] == [
        ("Weekly review", "RecurringMaster"),
        ("Lunch", "Single"),
    ]
    assert attrs["TotalItemsInView"] == "2"


def _customers(ews: EwsServer) -> str:
    folder = next(f for f in ews.store.folders.values() if f.display_name == "Customers")
    return f'<t:FolderId Id="{folder.id}"/>'


ALL_ROWS = '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'


def _contacts(ews: EwsServer, restriction: str, view: str = ALL_ROWS, sort: str = "") -> list[str]:
    where = f"<m:Restriction>{restriction}</m:Restriction>" if restriction else ""
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", "contacts:DisplayName")}'
        f"{view}{where}{sort}"
        f"<m:ParentFolderIds>{_customers(ews)}</m:ParentFolderIds></m:FindItem>"
    )
    content = _find(ews, body)
    assert codes(content) == ["NoError"], content
    return texts(messages(content)[0], "m:RootFolder/t:Items/t:Contact/t:DisplayName")


def _contains(
    value: str,
    mode: str = "Substring",
    comparison: str = "IgnoreCase",
    field: str = "contacts:DisplayName",
) -> str:
    return (
        f'<t:Contains ContainmentMode="{mode}" ContainmentComparison="{comparison}">'
        f'<t:FieldURI FieldURI="{field}"/><t:Constant Value="{value}"/></t:Contains>'
    )


def _compare(op: str, field: str, value: str) -> str:
    return (
        f'<t:{op}><t:FieldURI FieldURI="{field}"/><t:FieldURIOrConstant>'
        f'<t:Constant Value="{value}"/></t:FieldURIOrConstant></t:{op}>'
    )


@pytest.mark.parametrize(
    ("restriction", "expected"),
    [
        (_contains("carl"), ["Carla Customer", "Carlos Other"]),
        (_contains("carl", comparison="Exact"), []),
        (_contains("Carla", comparison="Exact"), ["Carla Customer"]),
        (_contains("Cust", mode="Prefixed"), []),
        (_contains("cust", mode="PrefixOnWords"), ["Carla Customer"]),
        (_contains("carla customer", mode="FullString"), ["Carla Customer"]),
        (
            _compare("IsEqualTo", "contacts:CompanyName", "kunde gmbh"),
            ["Carla Customer", "Dieter Kunde"],
        ),
        (_compare("IsGreaterThan", "contacts:Surname", "Kunde"), ["Carlos Other"]),
        (_compare("IsLessThan", "contacts:GivenName", "Carlos"), ["Carla Customer"]),
        (
            f"<t:And>{_contains('carl')}{_compare('IsEqualTo', 'contacts:CompanyName', 'Kunde GmbH')}</t:And>",
            ["Carla Customer"],
        ),
        (
            f"<t:Or>{_contains('dieter')}{_contains('other')}</t:Or>",
            ["Carlos Other", "Dieter Kunde"],
        ),
        (f"<t:Not>{_contains('carl')}</t:Not>", ["Dieter Kunde"]),
        (
            '<t:IsEqualTo><t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="HomePhone"/>'
            '<t:FieldURIOrConstant><t:Constant Value="+49 30 777"/></t:FieldURIOrConstant></t:IsEqualTo>',
            ["Dieter Kunde"],
        ),
        ("", ["Carla Customer", "Carlos Other", "Dieter Kunde"]),
    ],
)
def test_restrictions_on_contacts(ews: EwsServer, restriction: str, expected: list[str]) -> None:
    assert _contacts(ews, restriction) == expected


def test_sort_order_and_indexed_paging(ews: EwsServer) -> None:
    sort = (
        '<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="contacts:DisplayName"/>'
        "</t:FieldOrder></m:SortOrder>"
    )
    assert _contacts(ews, "", sort=sort) == ["Dieter Kunde", "Carlos Other", "Carla Customer"]
    view = '<m:IndexedPageItemView MaxEntriesReturned="1" Offset="1" BasePoint="Beginning"/>'
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly")}{view}'
        f"<m:ParentFolderIds>{_customers(ews)}</m:ParentFolderIds></m:FindItem>"
    )
    attrs, items = _root(_find(ews, body))
    assert attrs == {
        "IndexedPagingOffset": "2",
        "TotalItemsInView": "3",
        "IncludesLastItemInRange": "false",
    }
    assert len(items) == 1


def test_restriction_on_a_date_in_the_calendar(ews: EwsServer) -> None:
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", "item:Subject")}'
        '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'
        f"<m:Restriction>{_compare('IsGreaterThan', 'calendar:Start', '2026-03-20T00:00:00Z')}</m:Restriction>"
        f"<m:ParentFolderIds>{CAL}</m:ParentFolderIds></m:FindItem>"
    )
    assert texts(messages(_find(ews, body))[0], ".//t:Subject") == ["Lunch"]


def test_restriction_with_calendar_view_is_refused(ews: EwsServer) -> None:
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly")}'
        f'<m:CalendarView StartDate="{SPRING[0]}" EndDate="{SPRING[1]}"/>'
        f"<m:Restriction>{_contains('x', field='item:Subject')}</m:Restriction>"
        f"<m:ParentFolderIds>{CAL}</m:ParentFolderIds></m:FindItem>"
    )
    assert codes(_find(ews, body)) == ["ErrorInvalidRestriction"]


def _children(content: bytes) -> list[str]:
    item = messages(content)[0].find("m:RootFolder/t:Items/*", NS)
    return [c.tag.rpartition("}")[2] for c in item]


def test_shapes_select_properties(ews: EwsServer) -> None:
    window = ("2026-03-30T09:00:00Z", "2026-03-30T11:00:00Z")  # the lunch only
    id_only = _children(_find(ews, calendar_view(*window, CAL)))
    extra = _children(
        _find(ews, calendar_view(*window, CAL, fields=("item:DateTimeCreated", "calendar:End")))
    )
    default = _children(
        _find(
            ews, calendar_view(*window, CAL).replace("<t:BaseShape>IdOnly", "<t:BaseShape>Default")
        )
    )
    everything = _children(
        _find(
            ews,
            calendar_view(*window, CAL).replace(
                "<t:BaseShape>IdOnly", "<t:BaseShape>AllProperties"
            ),
        )
    )
    assert id_only == ["ItemId"]
    assert extra == ["ItemId", "DateTimeCreated", "End"]
    assert default == [
        "ItemId",
        "ParentFolderId",
        "ItemClass",
        "Subject",
        "HasAttachments",
        "Start",
        "End",
        "IsAllDayEvent",
        "LegacyFreeBusyStatus",
        "Location",
        "CalendarItemType",
        "Organizer",
    ]
    assert {"UID", "Duration", "TimeZone", "LastModifiedTime"} <= set(everything)
    assert "MeetingTimeZone" not in everything  # exchangelib cannot read the 2007 shape
    assert "Body" not in everything  # FindItem never returns bodies
    assert (
        everything.index("LastModifiedTime") < everything.index("UID") < everything.index("Start")
    )


def test_indexed_field_uri_selects_dictionary_entries(ews: EwsServer) -> None:
    body = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", "contacts:PhoneNumber#MobilePhone")}'
        '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'
        f"<m:Restriction>{_contains('Carla')}</m:Restriction>"
        f"<m:ParentFolderIds>{_customers(ews)}</m:ParentFolderIds></m:FindItem>"
    )
    contact = messages(_find(ews, body))[0].find(".//t:Contact", NS)
    entries = contact.findall("t:PhoneNumbers/t:Entry", NS)
    assert [(e.get("Key"), e.text) for e in entries] == [("MobilePhone", "+49 171 555")]
