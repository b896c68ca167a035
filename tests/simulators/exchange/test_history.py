"""The store's change history: every create, update and delete, whoever made it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from simulators.exchange.history import ChangeHistory, ItemChange
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.store import ExchangeStore

T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


@pytest.fixture
def store() -> ExchangeStore:
    s = ExchangeStore()
    s.add_mailbox("Alice@Domain.net", "Alice Anders")
    s.add_mailbox("bob@domain.net", "Bob Berger")
    return s


def test_history_records_versions_of_an_appointment_on_the_store_clock(
    store: ExchangeStore,
) -> None:
    history = ChangeHistory().attach(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    with freeze_time(T0) as clock:
        item = store.create_calendar_item(
            calendar, subject="Lunch", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)
        )
        clock.tick(timedelta(minutes=5))
        store.update_item(item.id, start=T0 + timedelta(hours=1, minutes=30))
        clock.tick(timedelta(minutes=5))
        store.update_item(item.id, subject="Late lunch")
        clock.tick(timedelta(minutes=5))
        store.delete_item(item.id)
    rows = [(c.at, c.change, c.fields, c.subject, c.start) for c in history.changes()]
    moved = T0 + timedelta(hours=1, minutes=30)
    assert rows == [
        (T0, "created", (), "Lunch", T0 + timedelta(hours=1)),
        (T0 + timedelta(minutes=5), "updated", ("start",), "Lunch", moved),
        (T0 + timedelta(minutes=10), "updated", ("subject",), "Late lunch", moved),
        (T0 + timedelta(minutes=15), "deleted", (), "Late lunch", moved),
    ]
    assert {c.mailbox for c in history.changes()} == {"alice@domain.net"}
    assert history.changes()[-1].deleted


def test_seeded_creation_is_recorded_at_its_created_stamp(store: ExchangeStore) -> None:
    history = ChangeHistory().attach(store)
    calendar = store.distinguished_folder("calendar", "bob@domain.net")
    yesterday = T0 - timedelta(days=1)
    store.create_calendar_item(
        calendar, subject="Old", start=T0, end=T0 + timedelta(hours=1), created=yesterday
    )
    assert [c.at for c in history.changes(mailbox="BOB@domain.net")] == [yesterday]
    assert history.changes(mailbox="alice@domain.net") == []


def test_occurrence_changes_carry_the_occurrence_id_and_the_series(store: ExchangeStore) -> None:
    history = ChangeHistory().attach(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    master = store.create_calendar_item(
        calendar,
        subject="Jour fixe",
        start=datetime(2026, 3, 16, 8, tzinfo=UTC),
        end=datetime(2026, 3, 16, 9, tzinfo=UTC),
        recurrence=Recurrence("weekly", date(2026, 3, 16), days_of_week=("Monday",), count=3),
    )
    store.modify_occurrence(master, date(2026, 3, 23), subject="Jour fixe (moved)")
    store.delete_occurrence(master, date(2026, 3, 30))
    created, modified, deleted = history.changes()
    assert created.recurring and created.item_id == master.id and created.occurrence is None
    assert (modified.change, modified.series_id, modified.occurrence) == (
        "updated",
        master.id,
        date(2026, 3, 23),
    )
    assert modified.subject == "Jour fixe (moved)" and modified.item_id != master.id
    assert (deleted.change, deleted.occurrence) == ("deleted", date(2026, 3, 30))


def test_mail_and_contacts_are_recorded_with_their_kind(store: ExchangeStore) -> None:
    history = ChangeHistory().attach(store)
    store.deliver_message("bob@domain.net", subject="Voicemail", sender="pbx@domain.net")
    folder = store.add_public_folder("Customers")
    store.create_contact(folder, display_name="Carla Customer")
    mail, contact = history.changes()
    assert (mail.item_kind, mail.subject, mail.mailbox, mail.start) == (
        "message",
        "Voicemail",
        "bob@domain.net",
        None,
    )
    assert (contact.item_kind, contact.subject, contact.mailbox) == (
        "contact",
        "Carla Customer",
        None,
    )
    assert history.changes(item_kind="calendar") == []


def test_clear_forgets_everything_before_it(store: ExchangeStore) -> None:
    history = ChangeHistory().attach(store)
    store.deliver_message("bob@domain.net", subject="Before")
    store.clear()
    assert [c.change for c in history.changes()] == ["cleared"]


def test_history_is_bounded(store: ExchangeStore) -> None:
    history = ChangeHistory(limit=10).attach(store)
    for n in range(25):
        store.deliver_message("bob@domain.net", subject=f"m{n}")
    assert len(history) == 10
    assert [c.subject for c in history.changes()][0] == "m15"


def test_a_failing_listener_neither_breaks_the_store_nor_the_others(
    store: ExchangeStore,
) -> None:
    seen: list[ItemChange] = []

    def broken(change: ItemChange) -> None:
        raise RuntimeError("listener bug")

    store.on_change(broken)
    unsubscribe = store.on_change(seen.append)
    store.deliver_message("bob@domain.net", subject="Still delivered")
    assert [m.subject for m in store.messages("bob@domain.net")] == ["Still delivered"]
    assert [c.subject for c in seen] == ["Still delivered"]
    unsubscribe()
    store.deliver_message("bob@domain.net", subject="Not seen")
    assert len(seen) == 1


def test_detach_stops_recording(store: ExchangeStore) -> None:
    history = ChangeHistory().attach(store)
    history.detach()
    store.deliver_message("bob@domain.net", subject="Unrecorded")
    assert len(history) == 0


def test_an_appointment_moved_out_of_the_calendar_is_gone_and_a_copy_back_is_new(
    store: ExchangeStore,
) -> None:
    history = ChangeHistory().attach(store)
    calendar = store.distinguished_folder("calendar", "alice@domain.net")
    item = store.create_calendar_item(
        calendar, subject="Lunch", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)
    )
    store.delete_as(item.id, "MoveToDeletedItems")  # EWS DeleteItem's default for a client
    trash = store.distinguished_folder("deleteditems", "alice@domain.net")
    assert store.item(item.id).folder_id == trash.id
    twin = store.copy_item(item.id, calendar)
    rows = [(c.change, c.item_id) for c in history.changes()]
    assert rows == [("created", item.id), ("deleted", item.id), ("created", twin.id)]
