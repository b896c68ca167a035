"""A mailbox with its own zone (a scenario user's ``timezone``): OWA shows its week in
that zone, and what its owner creates there is in that zone."""

from __future__ import annotations

from datetime import UTC, datetime

from scenarios.format.loader import parse_scenario
from simulators.exchange.model import CalendarItem
from simulators.exchange.seed import apply_seed
from tests.simulators.owa.conftest import canary, log_in
from tests.simulators.webdav.conftest import DavSite

SCENARIO = """
timezone: Europe/Berlin
start: "2026-03-09 08:00"
exchange: {service_account: {user: OSOMX@domain.net, password: secret}}
users:
  - {extension: "101", email: ben@domain.net, password: benpw, timezone: America/New_York}
appointments:
  - {mailbox: ben@domain.net, subject: Lunch, start: "2026-03-09 12:00", end: "2026-03-09 13:00"}
"""


def test_owa_shows_and_takes_new_york_times(dav: DavSite) -> None:
    apply_seed(dav.store, parse_scenario(SCENARIO).seed)
    with log_in(dav, "ben@domain.net", "benpw") as client:
        page = client.get("/owa/", params={"date": "2026-03-09"}).text
        assert "(America/New_York)" in page
        assert '<span class="time">12:00–13:00</span> <span class="subject">Lunch</span>' in page
        form = client.get("/owa/appointment/new", params={"date": "2026-03-10"})
        saved = client.post(
            "/owa/appointment/save",
            data={
                "hidcanary": canary(form.text),
                "mailbox": "",
                "id": "",
                "subject": "Meeting",
                "location": "",
                "start_date": "2026-03-10",
                "start_time": "09:00",
                "end_date": "2026-03-10",
                "end_time": "09:30",
                "busy_status": "Busy",
            },
        )
    assert saved.status_code in (302, 303), saved.text
    folder = dav.store.distinguished_folder("calendar", "ben@domain.net")
    [meeting] = [
        i
        for i in dav.store.items_in(folder)
        if isinstance(i, CalendarItem) and i.subject == "Meeting"
    ]
    assert meeting.start == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert meeting.time_zone == "America/New_York"
