"""Dates near year 1 and 9999 over EWS: ErrorCalendarOutOfRange, never an internal error,
and a series that could overflow every later read is never stored."""

from __future__ import annotations

import pytest

from tests.conftest import ALICE, EwsServer
from tests.simulators.ews.soap import (
    calendar_view,
    codes,
    distinguished,
    envelope,
    fault_code,
    shape,
)

CAL = distinguished("calendar", ALICE)
WEEKLY_FROM_9999 = (
    "<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval>"
    "<t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>"
    "<t:NoEndRecurrence><t:StartDate>{day}</t:StartDate></t:NoEndRecurrence></t:Recurrence>"
)


def _create(start: str, end: str, recurrence: str = "") -> str:
    return (
        f'<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId>{CAL}'
        "</m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Far</t:Subject>"
        f"<t:Start>{start}</t:Start><t:End>{end}</t:End>{recurrence}"
        "</t:CalendarItem></m:Items></m:CreateItem>"
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z"),  # overflowed into a 500
        ("9999-12-30T00:00:00Z", "9999-12-31T23:00:00Z"),
        ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z"),
    ],
)
def test_calendar_view_at_the_ends_of_time(ews: EwsServer, start: str, end: str) -> None:
    response = ews.post(envelope(calendar_view(start, end, CAL), impersonate=ALICE))
    assert response.status_code == 500
    assert fault_code(response.content) == "ErrorCalendarOutOfRange"
    assert "outside the range Exchange keeps (1601-01-01 to 4500-12-31)" in response.text


@pytest.mark.parametrize(
    ("start", "end", "recurrence"),
    [
        ("9999-12-31T10:00:00Z", "9999-12-31T23:59:59Z", ""),
        ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", ""),
        ("9999-12-20T10:00:00Z", "9999-12-20T11:00:00Z", WEEKLY_FROM_9999.format(day="9999-12-20")),
        ("2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z", WEEKLY_FROM_9999.format(day="9999-12-20")),
    ],
)
def test_create_item_out_of_range_is_refused_per_item(
    ews: EwsServer, start: str, end: str, recurrence: str
) -> None:
    before = len(ews.store.items)
    response = ews.post(envelope(_create(start, end, recurrence), impersonate=ALICE))
    assert response.status_code == 200
    assert codes(response.content) == ["ErrorCalendarOutOfRange"]
    assert len(ews.store.items) == before


def test_a_series_at_the_edge_of_the_range_does_not_poison_later_reads(ews: EwsServer) -> None:
    created = ews.post(
        envelope(
            _create(
                "4500-12-18T10:00:00Z",
                "4500-12-18T11:00:00Z",
                WEEKLY_FROM_9999.format(day="4500-12-18"),
            ),
            impersonate=ALICE,
        )
    )
    assert codes(created.content) == ["NoError"]
    for start, end in (
        ("2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z"),
        ("4500-12-20T00:00:00Z", "4500-12-31T23:59:59Z"),
    ):
        read = ews.post(envelope(calendar_view(start, end, CAL), impersonate=ALICE))
        assert read.status_code == 200 and codes(read.content) == ["NoError"]


def test_a_restriction_constant_out_of_range(ews: EwsServer) -> None:
    restriction = (
        '<m:Restriction><t:IsGreaterThan><t:FieldURI FieldURI="calendar:Start"/>'
        '<t:FieldURIOrConstant><t:Constant Value="0001-01-01T00:00:00+05:00"/>'
        "</t:FieldURIOrConstant></t:IsGreaterThan></m:Restriction>"
    )
    body = (
        f'<m:FindItem Traversal="Shallow">{shape()}'
        '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'
        f"{restriction}<m:ParentFolderIds>{CAL}</m:ParentFolderIds></m:FindItem>"
    )
    response = ews.post(envelope(body, impersonate=ALICE))
    assert fault_code(response.content) == "ErrorCalendarOutOfRange"


def test_a_series_whose_occurrence_lasts_centuries_is_refused(ews: EwsServer) -> None:
    # Found by the fuzz test: both ends in range, but expanding it overflowed every read.
    response = ews.post(
        envelope(
            _create(
                "1601-01-01T00:00:00Z",
                "4500-12-31T23:59:59Z",
                WEEKLY_FROM_9999.format(day="2026-03-16"),
            ),
            impersonate=ALICE,
        )
    )
    assert codes(response.content) == ["ErrorCalendarDurationIsTooLong"]
    read = ews.post(
        envelope(
            calendar_view("2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z", CAL), impersonate=ALICE
        )
    )
    assert codes(read.content) == ["NoError"]
