"""The poll's fast path (``calendar_poll``) against the general path (spyne): the same
bytes, headers and journal entries for every request it answers, and the general
path for everything else.

Two sites serve one store: one as shipped, one with ``fast_calendar_view`` off. Each
request goes to both over HTTP; ``calendar_poll.answer`` is also asked directly, to
prove which path a request took.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from integration.sources.ews import FIELD_URIS, FindItemTemplate
from simulators.exchange.ews import calendar_poll
from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.context import EwsOptions
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
from simulators.site import RunningSite, start_site
from tests.seeds import BERLIN, NEW_YORK, dst_weekly_series, old_us_rules_series
from tests.simulators.ews.soap import calendar_view, distinguished, envelope, shape

DOMAIN = "poll.example"
SERVICE = (f"svc@{DOMAIN}", "secret")
ALICE, BOB, CAROL = f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}"
BOB_LOGIN = (BOB, "bobpw")
ENGINE_FIELDS = FIELD_URIS  # the properties the engine asks for, as it asks


def _seed() -> Seed:
    return Seed(
        service_account=ServiceAccount(
            user=SERVICE[0], password=SERVICE[1], denied_mailboxes=(CAROL,)
        ),
        mailboxes=[
            SeedMailbox(ALICE, "Alice Example"),
            SeedMailbox(BOB, "Bob <&> Builder", password=BOB_LOGIN[1]),
            SeedMailbox(CAROL, "Carol Denied"),
        ],
        appointments=[
            dst_weekly_series(ALICE),  # occurrences, an exception, a deleted one, DST
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
                "Daily sync",
                datetime(2026, 3, 16, 8, 30, tzinfo=NEW_YORK),
                datetime(2026, 3, 16, 8, 45, tzinfo=NEW_YORK),
                time_zone="America/New_York",
                recurrence=Recurrence("daily", date(2026, 3, 16), end_date=date(2026, 4, 30)),
                exceptions=[
                    SeedOccurrenceChange(
                        date(2026, 3, 25),
                        start=datetime(2026, 3, 31, 9, 0, tzinfo=NEW_YORK),
                        end=datetime(2026, 3, 31, 9, 30, tzinfo=NEW_YORK),
                    )
                ],
                deleted=[date(2026, 3, 24)],
            ),
            SeedAppointment(
                BOB,
                "Dentist",
                datetime(2026, 3, 17, 8, 0, tzinfo=BERLIN),
                datetime(2026, 3, 17, 9, 0, tzinfo=BERLIN),
            ),
        ],
    )


@dataclass
class Pair:
    """The two sites on one store: ``fast`` as shipped, ``general`` without the fast path."""

    store: ExchangeStore
    fast: RunningSite
    general: RunningSite

    def post(self, site: RunningSite, body: bytes, auth: tuple[str, str]) -> httpx.Response:
        with httpx.Client(timeout=10) as client:
            return client.post(
                site.ews_url,
                content=body,
                headers={"Content-Type": "text/xml; charset=utf-8"},
                auth=auth,
            )

    def both(self, body: bytes, auth: tuple[str, str] = SERVICE) -> bytes:
        """The answer of both sites, checked equal (status, headers, body, journal)."""
        fast, general = self.post(self.fast, body, auth), self.post(self.general, body, auth)
        assert fast.status_code == general.status_code
        assert _headers(fast) == _headers(general)
        assert fast.content == general.content
        assert _journaled(self.fast) == _journaled(self.general)
        return fast.content

    def direct(self, body: bytes, auth: tuple[str, str] = SERVICE) -> Any:
        """``calendar_poll.answer`` asked directly (None: the general path's request)."""
        account = self.store.authenticate(*auth)
        assert account is not None
        environ: dict[str, Any] = {ACCOUNT_KEY: account}
        return calendar_poll.answer(self.store, EwsOptions(), environ, body)


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
    fast = start_site(store, journal=RequestJournal())
    general = start_site(
        store, options=EwsOptions(fast_calendar_view=False), journal=RequestJournal()
    )
    try:
        yield Pair(store, fast, general)
    finally:
        fast.stop()
        general.stop()


def _engine(mailbox: str, start: datetime, end: datetime, max_entries: int = 200) -> bytes:
    """The poll exactly as the engine writes it (always impersonating)."""
    return FindItemTemplate(max_entries).render(mailbox, start, end)


def _plain(
    start: str,
    end: str,
    mailbox: str | None = None,
    *,
    impersonate: str | None = None,
    fields: tuple[str, ...] = ENGINE_FIELDS,
    max_entries: int | None = None,
) -> bytes:
    view = calendar_view(
        start, end, distinguished("calendar", mailbox), fields=fields, max_entries=max_entries
    )
    return envelope(view, impersonate=impersonate).encode()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WINDOWS = [
    ("2026-03-16T00:00:00", "2026-04-21T00:00:00"),  # the whole weekly series, DST
    ("2026-03-23T00:00:00", "2026-03-24T00:00:00"),  # the exception's day
    ("2026-03-24T00:00:00", "2026-03-25T00:00:00"),  # a deleted daily occurrence
    ("2026-03-31T00:00:00", "2026-04-01T00:00:00"),  # a daily exception moved six days on
    ("2026-03-18T12:00:00", "2026-03-19T12:00:00"),  # inside the all-day event
    ("2026-03-09T13:00:00", "2026-03-09T15:00:00"),  # the stored old US rules
    ("2026-03-29T00:30:00", "2026-03-29T03:30:00"),  # the spring-forward night
    ("2026-06-01T00:00:00", "2026-06-02T00:00:00"),  # nothing
]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_the_engines_poll_is_answered_fast_with_the_general_paths_bytes(
    pair: Pair, start: str, end: str
) -> None:
    body = _engine(ALICE, _at(start), _at(end))
    assert pair.direct(body) is not None
    content = pair.both(body)
    assert b'ResponseClass="Success"' in content


def test_rows_are_really_there(pair: Pair) -> None:
    content = pair.both(_engine(ALICE, *map(_at, WINDOWS[0])))
    for kind in (b"Single", b"Occurrence", b"Exception"):
        assert b"<t:CalendarItemType>" + kind + b"</t:CalendarItemType>" in content
    assert b"<t:Subject>Lunch &amp; &quot;talk&quot; &lt;b&gt;</t:Subject>" in content
    assert b"<t:IsAllDayEvent>true</t:IsAllDayEvent>" in content


@pytest.mark.parametrize("max_entries", [1, 3, 1000])
def test_max_entries_truncates_the_same_way(pair: Pair, max_entries: int) -> None:
    body = _engine(ALICE, *map(_at, WINDOWS[0]), max_entries=max_entries)
    assert pair.direct(body) is not None
    content = pair.both(body)
    last = b'IncludesLastItemInRange="false"' if max_entries < 10 else b'"true"'
    assert last in content


@pytest.mark.parametrize(
    "body",
    [
        # plain: Bob's own calendar, with and without the mailbox named
        _plain("2026-03-16T00:00:00Z", "2026-03-18T00:00:00Z"),
        _plain("2026-03-16T00:00:00Z", "2026-03-18T00:00:00Z", BOB),
        _plain("2026-03-16T00:00:00Z", "2026-03-18T00:00:00Z", BOB, fields=()),
        _plain("2026-03-16T00:00:00Z", "2026-03-18T00:00:00Z", BOB, max_entries=5),
    ],
)
def test_plain_access_to_the_own_calendar(pair: Pair, body: bytes) -> None:
    assert pair.direct(body, BOB_LOGIN) is not None
    assert b'TotalItemsInView="1"' in pair.both(body, BOB_LOGIN)  # the dentist


@pytest.mark.parametrize(
    "body",
    [
        _plain(*WINDOWS[0], ALICE, impersonate=ALICE),  # no Z: UTC, as 2007 reads it
        _plain(
            "2026-03-16T01:00:00.5+01:00", "2026-03-31T00:00:00-02:00", ALICE, impersonate=ALICE
        ),
        _plain("2026-03-16T00:00:00Z", "2026-03-31T00:00:00Z", impersonate=ALICE),
        _plain("2026-03-16T00:00:00Z", "2026-03-31T00:00:00Z", ALICE),  # FullAccess, plain
        envelope(
            calendar_view(
                "2026-03-16T00:00:00Z", "2026-03-31T00:00:00Z", distinguished("calendar")
            ).replace(shape("IdOnly"), shape("Default")),
            impersonate=ALICE,
        ).encode(),
        envelope(
            calendar_view(
                "2026-03-16T00:00:00Z", "2026-03-31T00:00:00Z", distinguished("calendar")
            ).replace(shape("IdOnly"), shape("AllProperties")),
            impersonate=ALICE,
            version="Exchange2007",
        ).encode(),
    ],
)
def test_other_spellings_of_the_same_request(pair: Pair, body: bytes) -> None:
    assert pair.direct(body) is not None
    assert b'ResponseClass="Success"' in pair.both(body)


FALLBACKS = {
    # answers that are faults or error messages
    "impersonation denied": _engine(CAROL, *map(_at, WINDOWS[1])),
    "no such mailbox": _engine(f"nobody@{DOMAIN}", *map(_at, WINDOWS[1])),
    "end before start": _engine(ALICE, _at(WINDOWS[1][1]), _at(WINDOWS[1][0])),
    "range too big": _plain("2026-01-01T00:00:00Z", "2028-01-01T00:00:01Z", impersonate=ALICE),
    "out of range year": _plain("0999-01-01T00:00:00Z", "1000-01-01T00:00:00Z", impersonate=ALICE),
    "no such day": _plain("2026-02-30T00:00:00Z", "2026-03-02T00:00:00Z", impersonate=ALICE),
    "unknown field": _plain(*WINDOWS[1], impersonate=ALICE, fields=("item:Nonsense",)),
    "zero entries": _plain(*WINDOWS[1], impersonate=ALICE, max_entries=0),
    "wrong version": _engine(ALICE, *map(_at, WINDOWS[1])).replace(
        b'"Exchange2007_SP1"', b'"Exchange2010"'
    ),
    # requests of another shape
    "soft deleted": _engine(ALICE, *map(_at, WINDOWS[1])).replace(b"Shallow", b"SoftDeleted"),
    "pretty printed": _engine(ALICE, *map(_at, WINDOWS[1])).replace(b"><m:", b">\n  <m:"),
    "a comment": _engine(ALICE, *map(_at, WINDOWS[1])).replace(
        b"<s:Body>", b"<s:Body><!-- poll -->"
    ),
    "an entity": _engine(ALICE, *map(_at, WINDOWS[1])).replace(
        b"<t:EmailAddress>alice@", b"<t:EmailAddress>alice&#64;"
    ),
    "an inbox": _engine(ALICE, *map(_at, WINDOWS[1])).replace(b'Id="calendar"', b'Id="inbox"'),
    "a restriction": _engine(ALICE, *map(_at, WINDOWS[1])).replace(
        b"<m:ParentFolderIds>",
        b'<m:Restriction><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists>'
        b"</m:Restriction><m:ParentFolderIds>",
    ),
    "an indexed field": _plain(
        *WINDOWS[1],
        impersonate=ALICE,
        fields=("item:Subject", "contacts:EmailAddress#EmailAddress1"),
    ),
    "other prefixes": _engine(ALICE, *map(_at, WINDOWS[1]))
    .replace(b"<s:", b"<soap:")
    .replace(b"</s:", b"</soap:")
    .replace(b"xmlns:s=", b"xmlns:soap="),
    "not well formed": _engine(ALICE, *map(_at, WINDOWS[1]))[:-5],
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_anything_else_goes_the_general_way(pair: Pair, name: str) -> None:
    body = FALLBACKS[name]
    assert pair.direct(body) is None
    pair.both(body)


def test_a_calendar_the_caller_may_not_open_goes_the_general_way(pair: Pair) -> None:
    body = _plain(*WINDOWS[1], ALICE)
    assert pair.direct(body, BOB_LOGIN) is None
    assert b"ErrorAccessDenied" in pair.both(body, BOB_LOGIN)


def test_a_failed_login_never_reaches_it(pair: Pair) -> None:
    body = _engine(ALICE, *map(_at, WINDOWS[1]))
    with httpx.Client(timeout=10) as client:
        response = client.post(
            pair.fast.ews_url,
            content=body,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "Authorization": "Basic " + base64.b64encode(b"svc@poll.example:bad").decode(),
            },
        )
    assert response.status_code == 401
    pair.fast.journal.clear()


def test_new_rows_show_at_once(pair: Pair) -> None:
    body = _engine(BOB, _at("2026-05-04T00:00:00"), _at("2026-05-05T00:00:00"))
    assert b"Late meeting" not in pair.both(body)
    item = pair.store.create_calendar_item(
        pair.store.distinguished_folder("calendar", BOB),
        subject="Late meeting",
        start=datetime(2026, 5, 4, 10, tzinfo=UTC),
        end=datetime(2026, 5, 4, 11, tzinfo=UTC),
    )
    try:
        assert b"Late meeting" in pair.both(body)
    finally:
        pair.store.delete_item(item.id)
    assert b"Late meeting" not in pair.both(body)


def test_the_shape_cache_stays_bounded(pair: Pair) -> None:
    for n in range(calendar_poll._SHAPE_LIMIT + 5):
        fields = ENGINE_FIELDS[: 1 + n % len(ENGINE_FIELDS)] + ("item:Subject",) * (n // 11)
        assert pair.direct(_plain(*WINDOWS[1], impersonate=ALICE, fields=fields)) is not None
    assert len(calendar_poll._shapes) <= calendar_poll._SHAPE_LIMIT


def test_the_fast_answer_counts_the_same_time_span(pair: Pair) -> None:
    two_plain_years = _plain("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z", impersonate=ALICE)
    assert b'ResponseClass="Success"' in pair.both(two_plain_years)
    # 2028 is a leap year: two years from 1 March 2027 are 731 days.
    allowed = _plain("2027-03-01T00:00:00Z", "2029-03-01T00:00:00Z", impersonate=ALICE)
    assert pair.direct(allowed) is not None
    assert b'ResponseClass="Success"' in pair.both(allowed)
    too_long = _plain("2027-03-01T00:00:00Z", "2029-03-01T00:00:01Z", impersonate=ALICE)
    assert b"ErrorCalendarViewRangeTooBig" in pair.both(too_long)
    assert pair.direct(too_long) is None


def test_the_remembered_windows_stay_bounded(pair: Pair) -> None:
    start = datetime(2026, 3, 16, tzinfo=UTC)
    for n in range(calendar_poll._INSTANT_LIMIT + 5):
        moment = start.replace(minute=n % 60, second=n // 60)
        assert pair.direct(_engine(ALICE, moment, moment.replace(hour=3))) is not None
    assert len(calendar_poll._instants) <= calendar_poll._INSTANT_LIMIT


def test_a_changed_authorization_header_is_read_anew(pair: Pair) -> None:
    body = _engine(ALICE, *map(_at, WINDOWS[1]))
    for login, status in ((SERVICE, 200), (("svc@poll.example", "wrong"), 401), (SERVICE, 200)):
        assert pair.post(pair.fast, body, login).status_code == status
    pair.fast.journal.clear()
