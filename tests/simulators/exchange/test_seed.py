"""Seeding the store (``simulators.exchange.seed``): a seed's appointments keep their
ids and UIDs from one seeding to the next, as a restarted Exchange's items do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulators.exchange.seed import Seed, SeedAppointment, SeedMailbox, apply_seed
from simulators.exchange.store import ExchangeStore

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def seed(*subjects: str) -> Seed:
    return Seed(
        mailboxes=[SeedMailbox("user1@domain.net", "Anna"), SeedMailbox("user2@domain.net", "Ben")],
        appointments=[
            SeedAppointment(mailbox, subject, NOON, NOON + HOUR)
            for subject in subjects
            for mailbox in ("user1@domain.net", "user2@domain.net")
        ],
    )


def seeded(spec: Seed) -> list[tuple[str, str, str]]:
    store = ExchangeStore()
    apply_seed(store, spec)
    return [(i.id, i.uid, i.subject) for i in store.all_calendar_items()]


def test_the_same_seed_gives_the_same_ids_and_uids() -> None:
    first, second = seeded(seed("Lunch", "Lunch")), seeded(seed("Lunch", "Lunch"))
    assert first == second
    # Alike appointments, even in one mailbox, are still each their own item.
    assert len({item_id for item_id, _, _ in first}) == 4
    assert len({uid for _, uid, _ in first}) == 4
    assert all(len(item_id) == 152 for item_id, _, _ in first)  # Exchange-looking ids


def test_a_changed_appointment_in_the_seed_is_another_item() -> None:
    before, after = seeded(seed("Lunch")), seeded(seed("Dentist"))
    assert not {i for i, _, _ in before} & {i for i, _, _ in after}


def test_items_made_later_get_new_ids() -> None:
    store = ExchangeStore()
    apply_seed(store, seed("Lunch"))
    calendar = store.distinguished_folder("calendar", "user1@domain.net")
    made = [store.create_calendar_item(calendar, subject="Lunch", start=NOON, end=NOON + HOUR)]
    made.append(store.create_calendar_item(calendar, subject="Lunch", start=NOON, end=NOON + HOUR))
    assert made[0].id != made[1].id
    assert made[0].uid != made[1].uid
