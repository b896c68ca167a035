"""exchangelib 5.6.0 as the client, configured exactly as in the captures
(2007 SP1 build, Basic, impersonation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import (
    ErrorImpersonateUserDenied,
    ErrorImpersonationDenied,
    ErrorNonExistentMailbox,
    ErrorSchemaValidation,
)
from exchangelib.recurrence import NumberedPattern, Recurrence, WeeklyPattern
from exchangelib.version import EXCHANGE_2007_SP3, Build

from simulators.exchange.model import CalendarItem as StoredItem
from tests.conftest import ALICE, BOB, CAROL, EwsServer

TZ = EWSTimeZone("Europe/Berlin")
VIEW = (EWSDateTime(2026, 3, 16, tzinfo=TZ), EWSDateTime(2026, 4, 21, tzinfo=TZ))
UTC = EWSTimeZone("UTC")

# Mondays 09:00 Berlin: 08:00Z before 2026-03-29, 07:00Z after; 23 March moved to
# 14:00, 6 April deleted, lunch 30 March 12:00 (10:00Z).
EXPECTED = [
    ("Weekly review", "2026-03-16 08:00", "2026-03-16 09:00", "Occurrence"),
    ("Moved review", "2026-03-23 13:00", "2026-03-23 14:00", "Exception"),
    ("Weekly review", "2026-03-30 07:00", "2026-03-30 08:00", "Occurrence"),
    ("Lunch", "2026-03-30 10:00", "2026-03-30 11:00", "Single"),
    ("Weekly review", "2026-04-13 07:00", "2026-04-13 08:00", "Occurrence"),
    ("Weekly review", "2026-04-20 07:00", "2026-04-20 08:00", "Occurrence"),
]


def _rows(items: Any) -> list[tuple[str, str, str, str]]:
    fmt = "%Y-%m-%d %H:%M"
    return [
        (
            i.subject,
            i.start.astimezone(UTC).strftime(fmt),
            i.end.astimezone(UTC).strftime(fmt),
            i.type,
        )
        for i in items
    ]


def test_calendar_view_expands_the_series_across_dst(ews: EwsServer) -> None:
    account = ews.account(ALICE)

    items = list(account.calendar.view(start=VIEW[0], end=VIEW[1]))

    assert _rows(items) == EXPECTED
    by_subject = {i.subject: i for i in items}
    assert by_subject["Lunch"].legacy_free_busy_status == "OOF"
    assert by_subject["Lunch"].is_recurring is False
    assert by_subject["Moved review"].is_recurring is True
    assert by_subject["Weekly review"].location == "Room 1"
    operations = [e.operation for e in ews.site.journal.entries()]
    assert operations == ["GetFolder", "GetFolder", "FindItem", "GetItem"]


def test_calendar_view_with_only_is_a_single_find_item(ews: EwsServer) -> None:
    account = ews.account(ALICE)
    account.calendar  # noqa: B018  (exchangelib resolves the folder first)
    ews.site.journal.clear()

    items = list(
        account.calendar.view(start=VIEW[0], end=VIEW[1]).only("subject", "start", "end", "type")
    )

    assert _rows(items) == EXPECTED
    assert [e.operation for e in ews.site.journal.entries()] == ["FindItem"]


def test_local_times_stay_at_nine_in_berlin(ews: EwsServer) -> None:
    items = ews.account(ALICE).calendar.view(start=VIEW[0], end=VIEW[1]).only("subject", "start")
    weekly = [i.start.astimezone(TZ) for i in items if i.subject == "Weekly review"]
    assert [(s.day, s.hour) for s in weekly] == [(16, 9), (30, 9), (13, 9), (20, 9)]


def test_master_carries_recurrence_and_changed_occurrences(ews: EwsServer) -> None:
    master = ews.handles["weekly"]

    item = ews.account(ALICE).calendar.get(id=master.id)

    assert item.type == "RecurringMaster"
    assert item.is_recurring is False  # the 2007 quirk for the organizer
    assert isinstance(item.recurrence.pattern, WeeklyPattern)
    assert item.recurrence.boundary.number == 6
    assert [o.start.astimezone(UTC).strftime("%m-%d %H:%M") for o in item.modified_occurrences] == [
        "03-23 13:00"
    ]
    assert [d.start.astimezone(TZ).strftime("%m-%d %H:%M") for d in item.deleted_occurrences] == [
        "04-06 09:00"
    ]
    assert item.first_occurrence.start.astimezone(UTC).strftime("%m-%d %H:%M") == "03-16 08:00"
    assert item.last_occurrence.start.astimezone(UTC).strftime("%m-%d %H:%M") == "04-20 07:00"


def test_public_folders_root_children(ews: EwsServer) -> None:
    children = list(ews.account(ALICE).public_folders_root.children)

    assert sorted((c.name, c.folder_class, c.child_folder_count) for c in children) == [
        ("Customers", "IPF.Contact", 1),
        ("Suppliers", "IPF.Contact", 0),
    ]


def test_filtered_contact_search_in_a_public_folder(ews: EwsServer) -> None:
    customers = ews.account(ALICE).public_folders_root / "Customers"

    hits = list(
        customers.filter(display_name__contains="Carla").only(
            "display_name", "email_addresses", "phone_numbers", "company_name", "surname"
        )
    )

    assert [h.display_name for h in hits] == ["Carla Customer"]
    carla = hits[0]
    assert carla.company_name == "Kunde GmbH"
    assert carla.surname == "Customer"
    assert [e.email for e in carla.email_addresses] == ["carla@kunde.de"]
    assert {p.label: p.phone_number for p in carla.phone_numbers} == {
        "BusinessPhone": "+49 30 5550",
        "MobilePhone": "+49 171 555",
    }


def test_unrestricted_contact_fetch_fails_as_on_exchange_2007(ews: EwsServer) -> None:
    # exchangelib asks for distributionlist:Members, which the 2007 schema lacks.
    customers = ews.account(ALICE).public_folders_root / "Customers"
    with pytest.raises(ErrorSchemaValidation, match="distributionlist:Members"):
        list(customers.filter(display_name__contains="Carla"))


def test_resolve_names(ews: EwsServer) -> None:
    protocol = ews.account(ALICE).protocol

    several = protocol.resolve_names(["Bob"], return_full_contact_data=True)
    single = protocol.resolve_names(["alice"])
    none = protocol.resolve_names(["nobody"])

    assert [(m.name, m.email_address) for m, _ in several] == [
        ("Bob Builder", BOB),
        ("Roberta Bobson", "roberta@w03ex07.net"),
    ]
    assert several[0][1].display_name == "Bob Builder"
    assert [m.email_address for m in single] == [ALICE]
    assert [type(e).__name__ for e in none] == ["ErrorNameResolutionNoResults"]


def test_create_update_and_delete_an_appointment(ews: EwsServer) -> None:
    account = ews.account(ALICE)
    item = CalendarItem(
        account=account,
        folder=account.calendar,
        subject="Planning",
        start=EWSDateTime(2026, 5, 4, 12, 0, tzinfo=TZ),
        end=EWSDateTime(2026, 5, 4, 13, 0, tzinfo=TZ),
        location="Room 2",
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=[1, 3]),
            boundary=NumberedPattern(start=datetime(2026, 5, 4).date(), number=4),
        ),
    )

    item.save()
    stored = ews.store.item(item.id)
    assert isinstance(stored, StoredItem)
    assert (stored.subject, stored.location, stored.time_zone) == (
        "Planning",
        "Room 2",
        "Europe/Berlin",
    )
    assert stored.recurrence is not None
    assert stored.recurrence.days_of_week == ("Monday", "Wednesday")
    assert stored.recurrence.count == 4

    item.subject = "Planning (moved)"
    item.start = EWSDateTime(2026, 5, 4, 14, 0, tzinfo=TZ)
    item.end = EWSDateTime(2026, 5, 4, 15, 0, tzinfo=TZ)
    item.location = None
    item.save(update_fields=["subject", "start", "end", "location"])
    stored = ews.store.item(item.id)
    assert isinstance(stored, StoredItem)
    assert stored.subject == "Planning (moved)"
    assert stored.start.isoformat() == "2026-05-04T12:00:00+00:00"
    assert stored.location == ""
    assert item.changekey == stored.change_key

    item.delete()
    assert (
        ews.store.calendar_view(
            ews.store.distinguished_folder("calendar", ALICE),
            datetime.fromisoformat("2026-05-01T00:00+00:00"),
            datetime.fromisoformat("2026-06-01T00:00+00:00"),
        )
        == []
    )
    assert [e.operation for e in ews.site.journal.entries()][-3:] == [
        "CreateItem",
        "UpdateItem",
        "DeleteItem",
    ]


def test_impersonation_denied_raises_the_matching_errors(ews: EwsServer) -> None:
    with pytest.raises(ErrorImpersonateUserDenied):
        ews.account(CAROL).calendar.view(start=VIEW[0], end=VIEW[1]).count()
    with pytest.raises(ErrorNonExistentMailbox):
        ews.account("nobody@w03ex07.net").root  # noqa: B018
    ews.store.accounts["osomx@w03ex07.net"].impersonation_on_server = False
    with pytest.raises(ErrorImpersonationDenied):
        ews.account(ALICE).root  # noqa: B018


def test_server_version_reads_as_2007_sp3(ews: EwsServer) -> None:
    account = ews.account(ALICE)
    account.root  # noqa: B018
    build = account.version.build
    assert (build.major_version, build.minor_version) == (8, 3)
    assert (build.major_build, build.minor_build) == (83, 6)
    assert EXCHANGE_2007_SP3 <= build < Build(8, 4)
    assert account.version.fullname.startswith("Microsoft Exchange Server 2007 SP3")
    assert account.version.api_version == "Exchange2007_SP1"


def test_calendar_view_over_https_with_the_generated_ca(
    ews_tls: EwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ews_tls.site.ca_cert_pem is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ews_tls.site.ca_cert_pem)

    items = list(ews_tls.account(ALICE).calendar.view(start=VIEW[0], end=VIEW[1]))

    assert _rows(items) == EXPECTED
    assert ews_tls.url.startswith("https://127.0.0.1:")
