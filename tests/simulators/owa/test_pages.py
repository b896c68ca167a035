"""Outlook Web Access over HTTP: the log-in form, the week view in the mailbox's time
zone, creating, editing and deleting appointments through the forms (into the one
store), the canary, escaping, and who may open which mailbox."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx

from simulators.exchange.model import CalendarItem
from tests.simulators.owa.conftest import canary, log_in
from tests.simulators.webdav.conftest import ALICE, ALICE_AUTH, BOB_AUTH, SERVICE, DavSite

BERLIN = ZoneInfo("Europe/Berlin")


def _items(dav: DavSite, subject: str) -> list[CalendarItem]:
    folder = dav.store.distinguished_folder("calendar", ALICE)
    return [
        i
        for i in dav.store.items_in(folder)
        if isinstance(i, CalendarItem) and i.subject == subject
    ]


def _save(client: httpx.Client, **fields: str | list[str]) -> httpx.Response:
    form_page = client.get("/owa/appointment/new", params={"date": "2026-03-30"})
    data: dict[str, str | list[str]] = {
        "hidcanary": canary(form_page.text),
        "mailbox": "",
        "id": "",
        "subject": "",
        "location": "",
        "start_date": "2026-03-30",
        "start_time": "09:00",
        "end_date": "2026-03-30",
        "end_time": "09:30",
        "busy_status": "Busy",
    }
    data.update(fields)
    return client.post("/owa/appointment/save", data=data)


def test_logon_page_has_the_owa_form(dav: DavSite) -> None:
    page = dav.request("GET", "/owa/auth/logon.aspx?url=%2fowa%2f&reason=0", auth=None)
    assert page.status_code == 200
    for needle in (
        'action="/owa/auth/owaauth.dll"',
        'name="destination"',
        'name="flags"',
        'name="forcedownlevel"',
        'name="trusted"',
        'name="isUtf8"',
        'id="username"',
        'id="password"',
        '<label for="username">',
    ):
        assert needle in page.text
    wrong = dav.request("GET", "/owa/auth/logon.aspx?url=%2fowa%2f&reason=2", auth=None)
    assert "The user name or password you entered isn&#x27;t correct" in wrong.text


def test_unauthenticated_owa_redirects_to_logon_in_forms_mode(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    response = dav.request("GET", "/owa/", auth=None)
    assert response.status_code == 302
    assert "/owa/auth/logon.aspx?url=" in response.headers["location"]


def test_basic_mode_owa_needs_basic_credentials(dav: DavSite) -> None:
    assert dav.request("GET", "/owa/", auth=None).status_code == 401
    page = dav.request("GET", "/owa/?date=2026-03-30", auth=ALICE_AUTH)
    assert page.status_code == 200 and "Signed in as alice@domain.net" in page.text


def test_week_view_shows_times_in_the_mailbox_time_zone(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        page = client.get("/owa/", params={"date": "2026-04-01"})
    assert page.status_code == 200
    assert "week of 30 March 2026 (Europe/Berlin)" in page.text
    monday = page.text.split("<td>")[1]
    assert (
        '<span class="time">09:00–10:00</span> <span class="subject">Weekly review</span>' in monday
    )
    assert '<span class="time">12:00–13:00</span> <span class="subject">Lunch</span>' in monday
    assert "(edit series)" in monday


def test_week_before_dst_shows_the_moved_occurrence(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        page = client.get("/owa/", params={"date": "2026-03-23"}).text
    assert '<span class="time">14:00–15:00</span> <span class="subject">Moved review</span>' in page
    assert "Weekly review" not in page


def test_create_through_the_form_lands_in_the_store(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        response = _save(client, subject="Lunch meeting", start_time="12:00", end_time="13:00")
        assert response.status_code == 302
        assert response.headers["location"] == "/owa/?date=2026-03-30"
        week = client.get(response.headers["location"]).text
    [item] = _items(dav, "Lunch meeting")
    assert item.start == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # 12:00 CEST
    assert item.end == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)
    assert item.time_zone == "Europe/Berlin"
    assert "Lunch meeting" in week
    saves = [e for e in dav.site.journal.entries(service="owa") if e.method == "POST"]
    assert [(e.mailbox, e.account, e.status) for e in saves][-1] == (ALICE, ALICE, 302)


def test_weekly_series_with_days_and_count(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        _save(
            client,
            subject="Standup",
            start_time="08:30",
            end_time="08:45",
            recurs="1",
            days=["Monday", "Wednesday"],
            count="4",
        )
        next_week = client.get("/owa/", params={"date": "2026-04-06"}).text
        week_after = client.get("/owa/", params={"date": "2026-04-13"}).text
    [series] = _items(dav, "Standup")
    assert series.recurrence is not None
    assert (
        series.recurrence.days_of_week == ("Monday", "Wednesday") and series.recurrence.count == 4
    )
    assert next_week.count('<span class="subject">Standup</span>') == 2
    assert "Standup" not in week_after


def test_all_day_event_runs_midnight_to_midnight_local(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        _save(
            client, subject="Holiday", all_day="1", start_date="2026-04-03", end_date="2026-04-03"
        )
        page = client.get("/owa/", params={"date": "2026-04-03"}).text
    [item] = _items(dav, "Holiday")
    assert item.all_day
    assert item.start == datetime(2026, 4, 2, 22, 0, tzinfo=UTC)
    assert item.end == datetime(2026, 4, 3, 22, 0, tzinfo=UTC)
    assert '<span class="time">All day</span> <span class="subject">Holiday</span>' in page


def test_invalid_form_is_shown_again_with_the_error(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        response = _save(client, subject="Backwards", start_time="13:00", end_time="12:00")
        garbled = _save(client, subject="Garbled", start_date="30.03.2026")
    assert response.status_code == 400 and "end time is before the start time" in response.text
    assert 'value="Backwards"' in response.text
    assert garbled.status_code == 400 and "YYYY-MM-DD" in garbled.text
    assert not _items(dav, "Backwards") and not _items(dav, "Garbled")


def test_post_without_the_canary_is_refused(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        data = {
            "subject": "Forged",
            "start_date": "2026-03-30",
            "start_time": "09:00",
            "end_time": "10:00",
        }
        missing = client.post("/owa/appointment/save", data=data)
        wrong = client.post("/owa/appointment/save", data={**data, "hidcanary": "00" * 16})
    assert missing.status_code == 403 and wrong.status_code == 403
    assert not _items(dav, "Forged")


def test_edit_and_delete_a_single(dav: DavSite) -> None:
    lunch = dav.handles["lunch"]
    with log_in(dav, *ALICE_AUTH) as client:
        form = client.get("/owa/appointment/edit", params={"id": lunch.id})
        assert form.status_code == 200 and 'value="Lunch"' in form.text
        assert 'value="12:00"' in form.text  # shown in Berlin time
        token = canary(form.text)
        saved = client.post(
            "/owa/appointment/save",
            data={
                "hidcanary": token,
                "id": lunch.id,
                "subject": "Long lunch",
                "start_date": "2026-03-30",
                "start_time": "12:00",
                "end_date": "2026-03-30",
                "end_time": "14:00",
                "busy_status": "OOF",
            },
        )
        assert saved.status_code == 302
        assert lunch.subject == "Long lunch"
        assert lunch.end == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
        deleted = client.post("/owa/appointment/delete", data={"hidcanary": token, "id": lunch.id})
        assert deleted.status_code == 302
    assert lunch.id not in dav.store.items


def test_editing_an_occurrence_makes_an_exception(dav: DavSite) -> None:
    weekly = dav.handles["weekly"]
    with log_in(dav, *ALICE_AUTH) as client:
        week = client.get("/owa/", params={"date": "2026-04-13"}).text
        occurrence_id = re.search(r'data-id="([^"]+)"><a[^>]*><span class="time">09:00', week)
        assert occurrence_id is not None
        form = client.get(
            "/owa/appointment/edit", params={"id": occurrence_id.group(1).replace("&#x27;", "'")}
        )
        assert "Delete this occurrence" in form.text and 'id="recurs"' not in form.text
        client.post(
            "/owa/appointment/save",
            data={
                "hidcanary": canary(form.text),
                "id": occurrence_id.group(1),
                "subject": "Review (moved)",
                "start_date": "2026-04-13",
                "start_time": "11:00",
                "end_date": "2026-04-13",
                "end_time": "12:00",
                "busy_status": "Busy",
            },
        )
    assert set(weekly.exceptions) == {date(2026, 3, 23), date(2026, 4, 13)}
    assert weekly.exceptions[date(2026, 4, 13)].start == datetime(2026, 4, 13, 9, 0, tzinfo=UTC)
    assert weekly.subject == "Weekly review"


def test_output_is_escaped_and_scripts_are_forbidden(dav: DavSite) -> None:
    calendar = dav.store.distinguished_folder("calendar", ALICE)
    dav.store.create_calendar_item(
        calendar,
        subject='<script>alert("x")</script>',
        start=datetime(2026, 3, 31, 8, 0, tzinfo=UTC),
        end=datetime(2026, 3, 31, 9, 0, tzinfo=UTC),
    )
    with log_in(dav, *ALICE_AUTH) as client:
        page = client.get("/owa/", params={"date": "2026-03-31"})
        reflected = client.get("/owa/", params={"date": "<img src=x onerror=alert(1)>"})
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert reflected.status_code == 400 and "<img" not in reflected.text


def test_full_access_decides_whose_calendar_opens(dav: DavSite) -> None:
    with log_in(dav, *BOB_AUTH) as client:
        denied = client.get("/owa/", params={"mailbox": ALICE})
    with log_in(dav, *SERVICE) as client:
        allowed = client.get("/owa/", params={"mailbox": ALICE, "date": "2026-03-30"})
        own = client.get("/owa/")  # the service account has no mailbox of its own
    assert denied.status_code == 403
    assert allowed.status_code == 200 and "Lunch" in allowed.text
    assert own.status_code == 404 and "mailbox" in own.text


def test_log_off_ends_the_session(dav: DavSite) -> None:
    with log_in(dav, *ALICE_AUTH) as client:
        assert client.get("/owa/").status_code == 200
        off = client.get("/owa/auth/logoff.aspx")
        assert off.status_code == 200 and "logged off" in off.text
        assert client.get("/owa/").status_code == 302
