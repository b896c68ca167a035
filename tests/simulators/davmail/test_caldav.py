"""CalDAV through DavMail, in EWS and WebDav mode: the calendar lists, a time-range
REPORT returns singles, the all-day event and the DST-crossing series (moved and
deleted occurrence), an event is read, and an event created, changed and deleted by a
CalDAV client is created, changed and deleted in the store."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from lxml import etree

from tests.simulators.davmail.conftest import ANNA, Gateway
from tests.simulators.davmail.exchange import ServedExchange

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = f"/users/{ANNA[0]}/calendar/"
DAV_NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav", "cs": "http://calendarserver.org/ns/"}
PROPFIND = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><d:getetag/><d:displayname/><d:resourcetype/><cs:getctag/></d:prop></d:propfind>"
)
REPORT = (
    '<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" '
    'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>'
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
    '<c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter>'
    "</c:calendar-query>"
)
XML = {"Content-Type": "text/xml; charset=utf-8", "Depth": "1"}


# ------------------------------------------------------------------ iCalendar reading
def events(text: str) -> list[dict[str, tuple[dict[str, str], str]]]:
    """Every VEVENT of a calendar as {NAME: (params, value)} (the last of a name wins)."""
    lines = re.sub(r"\r?\n[ \t]", "", text).replace("\r\n", "\n").split("\n")
    found: list[dict[str, tuple[dict[str, str], str]]] = []
    current: dict[str, tuple[dict[str, str], str]] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            found.append(current)
            current = None
        elif current is not None and ":" in line:
            head, value = line.split(":", 1)
            name, *params = head.split(";")
            current[name.upper()] = (
                dict(p.split("=", 1) for p in params if "=" in p),
                value,
            )
    return found


def moment(prop: tuple[dict[str, str], str]) -> datetime:
    """An iCalendar DATE-TIME as an aware instant (UTC 'Z' or its TZID, here Berlin)."""
    params, value = prop
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    zone = ZoneInfo(params["TZID"].strip('"')) if "TZID" in params else BERLIN
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)


def _report(gateway: Gateway, start: str, end: str) -> dict[str, str]:
    """href -> calendar data of a time-range REPORT."""
    with gateway.client() as client:
        response = client.request(
            "REPORT", CALENDAR, content=REPORT.format(start=start, end=end), headers=XML
        )
    assert response.status_code == 207, gateway.explain()
    root = etree.fromstring(response.content)
    return {
        r.findtext("d:href", namespaces=DAV_NS): r.findtext(".//c:calendar-data", namespaces=DAV_NS)
        for r in root.findall("d:response", DAV_NS)
    }


def _by_summary(report: dict[str, str]) -> dict[str, list[dict[str, tuple[dict[str, str], str]]]]:
    found: dict[str, list[dict[str, tuple[dict[str, str], str]]]] = {}
    for text in report.values():
        vevents = events(text)
        found[vevents[0]["SUMMARY"][1]] = vevents
    return found


# ------------------------------------------------------------------ tests
def test_the_calendar_lists_every_appointment(davmail: Gateway) -> None:
    with davmail.client() as client:
        response = client.request("PROPFIND", CALENDAR, content=PROPFIND, headers=XML)
    assert response.status_code == 207, davmail.explain()
    root = etree.fromstring(response.content)
    responses = root.findall("d:response", DAV_NS)
    collection = [r for r in responses if r.findtext("d:href", namespaces=DAV_NS) == CALENDAR]
    assert collection and collection[0].find(".//c:calendar", DAV_NS) is not None
    assert collection[0].findtext(".//cs:getctag", namespaces=DAV_NS)
    events_listed = [r for r in responses if r.findtext("d:href", namespaces=DAV_NS) != CALENDAR]
    # Lunch, Dentist, Holiday and the series: masters, never their occurrences.
    assert len(events_listed) >= 4
    assert all(r.findtext(".//d:getetag", namespaces=DAV_NS) for r in events_listed)


def test_a_time_range_report_has_singles_all_day_and_the_dst_series(davmail: Gateway) -> None:
    found = _by_summary(_report(davmail, "20260316T000000Z", "20260413T000000Z"))
    assert {"Lunch", "Holiday", "Jour fixe"} <= set(found), davmail.explain()
    assert "Dentist" not in found  # 20 May is outside the range

    (lunch,) = found["Lunch"]
    assert moment(lunch["DTSTART"]) == datetime(2026, 3, 20, 12, tzinfo=BERLIN)
    assert moment(lunch["DTEND"]) == datetime(2026, 3, 20, 13, tzinfo=BERLIN)
    assert lunch["LOCATION"][1] == "Canteen"

    (holiday,) = found["Holiday"]
    assert holiday["DTSTART"] == ({"VALUE": "DATE"}, "20260324")
    assert holiday["DTEND"] == ({"VALUE": "DATE"}, "20260325")

    master, *exceptions = found["Jour fixe"]
    # Ten o'clock local time on both sides of the 29 March change (09:00Z, then 08:00Z).
    assert moment(master["DTSTART"]) == datetime(2026, 3, 16, 10, tzinfo=BERLIN)
    assert "FREQ=WEEKLY" in master["RRULE"][1] and "COUNT=6" in master["RRULE"][1]
    assert moment(master["EXDATE"]) == datetime(2026, 4, 6, 10, tzinfo=BERLIN)
    (moved,) = exceptions
    assert moment(moved["RECURRENCE-ID"]) == datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    assert moment(moved["RECURRENCE-ID"]).astimezone(UTC).hour == 8  # summer time
    assert moment(moved["DTSTART"]) == datetime(2026, 3, 30, 14, tzinfo=BERLIN)
    assert moved["SUMMARY"][1] == "Jour fixe (moved)"


def test_one_event_is_read_by_its_href(davmail: Gateway) -> None:
    report = _report(davmail, "20260320T000000Z", "20260321T000000Z")
    (href,) = [h for h, text in report.items() if "SUMMARY:Lunch" in text]
    with davmail.client() as client:
        response = client.get(href)
    assert response.status_code == 200, davmail.explain()
    assert response.headers["content-type"].startswith("text/calendar")
    (event,) = events(response.text)
    assert event["SUMMARY"][1] == "Lunch"
    assert moment(event["DTSTART"]) == datetime(2026, 3, 20, 12, tzinfo=BERLIN)


def _ics(uid: str, summary: str, start: str, end: str, location: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//harness tests//CalDAV//EN\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
        "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:{summary}\r\n"
        f"LOCATION:{location}\r\nDTSTART;TZID=Europe/Berlin:{start}\r\n"
        f"DTEND;TZID=Europe/Berlin:{end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _etag(client: httpx.Client, href: str, gateway: Gateway) -> str:
    """The entity tag of an event (DavMail answers PROPFIND on collections only)."""
    response = client.get(href)
    assert response.status_code == 200, gateway.explain()
    assert response.headers.get("etag"), gateway.explain()
    return response.headers["etag"]


def test_an_event_is_created_changed_and_deleted_in_the_store(
    davmail: Gateway, exchange: ServedExchange
) -> None:
    name = f"review-{davmail.mode.lower()}-{uuid.uuid4().hex[:8]}"
    subject = f"Review {davmail.mode}"
    href = f"{CALENDAR}{name}.ics"
    calendar = {"Content-Type": "text/calendar; charset=utf-8"}
    with davmail.client() as client:
        created = client.put(
            href,
            content=_ics(name, subject, "20260325T150000", "20260325T160000", "Room 1"),
            headers={**calendar, "If-None-Match": "*"},
        )
        assert created.status_code == 201, davmail.explain()
        stored = [i for i in exchange.calendar(ANNA[0]) if i.subject == subject]
        assert [(i.start, i.end, i.location, i.item_type) for i in stored] == [
            (
                datetime(2026, 3, 25, 15, tzinfo=BERLIN),
                datetime(2026, 3, 25, 16, tzinfo=BERLIN),
                "Room 1",
                "Single",
            )
        ]

        location = created.headers.get("location") or href
        etag = _etag(client, location, davmail)
        changed = client.put(
            location,
            content=_ics(
                name, subject + " (moved)", "20260326T090000", "20260326T093000", "Room 2"
            ),
            headers={**calendar, "If-Match": etag},
        )
        assert changed.status_code in (200, 201, 204), davmail.explain()
        stored = [i for i in exchange.calendar(ANNA[0]) if i.subject.startswith(subject)]
        assert [(i.subject, i.start, i.end, i.location) for i in stored] == [
            (
                subject + " (moved)",
                datetime(2026, 3, 26, 9, tzinfo=BERLIN),
                datetime(2026, 3, 26, 9, 30, tzinfo=BERLIN),
                "Room 2",
            )
        ]

        deleted = client.delete(location)
        assert deleted.status_code in (200, 204), davmail.explain()
    assert not [i for i in exchange.calendar(ANNA[0]) if i.subject.startswith(subject)]
