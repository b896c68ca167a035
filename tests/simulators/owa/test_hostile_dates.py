"""OWA pages and forms with dates near year 1 and 9999: a 400 page saying what to type,
never a 500, and nothing stored."""

from __future__ import annotations

import pytest

from tests.simulators.owa.conftest import log_in
from tests.simulators.owa.test_pages import _items, _save
from tests.simulators.webdav.conftest import ALICE_AUTH, DavSite


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-03", "9999-12-31", "9999-12-28"])
def test_week_view_at_the_ends_of_time(dav: DavSite, day: str) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        week = client.get("/owa/", params={"date": day})
        new = client.get("/owa/appointment/new", params={"date": day})
    for page in (week, new):
        assert page.status_code == 400
        assert "1601-01-01 to 4500-12-31" in page.text and "Traceback" not in page.text


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": "9999-12-31", "end_date": "9999-12-31"},
        {"start_date": "0001-01-01", "end_date": "0001-01-01"},
        {"start_date": "2026-03-30", "end_date": "9999-12-31"},
        {"all_day": "1", "start_date": "9999-12-31", "end_date": "9999-12-31"},
        {"recurs": "1", "days": ["Monday"], "until": "9999-12-31"},
    ],
)
def test_forms_refuse_dates_out_of_range(dav: DavSite, fields: dict[str, str]) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        response = _save(client, subject="Far away", **fields)
    assert response.status_code == 400
    assert "Enter a date from 1601-01-01 to 4500-12-31" in response.text
    assert not _items(dav, "Far away")


def test_the_edge_of_the_range_works(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        saved = _save(client, subject="Edge", start_date="4500-12-20", end_date="4500-12-20")
        week = client.get("/owa/", params={"date": "4500-12-20"})
    assert saved.status_code == 302 and week.status_code == 200 and "Edge" in week.text
