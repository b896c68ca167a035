"""The mailboxes kept across ``harness serve`` restarts (``scenarios.commands.storestate``):
back as they were with the same seed, from the seed with another one, a broken or
unsafe file moved aside. ``start_serving`` in-process, on real sockets."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from scenarios.commands.serve import ServeOptions, start_serving
from scenarios.commands.served import Loaded, Served
from scenarios.commands.storestate import StoreKeeper, restore, seed_identity
from scenarios.format.loader import load_scenario, parse_scenario
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore
from tests.waiting import wait_for as wait_until

ANNA = "user1@domain.net"
SEED = """\
name: Kept mailboxes
timezone: UTC
start: 2026-03-02 08:00
users:
  - {extension: "100", name: Anna, email: user1@domain.net}
appointments:
  - {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "13:00"}
"""
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


wait_for = partial(wait_until, timeout=15.0)


def subjects(store: ExchangeStore) -> list[str]:
    return sorted(i.subject for i in store.items_in(store.distinguished_folder("calendar", ANNA)))


def serve_once(seed: Path, state: Path, change: Callable[[Served], None] = lambda s: None) -> Any:
    """Serve ``seed`` with ``state``, let ``change`` act, stop; what ``change`` saw."""
    loaded = Loaded.from_scenario(load_scenario(str(seed)), str(seed))
    served, _ready, stop = start_serving(loaded, options=ServeOptions(state_dir=str(state)))
    try:
        seen = sorted((i.id, i.subject) for i in served.store.all_calendar_items())
        change(served)
    finally:
        stop()
    return seen


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED, encoding="utf-8")
    return path


def anna_plans_her_day(served: Served) -> None:
    store = served.store
    calendar = store.distinguished_folder("calendar", ANNA)
    (lunch,) = store.items_in(calendar)
    store.update_item(lunch.id, subject="Lunch with Ben")
    store.create_calendar_item(
        calendar, subject="Dentist", start=NOON + timedelta(hours=3), end=NOON + timedelta(hours=4)
    )


def test_a_restart_with_the_same_seed_keeps_the_mailboxes(seed: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    serve_once(seed, state, anna_plans_her_day)
    assert (state / "store.pickle").stat().st_mode & 0o777 == 0o600
    again = serve_once(seed, state)
    assert sorted(subject for _id, subject in again) == [
        "Dentist",
        "Lunch with Ben",
    ]  # ids: any order
    # Same ids: a client (the engine) sees the same appointments, not new ones.
    told: list[tuple[str, str]] = []

    def timeline(served: Served) -> None:
        told.extend((c.change, c.subject) for c in served.history.changes(item_kind="calendar"))

    assert serve_once(seed, state, timeline) == again
    # The live view's history tells the kept items, not the seed's Lunch.
    assert sorted(told) == [("created", "Dentist"), ("created", "Lunch with Ben")]


def test_another_seed_starts_the_mailboxes_from_it(
    seed: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    serve_once(seed, state, anna_plans_her_day)
    seed.write_text(SEED + "# edited\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        again = serve_once(seed, state)
    assert [subject for _id, subject in again] == ["Lunch"]
    assert "saved with another seed; the mailboxes start from this one" in caplog.text


def test_while_another_seed_is_served_nothing_is_kept(seed: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    other = Loaded.from_scenario(parse_scenario(SEED.replace("Lunch", "Gym"), "other.yaml"), None)

    def load_another(served: Served) -> None:
        anna_plans_her_day(served)
        served.load(other)

    serve_once(seed, state, load_another)
    assert not (state / "store.pickle").exists()
    assert [subject for _id, subject in serve_once(seed, state)] == ["Lunch"]


def kept_store(seed_text: str) -> ExchangeStore:
    store = ExchangeStore()
    apply_seed(store, parse_scenario(seed_text, "seed.yaml").seed)
    return store


def test_the_keeper_saves_soon_after_a_change(tmp_path: Path) -> None:
    """Killed before a clean stop, the store is still there: written within a round."""
    store = kept_store(SEED)
    path = tmp_path / "store.pickle"
    keeper = StoreKeeper(path, store, "demo", lambda: True, interval=0.05).start()
    try:
        calendar = store.distinguished_folder("calendar", ANNA)
        store.create_calendar_item(calendar, subject="Dentist", start=NOON, end=NOON)

        def restored() -> list[str]:
            fresh = kept_store(SEED)
            return subjects(fresh) if path.exists() and restore(fresh, path, "demo") else []

        assert wait_for(restored) == ["Dentist", "Lunch"]
    finally:
        keeper.stop()


@pytest.mark.parametrize(
    ("content", "mode", "reason"),
    [
        (b"garbage without a header", 0o600, "not a store snapshot (no header)"),
        (b'{"format": 1, "seed": "demo"}\nnot a pickle', 0o600, "not a store snapshot ("),
        (b'{"format": 1, "seed": "demo"}\n', 0o666, "others may write it or its folder"),
    ],
)
def test_a_broken_or_unsafe_file_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, mode: int, reason: str
) -> None:
    path = tmp_path / "store.pickle"
    path.write_bytes(content)
    os.chmod(path, mode)
    store = kept_store(SEED)
    with caplog.at_level(logging.WARNING):
        assert not restore(store, path, "demo")
    assert subjects(store) == ["Lunch"]
    assert not path.exists()
    (aside,) = tmp_path.glob("store.pickle.bad-*")
    assert aside.read_bytes() == content
    assert reason in caplog.text
    assert f"moved aside to {aside.name}, the mailboxes start from the seed" in caplog.text


def test_a_seed_is_told_by_its_content(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED, encoding="utf-8")
    first = seed_identity(str(path))
    assert seed_identity(str(path)) == first
    path.write_text(SEED + "\n", encoding="utf-8")
    assert seed_identity(str(path)) != first
    assert seed_identity(None) == "demo"
    assert seed_identity(str(tmp_path / "gone.yaml")) != seed_identity(str(tmp_path / "gone.yaml"))
