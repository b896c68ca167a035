"""The whole store as bytes and back (``simulators.exchange.store_snapshot``): what a
restarted Exchange still holds, and bytes that are not a snapshot refused."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import Seed, SeedAppointment, SeedMailbox, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.exchange.store_snapshot import (
    FORMAT,
    SnapshotError,
    model_fingerprint,
    restore,
    snapshot,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ANNA = "user1@domain.net"


def seeded() -> ExchangeStore:
    store = ExchangeStore()
    apply_seed(
        store,
        Seed(
            mailboxes=[SeedMailbox(ANNA, "Anna"), SeedMailbox("user2@domain.net", "Ben")],
            appointments=[SeedAppointment(ANNA, "Lunch", NOON, NOON + HOUR)],
        ),
    )
    return store


def calendar_rows(store: ExchangeStore) -> list[tuple[str, str, datetime, int, str]]:
    folder = store.distinguished_folder("calendar", ANNA)
    view = store.calendar_view(folder, NOON - 24 * HOUR, NOON + 24 * 7 * HOUR)
    return [(r.id, r.subject, r.start, r.master.version, r.item_type) for r in view]


def test_what_was_made_changed_and_deleted_comes_back() -> None:
    before = seeded()
    calendar = before.distinguished_folder("calendar", ANNA)
    (lunch,) = before.items_in(calendar)
    before.update_item(lunch.id, subject="Lunch with Ben")
    series = before.create_calendar_item(
        calendar,
        subject="Stand-up",
        start=NOON + 2 * HOUR,
        end=NOON + 2 * HOUR + timedelta(minutes=15),
        recurrence=Recurrence("daily", NOON.date()),
    )
    before.modify_occurrence(series, date(2026, 3, 3), subject="Stand-up (moved)")
    before.delete_occurrence(series, date(2026, 3, 4))
    mail = before.deliver_message(ANNA, subject="Voicemail from 200", mime=b"Subject: x\r\n\r\n")
    made = calendar_rows(before)

    after = ExchangeStore()  # another process: a store on its own clock and lock
    restore(after, snapshot(before))
    assert calendar_rows(after) == made
    assert after.item(series.id).uid == series.uid  # type: ignore[union-attr]
    assert [m.id for m in after.messages(ANNA)] == [mail.id]
    assert after.mailbox(ANNA).folders == before.mailbox(ANNA).folders
    # It goes on numbering where it was: no article number is used twice.
    assert after.next_article() == before.next_article()
    again = after.create_calendar_item(calendar, subject="New", start=NOON, end=NOON + HOUR)
    assert again.article == before.next_article()


def test_the_snapshot_is_a_copy() -> None:
    store = seeded()
    blob = snapshot(store)
    (lunch,) = store.items_in(store.distinguished_folder("calendar", ANNA))
    store.delete_item(lunch.id)
    restore(store, blob)
    assert [i.subject for i in store.items_in(store.distinguished_folder("calendar", ANNA))] == [
        "Lunch"
    ]


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"not a pickle at all", "not a store snapshot (UnpicklingError"),
        (pickle.dumps([1, 2]), "not a store snapshot of this format"),
        (
            pickle.dumps({"format": FORMAT, "model": "another", "data": {}}),
            "whose store differs",
        ),
        (
            pickle.dumps({"format": FORMAT, "model": model_fingerprint(), "data": {"items": {}}}),
            "without all its parts",
        ),
    ],
)
def test_what_is_not_a_snapshot_is_refused_and_the_store_stays(blob: bytes, reason: str) -> None:
    store = seeded()
    rows = calendar_rows(store)
    with pytest.raises(SnapshotError, match=re.escape(reason)):
        restore(store, blob)
    assert calendar_rows(store) == rows
