"""The Exchange store: mailboxes, rights, calendar views, changes, seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from simulators.clock import Clock
from simulators.exchange.model import CalendarItem, Occurrence
from simulators.exchange.recurrence import Recurrence, occurrence_starts
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedContact,
    SeedFolder,
    SeedMailbox,
    SeedOccurrenceChange,
    ServiceAccount,
    apply_seed,
)
from simulators.exchange.store import ExchangeStore, StoreError

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.fixture
def store() -> ExchangeStore:
    s = ExchangeStore()
    s.add_mailbox("Alice@Domain.net", "Alice Anders", password="pw-alice")
    s.add_mailbox("bob@domain.net", "Bob Berger", language="de")
    return s


def weekly_series(store: ExchangeStore) -> CalendarItem:
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    master = store.create_calendar_item(
        calendar,
        subject="Jour fixe",
        start=berlin(2026, 3, 16, 9),
        end=berlin(2026, 3, 16, 10),
        time_zone="Europe/Berlin",
        recurrence=Recurrence("weekly", date(2026, 3, 16), days_of_week=("Monday",), count=5),
    )
    store.modify_occurrence(
        master,
        date(2026, 3, 23),
        subject="Jour fixe (moved)",
        start=berlin(2026, 3, 24, 14),
        end=berlin(2026, 3, 24, 15),
    )
    store.delete_occurrence(master, date(2026, 4, 6))
    return master


def test_mailbox_lookup_is_case_insensitive(store: ExchangeStore) -> None:
    assert store.mailbox("ALICE@domain.NET").display_name == "Alice Anders"
    with pytest.raises(StoreError) as err:
        store.mailbox("nobody@domain.net")
    assert err.value.code == "ErrorNonExistentMailbox"


def test_german_mailbox_has_localised_folders(store: ExchangeStore) -> None:
    assert store.distinguished_folder("calendar", "bob@domain.net").display_name == "Kalender"
    assert store.distinguished_folder("calendar", "alice@domain.net").display_name == "Calendar"
    assert store.distinguished_folder("inbox", "bob@domain.net").display_name == "Posteingang"


def test_folder_tree_root_holds_top_of_store(store: ExchangeStore) -> None:
    root = store.distinguished_folder("root", "alice@domain.net")
    # The root holds the Top of Information Store and, outside it, the search folders.
    assert [f.distinguished for f in store.children(root)] == ["msgfolderroot", "searchfolders"]
    top = store.distinguished_folder("msgfolderroot", "alice@domain.net")
    names = {f.distinguished for f in store.children(top)}
    assert {"calendar", "contacts", "inbox"} <= names


def test_authenticate_accepts_upn_alias_and_domain_form(store: ExchangeStore) -> None:
    assert store.authenticate("alice@domain.net", "pw-alice") is not None
    assert store.authenticate("DOMAIN\\alice", "pw-alice") is not None
    assert store.authenticate("alice", "pw-alice") is not None
    assert store.authenticate("alice@domain.net", "wrong") is None
    assert store.authenticate("carol@domain.net", "secret") is None


def test_calendar_view_expands_series_across_dst(store: ExchangeStore) -> None:
    weekly_series(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    rows = store.calendar_view(calendar, berlin(2026, 3, 1), berlin(2026, 5, 1))
    seen = [(r.item_type, r.start.astimezone(BERLIN).strftime("%m-%d %H:%M")) for r in rows]
    assert seen == [
        ("Occurrence", "03-16 09:00"),
        ("Exception", "03-24 14:00"),
        ("Occurrence", "03-30 09:00"),
        ("Occurrence", "04-13 09:00"),
    ]
    assert rows[2].start == datetime(2026, 3, 30, 7, tzinfo=UTC)  # CEST now
    assert rows[1].subject == "Jour fixe (moved)"
    assert rows[1].original_start == datetime(2026, 3, 23, 8, tzinfo=UTC)


def test_view_overlap_is_half_open(store: ExchangeStore) -> None:
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    store.create_calendar_item(
        calendar, subject="Lunch", start=berlin(2026, 1, 5, 12), end=berlin(2026, 1, 5, 13)
    )
    assert store.calendar_view(calendar, berlin(2026, 1, 5, 13), berlin(2026, 1, 5, 14)) == []
    assert store.calendar_view(calendar, berlin(2026, 1, 5, 11), berlin(2026, 1, 5, 12)) == []
    assert (
        len(store.calendar_view(calendar, berlin(2026, 1, 5, 12, 59), berlin(2026, 1, 5, 14))) == 1
    )


def test_moved_exception_is_found_at_its_new_time(store: ExchangeStore) -> None:
    weekly_series(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    rows = store.calendar_view(calendar, berlin(2026, 3, 24, 0), berlin(2026, 3, 25, 0))
    assert [r.subject for r in rows] == ["Jour fixe (moved)"]


@pytest.mark.parametrize(("hours", "days"), [(1.5, ()), (75, ("Friday", "Tuesday"))])
def test_a_series_without_exceptions_shows_every_row_reaching_into_a_view(
    store: ExchangeStore, hours: float, days: tuple[str, ...]
) -> None:
    # Without exceptions the search reaches one duration before the view, no further.
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    master = store.create_calendar_item(
        calendar,
        subject="Series",
        start=berlin(2026, 3, 20, 23, 30),
        end=berlin(2026, 3, 20, 23, 30) + timedelta(hours=hours),
        time_zone="Europe/Berlin",
        recurrence=Recurrence(
            "weekly" if days else "daily", date(2026, 3, 20), days_of_week=days, count=20
        ),
    )
    local_start = master.start.astimezone(BERLIN).time()
    every = [start for _, start in occurrence_starts(master.recurrence, local_start, BERLIN)]
    assert len(every) == 20
    duration = timedelta(hours=hours)
    view = timedelta(minutes=50)
    at = datetime(2026, 3, 20, 20, tzinfo=UTC)
    while at < datetime(2026, 4, 12, tzinfo=UTC):
        shown = [r.start for r in store.calendar_view(calendar, at, at + view)]
        assert shown == [s for s in every if s < at + view and s + duration > at], at
        at += timedelta(minutes=35)


def test_an_occurrence_keeps_its_id(store: ExchangeStore) -> None:
    weekly_series(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    first = store.calendar_view(calendar, berlin(2026, 3, 1), berlin(2026, 5, 1))
    again = store.calendar_view(calendar, berlin(2026, 3, 30), berlin(2026, 4, 14))
    assert [r.id for r in again] == [r.id for r in first[2:]]
    assert len({r.id for r in first}) == len(first)
    for row in first:
        found = store.item(row.id)
        assert isinstance(found, Occurrence) and found.start == row.start


def test_occurrence_id_resolves_and_updates_become_exceptions(store: ExchangeStore) -> None:
    master = weekly_series(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    rows = store.calendar_view(calendar, berlin(2026, 4, 13), berlin(2026, 4, 14))
    occ = store.item(rows[0].id)
    assert isinstance(occ, Occurrence) and occ.item_type == "Occurrence"
    updated = store.update_item(rows[0].id, subject="Lunch")
    assert isinstance(updated, Occurrence) and updated.item_type == "Exception"
    assert master.exceptions[date(2026, 4, 13)].subject == "Lunch"
    store.delete_item(rows[0].id)
    assert store.calendar_view(calendar, berlin(2026, 4, 13), berlin(2026, 4, 14)) == []
    assert date(2026, 4, 13) in master.deleted


def test_first_and_last_occurrence(store: ExchangeStore) -> None:
    master = weekly_series(store)
    first, last = store.first_and_last(master)
    assert first is not None and last is not None
    assert first.start == datetime(2026, 3, 16, 8, tzinfo=UTC)
    assert last.start == datetime(2026, 4, 13, 7, tzinfo=UTC)


def test_stamps_come_from_the_skewed_clock() -> None:
    store = ExchangeStore(Clock(skew=timedelta(seconds=40)))
    store.add_mailbox("alice@domain.net")
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    with freeze_time("2026-01-05 11:00:00", real_asyncio=True):
        item = store.create_calendar_item(
            calendar, subject="x", start=berlin(2026, 1, 5, 12), end=berlin(2026, 1, 5, 13)
        )
    assert item.created == datetime(2026, 1, 5, 11, 0, 40, tzinfo=UTC)
    with freeze_time("2026-01-05 11:10:00", real_asyncio=True):
        store.update_item(item.id, subject="Lunch")
    assert item.modified == datetime(2026, 1, 5, 11, 10, 40, tzinfo=UTC)
    assert item.version == 2 and item.change_key.endswith("0002")


def test_end_before_start_is_refused(store: ExchangeStore) -> None:
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    with pytest.raises(StoreError) as err:
        store.create_calendar_item(
            calendar, subject="x", start=berlin(2026, 1, 5, 12), end=berlin(2026, 1, 5, 11)
        )
    assert err.value.code == "ErrorCalendarEndDateIsEarlierThanStartDate"


def test_unknown_item_and_folder(store: ExchangeStore) -> None:
    with pytest.raises(StoreError) as err:
        store.item("AAMkdoesnotexist")
    assert err.value.code == "ErrorItemNotFound"
    with pytest.raises(StoreError) as err:
        store.folder("nope")
    assert err.value.code == "ErrorFolderNotFound"


def test_resolve_names_by_prefix(store: ExchangeStore) -> None:
    assert [m.smtp for m in store.resolve_names("bob")] == ["bob@domain.net"]
    assert [m.smtp for m in store.resolve_names("Berger")] == ["bob@domain.net"]
    assert store.resolve_names("zed") == []


def full_seed() -> Seed:
    return Seed(
        service_account=ServiceAccount(denied_mailboxes=("bob@domain.net",)),
        mailboxes=[SeedMailbox("alice@domain.net", "Alice"), SeedMailbox("bob@domain.net", "Bob")],
        appointments=[
            SeedAppointment(
                mailbox="alice@domain.net",
                subject="Team",
                start=berlin(2026, 3, 16, 9),
                end=berlin(2026, 3, 16, 10),
                handle="team",
                time_zone="Europe/Berlin",
                recurrence=Recurrence(
                    "weekly", date(2026, 3, 16), days_of_week=("Monday",), count=4
                ),
                exceptions=[SeedOccurrenceChange(date(2026, 3, 23), subject="Lunch")],
                deleted=[date(2026, 3, 30)],
            )
        ],
        public_folders=[
            SeedFolder(
                "Customers",
                contacts=[
                    SeedContact(
                        "Carla Customer",
                        "Carla",
                        "Customer",
                        "Kunde GmbH",
                        ["carla@kunde.de"],
                        {"BusinessPhone": "+49 30 5550"},
                    )
                ],
                folders=[SeedFolder("Archive", contacts=[SeedContact("Old Contact")])],
            )
        ],
    )


def test_apply_seed_fills_everything_and_clears_first(store: ExchangeStore) -> None:
    handles = apply_seed(store, full_seed())
    assert set(store.mailboxes) == {"alice@domain.net", "bob@domain.net"}
    team = handles["team"]
    assert team.exceptions[date(2026, 3, 23)].subject == "Lunch"
    assert team.deleted == {date(2026, 3, 30)}
    root = store.distinguished_folder("publicfoldersroot", None)
    (customers,) = store.children(root)
    assert customers.display_name == "Customers"
    (archive,) = store.children(customers)
    assert [c.display_name for c in store.items_in(archive)] == ["Old Contact"]  # type: ignore[union-attr]


def test_service_account_rights(store: ExchangeStore) -> None:
    apply_seed(store, full_seed())
    svc = store.authenticate("OSOMX@domain.net", "secret")
    assert svc is not None
    assert store.check_impersonation(svc, "alice@domain.net").smtp == "alice@domain.net"
    with pytest.raises(StoreError) as err:
        store.check_impersonation(svc, "bob@domain.net")
    assert err.value.code == "ErrorImpersonateUserDenied"
    with pytest.raises(StoreError) as err:
        store.check_impersonation(svc, "ghost@domain.net")
    assert err.value.code == "ErrorNonExistentMailbox"
    with pytest.raises(StoreError) as err:
        store.check_access(svc, store.mailbox("bob@domain.net"))
    assert err.value.code == "ErrorAccessDenied"
    store.check_access(svc, store.mailbox("alice@domain.net"))


def test_without_server_right_impersonation_is_denied_first(store: ExchangeStore) -> None:
    seed = full_seed()
    seed.service_account.impersonation_on_server = False
    apply_seed(store, seed)
    svc = store.authenticate("OSOMX", "secret")
    assert svc is not None
    with pytest.raises(StoreError) as err:
        store.check_impersonation(svc, "alice@domain.net")
    assert err.value.code == "ErrorImpersonationDenied"


def test_mail_delivery_lands_in_inbox(store: ExchangeStore) -> None:
    message = store.deliver_message(
        "bob@domain.net", subject="Voicemail", sender="pbx@domain.net", mime=b"x"
    )
    inbox = store.distinguished_folder("inbox", "bob@domain.net")
    assert store.items_in(inbox) == [message]
    assert store.owner_of(message) == "bob@domain.net"


def test_a_series_moved_or_rezoned_expands_anew(store: ExchangeStore) -> None:
    master = weekly_series(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    week = (berlin(2026, 3, 30), berlin(2026, 3, 31))
    assert [r.start for r in store.calendar_view(calendar, *week)] == [berlin(2026, 3, 30, 9)]
    store.update_item(master.id, start=berlin(2026, 3, 16, 11), end=berlin(2026, 3, 16, 12))
    assert [r.start for r in store.calendar_view(calendar, *week)] == [berlin(2026, 3, 30, 11)]
    store.update_item(master.id, time_zone="UTC")  # 11:00 Berlin kept as 10:00 UTC
    assert [r.start for r in store.calendar_view(calendar, *week)] == [
        datetime(2026, 3, 30, 10, tzinfo=UTC)
    ]


def test_stable_item_ids_are_the_same_in_every_version() -> None:
    # Seed data keeps its ids from one start of harness serve to the next, and from one
    # release to the next: a client that cached them sees the same items.
    from simulators.exchange.store import _opaque_id

    assert ExchangeStore.stable_item_id("x") == _opaque_id("i", "stable:x")
    assert _opaque_id("i", "stable:x") == (
        "AAMkADYxYzkyMzdlLTFjNTctOWFlNi0wNmRjLTRlZDFlNTM1MTYxMAFGAGHJI34cV5rmBtxO0eU1FhCwxh91T3ueAbGcUvd8CB7PZvQsXq/sjElguZMcaU1aAINCadFYXep6E5fM5ljilTUIayWB5Wlf"
    )
    assert _opaque_id("f", "abc") == (
        "AAMkADQyZjI0MjJhLTVkYzUtMjllNS0zMDI3LTgxY2Q4YzY1MTIwMwFGAELyQipdxSnlMCeBzYxlEgN8cHTlIprPcdf0gVY2VBLlpquOd7vKrJO++wzeK+Y4AKzE6dnaPuFeV0Ej1cO3KGZfqLhWMWZf"
    )
    assert len(_opaque_id("i", "any")) == 152
