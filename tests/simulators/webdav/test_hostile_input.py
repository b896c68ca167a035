"""Hostile WebDAV requests: each gets a clear 4xx (or its answer) quickly, never a 500,
and no request can freeze the site for the others."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

from simulators.exchange.seed import SeedAppointment, add_appointment
from simulators.exchange.webdav.sql_eval import like_match
from tests.simulators.webdav.conftest import ALICE, DavSite

CALENDAR = f"/exchange/{ALICE}/Calendar/"
ALLPROP = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def _search(dav: DavSite, where: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    sql = (
        'SELECT "urn:schemas:httpmail:subject" FROM Scope(\'SHALLOW TRAVERSAL OF '
        f'"{CALENDAR}"\') WHERE {where}'
    )
    body = (
        '<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:">'
        f"<g:sql>{escape(sql)}</g:sql></g:searchrequest>"
    )
    response = dav.request("SEARCH", CALENDAR, body, headers=headers)
    return response.status_code, response.text


def test_like_on_a_long_subject_is_linear(dav: DavSite) -> None:
    add_appointment(
        dav.store,
        SeedAppointment(
            ALICE,
            "a" * 255,
            datetime(2026, 3, 16, 9, tzinfo=UTC),
            datetime(2026, 3, 16, 10, tzinfo=UTC),
        ),
    )
    started = time.monotonic()
    status, text = _search(dav, "\"urn:schemas:httpmail:subject\" LIKE '%a%a%a%a%a%a%a%a%b'")
    # A backtracking regex took 91 s on five '%a'; the walk takes milliseconds.
    assert status == 207 and time.monotonic() - started < 2.0
    assert "aaaa" not in text
    status, text = _search(dav, "\"urn:schemas:httpmail:subject\" LIKE '%a%a%a%a%a%a%a%a'")
    assert status == 207 and "a" * 255 in text


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("%smith%", "John SMITH jr", True),
        ("sm_th", "Smith", True),
        ("sm_th", "Smiith", False),
        ("%", "", True),
        ("_", "", False),
        ("a%b%c", "aXbYc", True),
        ("a%b%c", "aXbYcZ", False),
        ("%a%a%a%b", "a" * 255, False),
        ("STRASSE", "strasse", True),
        ("100%", "100 %", True),
    ],
)
def test_like_semantics(pattern: str, value: str, matches: bool) -> None:
    assert like_match(pattern, value) is matches


@pytest.mark.parametrize(
    "header", ["rows=0-" + "9" * 5000, "rows=" + "9" * 5000 + "-", "rows=" + "1" * 4301 + "-2"]
)
def test_a_range_with_thousands_of_digits_is_a_400(dav: DavSite, header: str) -> None:
    status, text = _search(dav, "\"urn:schemas:httpmail:subject\" = 'x'", {"Range": header})
    assert status == 400 and "at most 9 digits" in text and len(text) < 200


@pytest.mark.parametrize(
    "literal", ["'9999/12/31 23:59:59'", "'0001/01/01 00:00:00'", "'0001-01-01T00:00:00+01:00'"]
)
def test_date_literals_out_of_range_are_a_400(dav: DavSite, literal: str) -> None:
    status, text = _search(
        dav,
        f'"urn:schemas:calendar:dtstart" < {literal}'
        " AND \"urn:schemas:calendar:dtend\" > '2026/03/16 00:00:00'",
    )
    assert status == 400 and "1601-01-01 to 4500-12-31" in text


def test_proppatch_a_date_out_of_range_stores_nothing(dav: DavSite) -> None:
    body = (
        '<?xml version="1.0"?><a:propertyupdate xmlns:a="DAV:" xmlns:d="urn:schemas:calendar:"'
        ' xmlns:e="urn:schemas:httpmail:"><a:set><a:prop>'
        "<a:contentclass>urn:content-classes:appointment</a:contentclass>"
        "<e:subject>Far</e:subject><d:dtstart>9999-12-31T10:00:00Z</d:dtstart>"
        "<d:dtend>9999-12-31T23:00:00Z</d:dtend></a:prop></a:set></a:propertyupdate>"
    )
    response = dav.request("PROPPATCH", CALENDAR + "far.EML", body)
    assert response.status_code == 207 and "409 Conflict" in response.text
    folder = dav.store.distinguished_folder("calendar", ALICE)
    assert not [i for i in dav.store.items_in(folder) if getattr(i, "subject", "") == "Far"]


@pytest.mark.parametrize("path", ["/public/Customers/", f"/exchange/{ALICE}/Contacts/"])
def test_propfind_allprop_depth_1_on_a_contact_folder(dav: DavSite, path: str) -> None:
    response = dav.request("PROPFIND", path, ALLPROP, headers={"Depth": "1"})
    assert response.status_code == 207
    if path.startswith("/public/"):
        assert "Carla Customer" in response.text


@pytest.mark.parametrize(
    "path", ["scratch/%c0%ae", "scratch/%c0%ae%c0%ae/x", "scratch/%ff", "Calendar/%c0%ae.EML"]
)
@pytest.mark.parametrize("method", ["PUT", "GET", "PROPFIND", "MKCOL", "DELETE"])
def test_paths_that_are_not_utf8_are_a_400(dav: DavSite, path: str, method: str) -> None:
    response = dav.request(method, f"/exchange/{ALICE}/{path}", "x" if method == "PUT" else None)
    assert response.status_code == 400 and "not valid UTF-8" in response.text
