"""PROPPATCH creating and updating appointments, DELETE, and GET with Translate: f
(the item as MIME with an iCalendar part), checked against the store and with
Python's e-mail parser."""

from __future__ import annotations

import email
from datetime import UTC, datetime

from lxml import etree

from simulators.exchange.model import CalendarItem
from tests.simulators.webdav.conftest import ALICE, DavSite

NS = {"a": "DAV:", "d": "urn:schemas:calendar:", "e": "urn:schemas:httpmail:"}

CREATE = """<?xml version="1.0"?>
<a:propertyupdate xmlns:a="DAV:" xmlns:b="urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"
 xmlns:e="urn:schemas:httpmail:" xmlns:d="urn:schemas:calendar:"
 xmlns:x="http://schemas.microsoft.com/exchange/"><a:set><a:prop>
<a:contentclass>urn:content-classes:appointment</a:contentclass>
<x:outlookmessageclass>IPM.Appointment</x:outlookmessageclass>
<e:subject>{subject}</e:subject>
<d:dtstart b:dt="dateTime.tz">{start}</d:dtstart>
<d:dtend b:dt="dateTime.tz">{end}</d:dtend>
<d:busystatus>BUSY</d:busystatus>
<d:location>Canteen</d:location>
</a:prop></a:set></a:propertyupdate>"""


def _calendar_items(dav: DavSite) -> list[CalendarItem]:
    folder = dav.store.distinguished_folder("calendar", ALICE)
    return [i for i in dav.store.items_in(folder) if isinstance(i, CalendarItem)]


def test_proppatch_on_a_new_name_creates_the_appointment(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/Calendar/meeting-1.EML"
    xml = CREATE.format(
        subject="Meeting", start="2026-01-05T11:00:00.000Z", end="2026-01-05T12:00:00.000Z"
    )
    response = dav.request("PROPPATCH", path, xml)
    assert response.status_code == 207
    assert response.headers["content-type"] == "text/xml"
    root = etree.fromstring(response.content)
    assert (
        root.findtext("a:response/a:href", namespaces=NS)
        == f"{dav.url}/exchange/{ALICE}/Calendar/meeting-1.EML"
    )
    assert root.findtext("a:response/a:status", namespaces=NS) == "HTTP/1.1 201 Created"
    assert root.xpath("//a:propstat/a:status/text()", namespaces=NS) == ["HTTP/1.1 200 OK"]
    [created] = [i for i in _calendar_items(dav) if i.subject == "Meeting"]
    assert created.start == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    assert created.end == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert created.busy_status == "Busy" and created.location == "Canteen"
    assert created.time_zone == "Europe/Berlin"  # the mailbox's zone
    # The client's name stays the item's URL.
    again = dav.request("PROPFIND", path, headers={"Depth": "0"})
    assert again.status_code == 207


def test_proppatch_updates_an_existing_appointment(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/Calendar/meeting-2.EML"
    dav.request(
        "PROPPATCH",
        path,
        CREATE.format(subject="Draft", start="2026-01-05T11:00:00Z", end="2026-01-05T12:00:00Z"),
    )
    update = """<?xml version="1.0"?><a:propertyupdate xmlns:a="DAV:" xmlns:e="urn:schemas:httpmail:"
    xmlns:d="urn:schemas:calendar:"><a:set><a:prop><e:subject>Final</e:subject>
    <d:dtend>2026-01-05T12:30:00.000Z</d:dtend><d:busystatus>OUTOFOFFICE</d:busystatus>
    </a:prop></a:set><a:remove><a:prop><d:location/></a:prop></a:remove></a:propertyupdate>"""
    response = dav.request("PROPPATCH", path, update)
    root = etree.fromstring(response.content)
    assert root.find("a:response/a:status", NS) is None  # an update is not a creation
    assert root.xpath("//a:propstat/a:status/text()", namespaces=NS) == ["HTTP/1.1 200 OK"]
    [item] = [i for i in _calendar_items(dav) if i.subject == "Final"]
    assert item.end == datetime(2026, 1, 5, 12, 30, tzinfo=UTC)
    assert item.busy_status == "OOF" and item.location == ""
    assert item.version == 2


def test_proppatch_with_end_before_start_changes_nothing(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/Calendar/bad.EML"
    xml = CREATE.format(subject="Bad", start="2026-01-05T12:00:00Z", end="2026-01-05T11:00:00Z")
    root = etree.fromstring(dav.request("PROPPATCH", path, xml).content)
    statuses = root.xpath("//a:propstat/a:status/text()", namespaces=NS)
    assert "HTTP/1.1 409 Conflict" in statuses and "HTTP/1.1 424 Failed Dependency" in statuses
    assert "HTTP/1.1 200 OK" not in statuses
    assert not [i for i in _calendar_items(dav) if i.subject == "Bad"]


def test_proppatch_with_a_garbled_date_is_409_for_that_property(dav: DavSite) -> None:
    xml = CREATE.format(subject="X", start="next monday", end="2026-01-05T11:00:00Z")
    root = etree.fromstring(
        dav.request("PROPPATCH", f"/exchange/{ALICE}/Calendar/x.EML", xml).content
    )
    conflict = root.xpath("//a:propstat[a:status='HTTP/1.1 409 Conflict']/a:prop/*", namespaces=NS)
    assert [etree.QName(e).localname for e in conflict] == ["dtstart"]


def test_items_are_created_only_in_calendar_folders(dav: DavSite) -> None:
    xml = CREATE.format(subject="X", start="2026-01-05T11:00:00Z", end="2026-01-05T12:00:00Z")
    assert dav.request("PROPPATCH", f"/exchange/{ALICE}/Inbox/x.EML", xml).status_code == 403


def test_delete_answers_200_and_removes_the_item(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/Calendar/gone.EML"
    dav.request(
        "PROPPATCH",
        path,
        CREATE.format(subject="Gone", start="2026-01-05T11:00:00Z", end="2026-01-05T12:00:00Z"),
    )
    response = dav.request("DELETE", path)
    assert response.status_code == 200
    assert not [i for i in _calendar_items(dav) if i.subject == "Gone"]
    assert dav.request("DELETE", path).status_code == 404
    assert dav.request("DELETE", f"/exchange/{ALICE}/Calendar/").status_code == 403


def _calendar_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    assert message.is_multipart()
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8").replace("\r\n ", "")


def test_get_translate_f_returns_a_single_as_icalendar(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/Calendar/lunch2.EML"
    dav.request(
        "PROPPATCH",
        path,
        CREATE.format(
            subject="Lunch; with, team", start="2026-01-05T11:00:00Z", end="2026-01-05T12:00:00Z"
        ),
    )
    response = dav.request("GET", path, headers={"Translate": "f"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "message/rfc822"
    ical = _calendar_part(response.content)
    assert "BEGIN:VEVENT" in ical and "END:VCALENDAR" in ical
    assert "DTSTART:20260105T110000Z" in ical and "DTEND:20260105T120000Z" in ical
    assert "SUMMARY:Lunch\\; with\\, team" in ical
    assert "X-MICROSOFT-CDO-BUSYSTATUS:BUSY" in ical
    # The item's time zone comes along (as Exchange sends it); the event is no series.
    assert "BEGIN:VTIMEZONE" in ical and "TZID:Europe/Berlin" in ical
    event = ical[ical.index("BEGIN:VEVENT") :]
    assert "RRULE" not in event
    # Without Translate: f, Exchange renders the item for a browser.
    assert dav.request("GET", path).headers["content-type"].startswith("text/html")


def test_get_translate_f_of_a_master_has_rrule_exdate_and_the_exception(dav: DavSite) -> None:
    listing = dav.request("PROPFIND", f"/exchange/{ALICE}/Calendar/", headers={"Depth": "1"})
    root = etree.fromstring(listing.content)
    href = next(
        r.findtext("a:href", namespaces=NS)
        for r in root.findall("a:response", NS)
        if r.findtext(".//e:subject", namespaces=NS) == "Weekly review"
    )
    ical = _calendar_part(dav.request("GET", href, headers={"Translate": "f"}).content)
    assert "BEGIN:VTIMEZONE" in ical and "TZID:Europe/Berlin" in ical
    assert "DTSTART;TZID=Europe/Berlin:20260316T090000" in ical
    assert "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=6;WKST=SU" in ical
    assert "EXDATE;TZID=Europe/Berlin:20260406T090000" in ical
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000" in ical
    assert "DTSTART;TZID=Europe/Berlin:20260323T140000" in ical
    assert "SUMMARY:Moved review" in ical
    assert ical.count("BEGIN:VEVENT") == 2


def test_get_on_exchange_root_redirects_to_own_mailbox(dav: DavSite) -> None:
    response = dav.request("GET", "/exchange/", auth=(ALICE, "alicepw"))
    assert response.status_code == 302
    assert response.headers["location"] == f"{dav.url}/exchange/alice/"


def test_get_on_exchange_root_without_own_mailbox_is_a_page(dav: DavSite) -> None:
    response = dav.request("GET", "/exchange/")  # the service account has no mailbox
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert dav.request("DELETE", "/exchange/").status_code == 403
