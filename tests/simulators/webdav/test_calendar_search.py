"""The WebDAV poll's fast path (``calendar_search``) against the general path (XML and
SQL parsers, WHERE interpreter): the same status, headers, bytes and journal entries
for every request it answers, and the general path for everything else.

Two sites serve one store: one as shipped, one with ``webdav.fast_search`` off. Each
request goes to both over HTTP with the same Host header (hrefs name it);
``calendar_search.answer`` is wrapped to record, per request, whether the fast path
answered (True), declined (False) or was never asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from integration.sources.webdav import WebDavCalendarSource
from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedMailbox,
    SeedOccurrenceChange,
    ServiceAccount,
    apply_seed,
)
from simulators.exchange.store import ExchangeStore
from simulators.exchange.webdav import calendar_search
from simulators.site import RunningSite, start_site
from tests.seeds import BERLIN, NEW_YORK, dst_weekly_series, old_us_rules_series

DOMAIN = "dav-poll.example"
HOST = "mail.dav-poll.example"
SERVICE = (f"svc@{DOMAIN}", "secret")
ALICE, BOB, CAROL, DORA, ERIN = (f"{n}@{DOMAIN}" for n in ("alice", "bob", "carol", "dora", "erin"))
BOB_LOGIN = (BOB, "bobpw")
ENGINE_RANGE = "rows=0-199"  # the engine's first page (DEFAULT_PAGE_SIZE 200)

ALICE_CAL = f"/exchange/{ALICE}/Calendar/"
BOB_CAL = f"/exchange/{BOB}/Calendar/"
CAROL_CAL = f"/exchange/{CAROL}/Calendar/"
DORA_CAL = f"/exchange/{DORA}/Kalender/"  # a German mailbox
ERIN_CAL = f"/exchange/{ERIN}/Calendar/"  # holds a subfolder
TEAM_CAL = f"/exchange/{ERIN}/Calendar/Team/"
AMP_CAL = f"/exchange/{ERIN}/R&D/"
PERCENT_CAL = f"/exchange/{ERIN}/50% plan/"
UNICODE_CAL = f"/exchange/{ERIN}/Café ☕/"
MIXED_CAL = f"/exchange/{ERIN}/Mixed/"  # a calendar folder holding a message too

# Only the engine's request body builder is used; its HTTP client is closed at once.
_SOURCE = WebDavCalendarSource(f"http://{HOST}/exchange/", *SERVICE)
asyncio.run(_SOURCE.aclose())


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _poll(scope: str, start: str, end: str) -> bytes:
    """The SEARCH body exactly as the engine writes it."""
    return _SOURCE.request_body(scope, _at(start), _at(end))


def _seed() -> Seed:
    return Seed(
        service_account=ServiceAccount(
            user=SERVICE[0], password=SERVICE[1], denied_mailboxes=(CAROL,)
        ),
        mailboxes=[
            SeedMailbox(ALICE, "Alice Example"),
            SeedMailbox(BOB, "Bob Builder", password=BOB_LOGIN[1]),
            SeedMailbox(CAROL, "Carol Denied"),
            SeedMailbox(DORA, "Dora Deutsch", language="de"),
            SeedMailbox(ERIN, "Erin Folders"),
        ],
        appointments=[
            dst_weekly_series(ALICE),  # weekly: an exception, a deleted one, across DST
            old_us_rules_series(ALICE),  # a stored zone definition of its own
            SeedAppointment(
                ALICE,
                'Lunch & "talk" <b>',
                datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN),
                datetime(2026, 3, 30, 13, 0, tzinfo=BERLIN),
                busy_status="OOF",
                location="Canteen",
                time_zone="Europe/Berlin",
            ),
            SeedAppointment(
                ALICE,
                "Holiday",
                datetime(2026, 3, 18, tzinfo=UTC),
                datetime(2026, 3, 20, tzinfo=UTC),
                all_day=True,
                busy_status="Free",
            ),
            SeedAppointment(
                ALICE,
                "Night shift",  # 01:30 CET to 04:30 CEST: across the spring-forward hour
                datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN),
                datetime(2026, 3, 29, 4, 30, tzinfo=BERLIN),
                time_zone="Europe/Berlin",
            ),
            SeedAppointment(
                ALICE,
                "Daily sync",
                datetime(2026, 3, 16, 8, 30, tzinfo=NEW_YORK),
                datetime(2026, 3, 16, 8, 45, tzinfo=NEW_YORK),
                time_zone="America/New_York",
                recurrence=Recurrence("daily", date(2026, 3, 16), end_date=date(2026, 4, 30)),
                exceptions=[
                    SeedOccurrenceChange(  # moved six days on
                        date(2026, 3, 25),
                        start=datetime(2026, 3, 31, 9, 0, tzinfo=NEW_YORK),
                        end=datetime(2026, 3, 31, 9, 30, tzinfo=NEW_YORK),
                    ),
                    SeedOccurrenceChange(date(2026, 3, 26), subject="Daily sync (changed)"),
                ],
                deleted=[date(2026, 3, 24)],
            ),
            SeedAppointment(
                BOB,
                "Dentist",
                datetime(2026, 3, 17, 8, 0, tzinfo=BERLIN),
                datetime(2026, 3, 17, 9, 0, tzinfo=BERLIN),
            ),
            SeedAppointment(
                CAROL,
                "Secret",
                datetime(2026, 3, 17, 8, 0, tzinfo=BERLIN),
                datetime(2026, 3, 17, 9, 0, tzinfo=BERLIN),
            ),
            SeedAppointment(
                DORA,
                "Mittagessen",
                datetime(2026, 3, 17, 12, 0, tzinfo=BERLIN),
                datetime(2026, 3, 17, 12, 45, tzinfo=BERLIN),
            ),
            SeedAppointment(
                ERIN,
                "Top level",
                datetime(2026, 3, 17, 10, 0, tzinfo=UTC),
                datetime(2026, 3, 17, 11, 0, tzinfo=UTC),
            ),
        ],
    )


def _folders(store: ExchangeStore) -> None:
    """Erin's calendar gets a subfolder; her root odd-named calendar folders."""
    calendar = store.distinguished_folder("calendar", ERIN)
    root = store.distinguished_folder("msgfolderroot", ERIN)
    places = [
        (store.create_folder(calendar, "Team", "IPF.Appointment"), "Team meeting"),
        (store.create_folder(root, "R&D", "IPF.Appointment"), "R&D review"),
        (store.create_folder(root, "50% plan", "IPF.Appointment"), "Half"),
        (store.create_folder(root, "Café ☕", "IPF.Appointment"), "Kaffee"),
        (store.create_folder(root, "Mixed", "IPF.Appointment"), "Mixed bag"),
    ]
    for folder, subject in places:
        store.create_calendar_item(
            folder,
            subject=subject,
            start=datetime(2026, 3, 17, 14, 0, tzinfo=UTC),
            end=datetime(2026, 3, 17, 15, 0, tzinfo=UTC),
        )
    store.create_message(places[-1][0], b"Subject: not an appointment\r\n\r\nhello\r\n")


@dataclass
class Pair:
    """The two sites on one store: ``fast`` as shipped, ``general`` with it off."""

    store: ExchangeStore
    fast: RunningSite
    general: RunningSite
    calls: list[bool] = field(default_factory=list)  # calendar_search.answer: answered?

    def search(
        self,
        site: RunningSite,
        path: str,
        body: bytes,
        auth: tuple[str, str],
        range_header: str | None,
        url_path: str | None = None,
    ) -> httpx.Response:
        headers = {"Host": HOST, "Content-Type": 'text/xml; charset="utf-8"'}
        if range_header is not None:
            headers["Range"] = range_header
        target = url_path or quote(path, safe="/@:!$&'()*+,;=-._~")
        with httpx.Client(timeout=10) as client:
            return client.request(
                "SEARCH", site.url + target, content=body, headers=headers, auth=auth
            )

    def both(
        self,
        path: str,
        body: bytes,
        *,
        fast: bool,
        auth: tuple[str, str] = SERVICE,
        range_header: str | None = ENGINE_RANGE,
        url_path: str | None = None,
    ) -> httpx.Response:
        """Both sites' answers, checked equal (status, headers, body, journal); ``fast``:
        whether the fast path must have answered (else it must have declined)."""
        self.calls.clear()
        self.fast.journal.clear()  # whatever a failed test left behind
        self.general.journal.clear()
        a = self.search(self.fast, path, body, auth, range_header, url_path)
        taken = list(self.calls)
        self.calls.clear()
        b = self.search(self.general, path, body, auth, range_header, url_path)
        assert self.calls == [], "the general site asked the fast path"
        assert taken == [fast]
        assert a.status_code == b.status_code
        assert _headers(a) == _headers(b)
        assert a.content == b.content
        journal_a, journal_b = _journaled(self.fast), _journaled(self.general)
        assert len(journal_a) == 1
        assert journal_a == journal_b
        return a


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]


def _journaled(site: RunningSite) -> list[Any]:
    entries = site.journal.entries()
    site.journal.clear()
    return [replace(e, at=None) for e in entries]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    store = ExchangeStore(domain=DOMAIN)
    apply_seed(store, _seed())
    _folders(store)
    fast = start_site(store, journal=RequestJournal(keep_bodies=True))
    general = start_site(store, journal=RequestJournal(keep_bodies=True))
    assert general.webdav is not None and fast.webdav is not None
    general.webdav.fast_search = False
    made = Pair(store, fast, general)
    real = calendar_search.answer

    def counting(*args: Any, **kwargs: Any) -> Any:
        reply = real(*args, **kwargs)
        made.calls.append(reply is not None)
        return reply

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(calendar_search, "answer", counting)
        try:
            yield made
        finally:
            fast.stop()
            general.stop()


WINDOWS = [
    ("2026-03-16T00:00:00", "2026-04-21T00:00:00"),  # both series whole, DST inside
    ("2026-03-23T00:00:00", "2026-03-24T00:00:00"),  # the weekly exception's day
    ("2026-03-24T00:00:00", "2026-03-25T00:00:00"),  # a deleted daily occurrence
    ("2026-03-25T00:00:00", "2026-03-26T00:00:00"),  # the day the daily one moved from
    ("2026-03-26T00:00:00", "2026-03-27T00:00:00"),  # a renamed daily occurrence
    ("2026-03-31T00:00:00", "2026-04-01T00:00:00"),  # the daily one moved here
    ("2026-03-18T12:00:00", "2026-03-19T12:00:00"),  # inside the all-day event
    ("2026-03-09T13:00:00", "2026-03-09T15:00:00"),  # the stored old US rules
    ("2026-03-28T23:00:00", "2026-03-29T03:00:00"),  # the spring-forward night
    ("2026-03-30T10:30:00", "2026-03-30T11:00:00"),  # the lunch only (UTC 10-11)
    ("2026-06-01T00:00:00", "2026-06-02T00:00:00"),  # nothing
]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
@pytest.mark.parametrize("range_header", [ENGINE_RANGE, None])
def test_the_engines_poll_is_answered_fast_with_the_general_paths_bytes(
    pair: Pair, start: str, end: str, range_header: str | None
) -> None:
    response = pair.both(
        ALICE_CAL, _poll(ALICE_CAL, start, end), fast=True, range_header=range_header
    )
    assert response.status_code == 207
    assert ("content-range" in response.headers) is (range_header is not None)


def test_rows_are_really_there(pair: Pair) -> None:
    content = pair.both(ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[0]), fast=True).content
    assert content.count(b"<a:response>") > 20
    for subject in (b"Weekly review", b"Moved review", b"NY standup", b"Daily sync (changed)"):
        assert b"<e:subject>" + subject + b"</e:subject>" in content
    assert b"Lunch &amp; &quot;talk&quot; &lt;b&gt;" in content or b"Lunch &amp;" in content
    assert b"Holiday" in content and b"Night shift" in content
    night = pair.both(ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[8]), fast=True).content
    assert night.count(b"<a:response>") == 1 and b"Night shift" in night
    deleted = pair.both(ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[2]), fast=True).content
    assert b"Daily sync" not in deleted
    empty = pair.both(ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[-1]), fast=True).content
    assert b"<a:response>" not in empty


@pytest.mark.parametrize(
    ("range_header", "shown"),
    [
        ("rows=0-1", "rows 0-1; total="),
        ("rows=1-3", "rows 1-3; total="),
        ("rows=2-", "rows 2-"),
        ("rows=0-0", "rows 0-0; total="),
        ("rows=1000-1199", None),  # past the end
    ],
)
def test_a_range_truncates_the_same_way(pair: Pair, range_header: str, shown: str | None) -> None:
    response = pair.both(
        ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[0]), fast=True, range_header=range_header
    )
    if shown is not None:
        assert response.headers["content-range"].startswith(shown)
        first, last = range_header[5:].split("-")
        if last:
            assert response.content.count(b"<a:response>") == int(last) - int(first) + 1


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        (BOB_CAL, b"Dentist"),  # another mailbox, with FullAccess
        (DORA_CAL, b"Mittagessen"),  # a localised folder name
        (TEAM_CAL, b"Team meeting"),  # a subfolder (itself without children)
        (UNICODE_CAL, b"Kaffee"),  # a path beyond ASCII
    ],
)
def test_other_calendars_the_service_account_may_open(
    pair: Pair, path: str, subject: bytes
) -> None:
    response = pair.both(path, _poll(path, *WINDOWS[0]), fast=True)
    assert response.status_code == 207 and subject in response.content


def test_the_own_calendar_with_plain_login(pair: Pair) -> None:
    response = pair.both(BOB_CAL, _poll(BOB_CAL, *WINDOWS[0]), fast=True, auth=BOB_LOGIN)
    assert b"Dentist" in response.content


def test_an_escaped_url_of_the_same_path(pair: Pair) -> None:
    url = ALICE_CAL.replace("@", "%40")
    response = pair.both(ALICE_CAL, _poll(ALICE_CAL, *WINDOWS[1]), fast=True, url_path=url)
    assert b"Moved review" in response.content


def test_another_select_list(pair: Pair) -> None:
    body = _poll(ALICE_CAL, *WINDOWS[1])
    select_end = body.index(b" FROM SCOPE")
    select_start = body.index(b"SELECT ") + len(b"SELECT ")
    for select in (
        b'"urn:schemas:httpmail:subject"',
        b'"DAV:href", "urn:schemas:calendar:dtend", "urn:schemas:example:nothing"',
    ):
        changed = body[:select_start] + select + body[select_end:]
        response = pair.both(ALICE_CAL, changed, fast=True)
        assert response.content.count(b"<a:response>") == 3  # moved review, daily, NY
        assert (b"Moved review" in response.content) is (b"subject" in select)


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        (CAROL_CAL, SERVICE, 403),  # FullAccess withheld
        (ALICE_CAL, BOB_LOGIN, 403),  # a user on someone else's calendar
        (f"/exchange/nobody@{DOMAIN}/Calendar/", SERVICE, 404),
        (f"/exchange/{ALICE}/NoSuchFolder/", SERVICE, 404),
    ],
)
def test_errors_come_from_the_general_path(
    pair: Pair, path: str, auth: tuple[str, str], status: int
) -> None:
    response = pair.both(path, _poll(path, *WINDOWS[0]), fast=False, auth=auth)
    assert response.status_code == status


def _alice(start: str = WINDOWS[0][0], end: str = WINDOWS[0][1]) -> bytes:
    return _poll(ALICE_CAL, start, end)


FALLBACKS: dict[str, tuple[str, bytes, str | None]] = {
    # folders the fast path leaves to the general one
    "a folder with a subfolder": (ERIN_CAL, _poll(ERIN_CAL, *WINDOWS[0]), ENGINE_RANGE),
    "a folder holding a message": (MIXED_CAL, _poll(MIXED_CAL, *WINDOWS[0]), ENGINE_RANGE),
    "an & in the path": (AMP_CAL, _poll(AMP_CAL, *WINDOWS[0]), ENGINE_RANGE),
    "a % in the path": (PERCENT_CAL, _poll(PERCENT_CAL, *WINDOWS[0]), ENGINE_RANGE),
    "scope not the request path": (ALICE_CAL, _poll(BOB_CAL, *WINDOWS[0]), ENGINE_RANGE),
    "scope without the slash": (
        ALICE_CAL,
        _alice().replace(b'Calendar/"', b'Calendar"'),
        ENGINE_RANGE,
    ),
    # other SQL
    "select star": (
        ALICE_CAL,
        _alice()[: _alice().index(b"SELECT ") + 7] + b"*" + _alice()[_alice().index(b" FROM") :],
        ENGINE_RANGE,
    ),
    "a select alias": (
        ALICE_CAL,
        _alice().replace(b'"DAV:href", ', b'"DAV:href" AS h, '),
        ENGINE_RANGE,
    ),
    "another where": (
        ALICE_CAL,
        _alice().replace(b'instancetype" = 1', b'instancetype" = 0'),
        ENGINE_RANGE,
    ),
    "no NOT": (ALICE_CAL, _alice().replace(b"WHERE NOT ", b"WHERE "), ENGINE_RANGE),
    "descending": (ALICE_CAL, _alice().replace(b" ASC<", b" DESC<"), ENGINE_RANGE),
    "deep traversal": (ALICE_CAL, _alice().replace(b"SHALLOW", b"DEEP"), ENGINE_RANGE),
    "lower-case keywords": (ALICE_CAL, _alice().replace(b"SELECT", b"select"), ENGINE_RANGE),
    # other bytes for the same statement
    "a newline in the sql": (ALICE_CAL, _alice().replace(b" WHERE", b"\n WHERE"), ENGINE_RANGE),
    "double spaces": (ALICE_CAL, _alice().replace(b" AND ", b"  AND "), ENGINE_RANGE),
    "pretty printed xml": (
        ALICE_CAL,
        _alice().replace(b"><g:sql>", b">\n  <g:sql>").replace(b"</g:sql>", b"</g:sql>\n"),
        ENGINE_RANGE,
    ),
    "a trailing newline": (ALICE_CAL, _alice() + b"\n", ENGINE_RANGE),
    "an xml comment": (
        ALICE_CAL,
        _alice().replace(b"<g:sql>", b"<!-- poll --><g:sql>"),
        ENGINE_RANGE,
    ),
    "an entity reference": (ALICE_CAL, _alice().replace(b'"DAV:href"', b'&#34;DAV:href"'), None),
    "a CDATA section": (
        ALICE_CAL,
        _alice().replace(b"&lt;", b"<![CDATA[<]]>"),
        ENGINE_RANGE,
    ),
    "another xml declaration": (
        ALICE_CAL,
        _alice().replace(b' encoding="utf-8"', b""),
        ENGINE_RANGE,
    ),
    "another prefix": (
        ALICE_CAL,
        _alice().replace(b"g:", b"D:").replace(b"xmlns:g", b"xmlns:D"),
        ENGINE_RANGE,
    ),
    "not well formed": (ALICE_CAL, _alice()[:-3], ENGINE_RANGE),
    # bad input the fast path's pattern lets through, refused later
    "a bad date literal": (
        ALICE_CAL,
        _alice().replace(b"2026/03/16 00:00:00", b"2026/02/30 00:00:00"),
        ENGINE_RANGE,
    ),
    "a bad month": (
        ALICE_CAL,
        _alice().replace(b"2026/04/21 00:00:00", b"2026/13/01 00:00:00"),
        ENGINE_RANGE,
    ),
    "a bad hour": (
        ALICE_CAL,
        _alice().replace(b"2026/03/16 00:00:00", b"2026/03/16 25:00:00"),
        ENGINE_RANGE,
    ),
    "a range ending before it starts": (ALICE_CAL, _alice(), "rows=5-2"),
    "a range of bytes": (ALICE_CAL, _alice(), "bytes=0-100"),
    "several ranges": (ALICE_CAL, _alice(), "rows=0-1,3-4"),
    "a suffix range": (ALICE_CAL, _alice(), "rows=-5"),
    "a range of words": (ALICE_CAL, _alice(), "rows=a-b"),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_anything_else_goes_the_general_way(pair: Pair, name: str) -> None:
    path, body, range_header = FALLBACKS[name]
    pair.both(path, body, fast=False, range_header=range_header)


def test_the_fallbacks_are_what_they_say(pair: Pair) -> None:
    """Some fallbacks answer 207 (the general path's rows), others an error."""
    for name, status in (
        ("a folder with a subfolder", 207),
        ("a folder holding a message", 207),
        ("an & in the path", 207),
        ("a % in the path", 207),
        ("a newline in the sql", 207),
        ("an xml comment", 207),
        ("an entity reference", 207),
        ("a range ending before it starts", 400),
        ("several ranges", 400),
        ("a bad date literal", 400),
        ("a bad month", 400),
        ("not well formed", 400),
    ):
        path, body, range_header = FALLBACKS[name]
        assert pair.both(path, body, fast=False, range_header=range_header).status_code == status
    path, body, range_header = FALLBACKS["a folder with a subfolder"]
    content = pair.both(path, body, fast=False, range_header=range_header).content
    assert b"Top level" in content
    path, body, range_header = FALLBACKS["an & in the path"]
    assert b"R&amp;D review" in pair.both(path, body, fast=False).content


def test_new_rows_show_at_once(pair: Pair) -> None:
    body = _poll(BOB_CAL, "2026-05-04T00:00:00", "2026-05-05T00:00:00")
    assert b"Late meeting" not in pair.both(BOB_CAL, body, fast=True).content
    item = pair.store.create_calendar_item(
        pair.store.distinguished_folder("calendar", BOB),
        subject="Late meeting",
        start=datetime(2026, 5, 4, 10, tzinfo=UTC),
        end=datetime(2026, 5, 4, 11, tzinfo=UTC),
    )
    try:
        assert b"Late meeting" in pair.both(BOB_CAL, body, fast=True).content
    finally:
        pair.store.delete_item(item.id)
    assert b"Late meeting" not in pair.both(BOB_CAL, body, fast=True).content


def test_the_remembered_selects_and_instants_stay_bounded(pair: Pair) -> None:
    body = _poll(BOB_CAL, *WINDOWS[0])
    select_start = body.index(b"SELECT ") + len(b"SELECT ")
    select_end = body.index(b" FROM SCOPE")
    for n in range(calendar_search._SELECT_LIMIT + 3):
        changed = body[:select_start] + b'"urn:x:p%d"' % n + body[select_end:]
        pair.both(BOB_CAL, changed, fast=True)
    assert len(calendar_search._selects) <= calendar_search._SELECT_LIMIT
    start = _at(WINDOWS[0][0])
    for n in range(calendar_search._INSTANT_LIMIT // 2 + 3):
        moment = start.replace(minute=n % 60, second=n // 60)
        pair.calls.clear()
        response = pair.search(
            pair.fast,
            BOB_CAL,
            _SOURCE.request_body(BOB_CAL, moment, moment.replace(day=20)),
            SERVICE,
            ENGINE_RANGE,
        )
        assert response.status_code == 207 and pair.calls == [True]
    pair.fast.journal.clear()
    assert len(calendar_search._instants) <= calendar_search._INSTANT_LIMIT
