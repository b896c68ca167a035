"""Bounded fuzz of OWA pages and forms: dates, times, counts and ids of every kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, TEXT, no_tracebacks
from tests.simulators.owa.conftest import canary, log_in
from tests.simulators.webdav.conftest import ALICE_AUTH, DavSite

DAYS = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "4500-12-31", "1601-01-01", "2026-02-30", ""]),
    TEXT,
)


@FUZZ
@given(day=DAYS, item_id=TEXT, mailbox=TEXT)
def test_pages(
    dav: DavSite, caplog: pytest.LogCaptureFixture, day: str, item_id: str, mailbox: str
) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        for path, params in (
            ("/owa/", {"date": day}),
            ("/owa/appointment/new", {"date": day}),
            ("/owa/appointment/edit", {"id": item_id}),
            ("/owa/", {"mailbox": mailbox}),
        ):
            assert client.get(path, params=params).status_code < 500
    no_tracebacks(caplog)


@FUZZ
@given(
    start_date=DAYS,
    end_date=DAYS,
    start_time=st.one_of(st.sampled_from(["09:00", "24:00", "23:59", "9", ""]), TEXT),
    count=st.one_of(st.sampled_from(["", "0", "999", "1000", "9" * 5000]), TEXT),
    until=DAYS,
    recurs=st.booleans(),
)
def test_save_form(
    dav: DavSite,
    caplog: pytest.LogCaptureFixture,
    start_date: str,
    end_date: str,
    start_time: str,
    count: str,
    until: str,
    recurs: bool,
) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        page = client.get("/owa/appointment/new", params={"date": "2026-03-30"})
        data = {
            "hidcanary": canary(page.text),
            "subject": "Fuzz",
            "start_date": start_date,
            "start_time": start_time,
            "end_date": end_date,
            "end_time": "10:00",
            "busy_status": "Busy",
            "count": count,
            "until": until if not count else "",
            "days": ["Monday"],
        }
        if recurs:
            data["recurs"] = "1"
        assert client.post("/owa/appointment/save", data=data).status_code < 500
        # Whatever was saved, the week views around it still render.
        assert client.get("/owa/", params={"date": "2026-03-30"}).status_code == 200
    no_tracebacks(caplog)
