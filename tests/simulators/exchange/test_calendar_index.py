"""The calendar view's per-folder index answers as a scan of every item would, after
every kind of change: add, change (times, recurrence), delete, move, copy, a deleted
folder, a restored snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from simulators.exchange.model import CalendarItem, Folder, Occurrence
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.store import ExchangeStore
from simulators.exchange.store_snapshot import restore, snapshot

DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def scanned(store: ExchangeStore, folder: Folder, start: datetime, end: datetime) -> list[str]:
    """What a view of every item gives: the rows' (id, start) in view order."""
    rows: list[Occurrence] = []
    for item_id in folder.item_ids:
        item = store.items[item_id]
        if not isinstance(item, CalendarItem):
            continue
        if item.recurrence is None:
            if item.end > start and item.start < end:
                rows.append(store._single_row(item))
        else:
            rows.extend(store._expand(item, start, end))
    rows.sort(key=lambda r: (r.start, r.end, r.subject, r.id))
    return [f"{r.id}@{r.start.isoformat()}" for r in rows]


def viewed(store: ExchangeStore, folder: Folder, start: datetime, end: datetime) -> list[str]:
    return [f"{r.id}@{r.start.isoformat()}" for r in store.calendar_view(folder, start, end)]


WINDOWS = [
    (DAY, DAY + timedelta(days=1)),
    (DAY + timedelta(hours=9, minutes=30), DAY + timedelta(hours=10)),
    (DAY - timedelta(days=3), DAY + timedelta(days=10)),
    (DAY + timedelta(days=1), DAY + timedelta(days=2)),
]


def same(store: ExchangeStore, folder: Folder) -> None:
    for start, end in WINDOWS:
        assert viewed(store, folder, start, end) == scanned(store, folder, start, end)


@pytest.fixture
def store() -> ExchangeStore:
    s = ExchangeStore()
    s.add_mailbox("alice@domain.net", "Alice Anders", password="pw")
    return s


def calendar(store: ExchangeStore) -> Folder:
    return store.distinguished_folder("calendar", "alice@domain.net")


def single(store: ExchangeStore, hour: int, minutes: int = 60, day: int = 0) -> CalendarItem:
    start = DAY + timedelta(days=day, hours=hour)
    return store.create_calendar_item(
        calendar(store), subject=f"at {hour}", start=start, end=start + timedelta(minutes=minutes)
    )


def test_add_change_delete(store: ExchangeStore) -> None:
    folder = calendar(store)
    same(store, folder)
    first = single(store, 9)
    same(store, folder)
    long = single(store, 8, minutes=60 * 30, day=-1)  # reaches into the next day
    same(store, folder)
    assert any(long.id in row for row in viewed(store, folder, *WINDOWS[0]))
    store.update_item(first.id, end=DAY + timedelta(days=1, hours=11))
    same(store, folder)
    store.update_item(first.id, start=DAY + timedelta(days=1, hours=9))
    same(store, folder)
    store.delete_item(long.id)
    same(store, folder)
    assert not any(long.id in row for row in viewed(store, folder, *WINDOWS[0]))


def test_series_and_recurrence_changes(store: ExchangeStore) -> None:
    folder = calendar(store)
    item = single(store, 10)
    same(store, folder)
    store.update_item(item.id, recurrence=Recurrence("daily", date(2026, 2, 27)))
    same(store, folder)
    assert len(viewed(store, folder, *WINDOWS[2])) > 5
    store.update_item(item.id, recurrence=None)
    same(store, folder)
    assert len(viewed(store, folder, *WINDOWS[2])) == 1


def test_a_refused_change_is_seen_as_made(store: ExchangeStore) -> None:
    folder = calendar(store)
    item = single(store, 9)
    same(store, folder)
    with pytest.raises(Exception):  # noqa: B017 - the store's own error
        store.update_item(item.id, end=DAY)  # before its start: refused, yet set
    same(store, folder)


def test_move_copy_and_deleted_folder(store: ExchangeStore) -> None:
    folder = calendar(store)
    other = store.create_folder(folder, "Other", "IPF.Appointment")
    item = single(store, 9)
    same(store, folder)
    same(store, other)
    store.move_item(item.id, other)
    same(store, folder)
    same(store, other)
    assert viewed(store, folder, *WINDOWS[0]) == []
    twin = store.copy_item(item.id, folder)
    same(store, folder)
    assert any(twin.id in row for row in viewed(store, folder, *WINDOWS[0]))
    store.delete_folder(other)
    same(store, folder)


def test_restored_snapshot(store: ExchangeStore) -> None:
    folder = calendar(store)
    single(store, 9)
    blob = snapshot(store)
    same(store, folder)
    single(store, 11)
    assert len(viewed(store, folder, *WINDOWS[0])) == 2
    restore(store, blob)
    restored = calendar(store)
    same(store, restored)
    assert len(viewed(store, restored, *WINDOWS[0])) == 1


def test_the_index_is_kept_between_views(store: ExchangeStore) -> None:
    folder = calendar(store)
    single(store, 9)
    viewed(store, folder, *WINDOWS[0])
    index = store._calendar_indexes[folder.id]
    viewed(store, folder, *WINDOWS[1])
    assert store._calendar_indexes[folder.id] is index
    single(store, 10)
    viewed(store, folder, *WINDOWS[0])
    assert store._calendar_indexes[folder.id] is not index
