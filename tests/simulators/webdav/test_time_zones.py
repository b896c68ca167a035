"""WebDAV with a series' own stored time-zone definition: SEARCH expands with it, the
item's iCalendar spells it out as its VTIMEZONE, and ``urn:schemas:calendar:timezone``
holds that VTIMEZONE."""

from __future__ import annotations

import email

from lxml import etree

from simulators.exchange.seed import add_appointment
from tests.seeds import old_us_rules_series
from tests.simulators.webdav.conftest import ALICE, DavSite
from tests.simulators.webdav.test_search import INSTANCES, NS, body, ok_prop, rows


def _series(dav: DavSite) -> str:
    """Add the old-rules series to Alice's calendar; its href."""
    add_appointment(dav.store, old_us_rules_series(ALICE))
    sql = (
        'SELECT "DAV:href", "urn:schemas:httpmail:subject" FROM '
        f"Scope('SHALLOW TRAVERSAL OF \"/exchange/{ALICE}/Calendar/\"') "
        'WHERE "urn:schemas:calendar:instancetype" = 1'
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    return next(
        r.findtext("a:href", namespaces=NS)
        for r in rows(response.content)
        if ok_prop(r, "e:subject").text == "NY standup"
    )


def test_instance_rows_follow_the_stored_definition(dav: DavSite) -> None:
    _series(dav)
    sql = INSTANCES.format(
        folder=f"/exchange/{ALICE}/Calendar/",
        lower="2026/03/01 00:00:00",
        upper="2026/04/14 00:00:00",
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    starts = [
        ok_prop(r, "d:dtstart").text
        for r in rows(response.content)
        if ok_prop(r, "e:subject").text == "NY standup"
    ]
    assert starts == [
        "2026-03-02T14:00:00.000Z",
        "2026-03-09T14:00:00.000Z",  # New York is at 13:00 UTC that day: the old rules are not
        "2026-03-16T14:00:00.000Z",
        "2026-03-23T14:00:00.000Z",
        "2026-03-30T14:00:00.000Z",
        "2026-04-06T13:00:00.000Z",
        "2026-04-13T13:00:00.000Z",
    ]


def test_the_icalendar_spells_the_definition_out(dav: DavSite) -> None:
    href = _series(dav)
    raw = dav.request("GET", href, headers={"Translate": "f"}).content
    [part] = [
        p for p in email.message_from_bytes(raw).walk() if p.get_content_type() == "text/calendar"
    ]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    ical = payload.decode("utf-8").replace("\r\n ", "")
    assert "TZID:(GMT-05:00) Eastern Time (US & Canada)" in ical  # the property: unquoted
    assert "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU" in ical  # daylight from the first Sunday
    assert "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU" in ical
    assert 'DTSTART;TZID="(GMT-05:00) Eastern Time (US & Canada)":20260302T090000' in ical


def test_the_timezone_property_holds_the_vtimezone(dav: DavSite) -> None:
    href = _series(dav)
    request = (
        '<?xml version="1.0"?><a:propfind xmlns:a="DAV:" xmlns:d="urn:schemas:calendar:">'
        "<a:prop><d:timezone/></a:prop></a:propfind>"
    )
    response = dav.request("PROPFIND", href, request, headers={"Depth": "0"})
    assert response.status_code == 207
    text = etree.fromstring(response.content).findtext(".//d:timezone", namespaces=NS)
    assert text.startswith("BEGIN:VTIMEZONE") and text.rstrip().endswith("END:VTIMEZONE")
    assert "TZOFFSETTO:-0400" in text and "BYDAY=1SU" in text
