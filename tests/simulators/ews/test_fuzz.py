"""Bounded fuzz of the EWS endpoint: hostile dates, restrictions, ids and envelopes.
Every answer is a SOAP response or a documented HTTP error; never an internal error."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ALICE, EwsServer
from tests.fuzzing import DATES, FUZZ, TEXT, no_tracebacks
from tests.simulators.ews.soap import calendar_view, distinguished, envelope, fault_code, shape

CAL = distinguished("calendar", ALICE)


def _assert_answered(ews: EwsServer, body: str) -> None:
    response = ews.post(envelope(body, impersonate=ALICE))
    assert response.status_code in (200, 400, 413, 500), response.status_code
    if response.status_code == 500:
        assert fault_code(response.content) not in (None, "ErrorInternalServerError"), response.text


@FUZZ
@given(start=DATES, end=DATES, limit=st.one_of(st.none(), st.integers(-5, 10**12)))
def test_calendar_view(
    ews: EwsServer, caplog: pytest.LogCaptureFixture, start: str, end: str, limit: int | None
) -> None:
    _assert_answered(ews, calendar_view(start, end, CAL, max_entries=limit))
    no_tracebacks(caplog)


@FUZZ
@given(
    op=st.sampled_from(["IsGreaterThan", "IsLessThan", "IsEqualTo", "Contains"]),
    field=st.sampled_from(["calendar:Start", "item:Subject", "contacts:DisplayName", "x:y"]),
    value=st.one_of(DATES, TEXT),
)
def test_restrictions(
    ews: EwsServer, caplog: pytest.LogCaptureFixture, op: str, field: str, value: str
) -> None:
    constant = f"<t:Constant Value={quoteattr(value)}/>"
    inner = (
        f'<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">'
        f'<t:FieldURI FieldURI="{field}"/>{constant}</t:Contains>'
        if op == "Contains"
        else f'<t:{op}><t:FieldURI FieldURI="{field}"/><t:FieldURIOrConstant>{constant}'
        f"</t:FieldURIOrConstant></t:{op}>"
    )
    _assert_answered(
        ews,
        f'<m:FindItem Traversal="Shallow">{shape()}'
        '<m:IndexedPageItemView Offset="0" BasePoint="Beginning"/>'
        f"<m:Restriction>{inner}</m:Restriction><m:ParentFolderIds>{CAL}</m:ParentFolderIds>"
        "</m:FindItem>",
    )
    no_tracebacks(caplog)


@FUZZ
@given(
    start=DATES,
    end=DATES,
    subject=TEXT,
    day=st.sampled_from(["2026-03-16", "9999-12-20", "0001-01-01", "4500-12-18", "x"]),
)
def test_create_item(
    ews: EwsServer, caplog: pytest.LogCaptureFixture, start: str, end: str, subject: str, day: str
) -> None:
    recurrence = (
        "<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday"
        f"</t:DaysOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>{day}"
        "</t:StartDate></t:NoEndRecurrence></t:Recurrence>"
    )
    _assert_answered(
        ews,
        f'<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId>{CAL}'
        f"</m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>{escape(subject)}</t:Subject>"
        f"<t:Start>{start}</t:Start><t:End>{end}</t:End>{recurrence}</t:CalendarItem>"
        "</m:Items></m:CreateItem>",
    )
    # Whatever was stored, later reads of the mailbox still work.
    _assert_answered(ews, calendar_view("2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z", CAL))
    no_tracebacks(caplog)


@FUZZ
@given(item_id=TEXT, raw=st.binary(max_size=300))
def test_ids_and_raw_bodies(
    ews: EwsServer, caplog: pytest.LogCaptureFixture, item_id: str, raw: bytes
) -> None:
    _assert_answered(
        ews,
        f"<m:GetItem>{shape()}<m:ItemIds><t:ItemId Id={quoteattr(item_id)}/></m:ItemIds></m:GetItem>",
    )
    response = ews.post(raw)
    assert response.status_code in (400, 413, 415, 500)
    if response.status_code == 500:
        assert fault_code(response.content) not in (None, "ErrorInternalServerError")
    no_tracebacks(caplog)
