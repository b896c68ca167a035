"""Extended (MAPI) properties in the store: bound to model fields, computed and
read-only, or stored as written; and the default folders every mailbox has."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.mapi import (
    PS_INTERNET_HEADERS,
    PS_PUBLIC_STRINGS,
    PSETID_APPOINTMENT,
    PSETID_COMMON,
    PropertyValueError,
    PropKey,
    format_value,
    parse_values,
)
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.store import MAILBOX_FOLDERS, ExchangeStore, StoreError

BERLIN = ZoneInfo("Europe/Berlin")
ALICE = "alice@domain.net"
INSTANCE_TYPE = PropKey.named(PS_PUBLIC_STRINGS, "urn:schemas:calendar:instancetype")


@pytest.fixture
def store() -> ExchangeStore:
    s = ExchangeStore()
    s.add_mailbox(ALICE, "Alice Anders")
    s.add_mailbox("bob@domain.net", "Bob Berger", language="de")
    return s


def test_every_mailbox_has_the_2007_default_folders_localised(store: ExchangeStore) -> None:
    for dist, _kind, folder_class, english, german in MAILBOX_FOLDERS:
        en = store.distinguished_folder(dist, ALICE)
        de = store.distinguished_folder(dist, "bob@domain.net")
        assert (en.display_name, de.display_name, en.folder_class) == (
            english,
            german,
            folder_class,
        )
    assert {d for d, *_ in MAILBOX_FOLDERS} >= {
        "junkemail", "outbox", "tasks", "journal", "notes", "searchfolders", "voicemail",
        "drafts", "sentitems", "deleteditems", "msgfolderroot",
    }  # fmt: skip
    voicemail = store.distinguished_folder("voicemail", ALICE)
    assert store.folders[voicemail.parent_id or ""].distinguished == "searchfolders"


def test_bound_properties_read_and_write_the_model(store: ExchangeStore) -> None:
    calendar = store.distinguished_folder("calendar", ALICE)
    item = store.create_calendar_item(
        calendar, subject="Lunch", start=datetime(2026, 3, 20, 11, tzinfo=UTC),
        end=datetime(2026, 3, 20, 12, tzinfo=UTC), body="soup",
    )  # fmt: skip
    assert store.get_property(item, PropKey.tagged(0x0037)) == "Lunch"
    assert store.get_property(item, PropKey.tagged(0x1000)) == "soup"
    assert store.get_property(item, INSTANCE_TYPE) == 0
    store.set_properties(item, [(PropKey.tagged(0x0037), "String", "Dinner")])
    assert (item.subject, item.version) == ("Dinner", 2)
    assert store.get_property(calendar, PropKey.tagged(0x3613)) == "IPF.Appointment"
    assert store.get_property(calendar, PropKey.tagged(0x3602)) == 1
    store.set_properties(calendar, [(PropKey.tagged(0x3001), "String", "Termine")])
    assert calendar.display_name == "Termine"


def test_computed_properties_cannot_be_written(store: ExchangeStore) -> None:
    inbox = store.distinguished_folder("inbox", ALICE)
    with pytest.raises(StoreError) as err:
        store.set_properties(inbox, [(PropKey.tagged(0x3602), "Integer", 7)])
    assert err.value.code == "ErrorInvalidPropertySet"
    assert store.get_property(inbox, PropKey.tagged(0x3602)) == 0


def test_other_properties_are_stored_as_written_and_removed(store: ExchangeStore) -> None:
    message = store.deliver_message(
        ALICE, subject="Hi", sender="x@y.z", recipients=[ALICE], mime=b""
    )
    flag = PropKey.tagged(0x1090)
    deleted = PropKey.numbered(PSETID_COMMON, 0x8570)
    keywords = PropKey.named(PS_PUBLIC_STRINGS, "Keywords")
    store.set_properties(
        message,
        [(flag, "Integer", 2), (deleted, "Integer", 1), (keywords, "StringArray", ["a", "b"])],
    )
    assert store.get_property(message, flag) == 2
    assert store.get_property(message, deleted, "String") == "1"  # asked as another type
    assert store.get_property(message, keywords) == ["a", "b"]
    store.remove_properties(message, [flag])
    assert store.get_property(message, flag) is None
    assert store.get_property(message, PropKey.tagged(0x7777)) is None


def test_message_flags_are_read_and_draft_state(store: ExchangeStore) -> None:
    drafts = store.distinguished_folder("drafts", ALICE)
    draft = store.create_message(drafts, b"Subject: x\r\n\r\nbody\r\n")
    flags = PropKey.tagged(0x0E07)
    assert store.get_property(draft, flags) == 8  # unsent, unread
    store.set_properties(draft, [(flags, "Integer", 1)])
    assert (draft.is_read, draft.is_draft) == (True, False)
    assert store.get_property(draft, PropKey.tagged(0x1000)) == "body\r\n"
    assert store.get_property(draft, PropKey.named(PS_INTERNET_HEADERS, "Subject")) == "x"


def test_articles_grow_and_folders_know_their_latest_change(store: ExchangeStore) -> None:
    inbox = store.distinguished_folder("inbox", ALICE)
    first = store.deliver_message(ALICE, subject="1", mime=b"")
    second = store.deliver_message(ALICE, subject="2", mime=b"")
    assert 0 < first.article < second.article
    assert store.get_property(inbox, PropKey.tagged(0x6752)) == second.article
    assert store.get_property(inbox, PropKey.tagged(0x6751)) == second.article + 1
    assert store.get_property(second, PropKey.tagged(0x0E23)) == second.article
    assert store.get_property(inbox, PropKey.tagged(0x670A)) == second.modified


def test_occurrences_report_their_own_instance_type(store: ExchangeStore) -> None:
    calendar = store.distinguished_folder("calendar", ALICE)
    master = store.create_calendar_item(
        calendar,
        subject="Weekly",
        start=datetime(2026, 3, 16, 9, tzinfo=BERLIN),
        end=datetime(2026, 3, 16, 10, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
        recurrence=Recurrence("weekly", date(2026, 3, 16), days_of_week=("Monday",), count=3),
    )
    store.modify_occurrence(master, date(2026, 3, 23), subject="Moved")
    rows = store.calendar_view(
        calendar, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert [store.get_property(r, INSTANCE_TYPE) for r in rows] == [2, 3, 2]
    assert store.get_property(master, INSTANCE_TYPE) == 1
    assert store.get_property(master, PropKey.numbered(PSETID_APPOINTMENT, 0x8223)) is True


def test_values_parse_and_format_by_type() -> None:
    assert parse_values("Integer", ["42"]) == 42
    assert parse_values("Boolean", ["TRUE"]) is True
    assert parse_values("SystemTime", ["2026-03-20T11:00:00Z"]) == datetime(
        2026, 3, 20, 11, tzinfo=UTC
    )
    assert parse_values("StringArray", ["a", "b"]) == ["a", "b"]
    assert format_value("Binary", b"\x00\x01") == ["AAE="]
    assert format_value("SystemTime", datetime(2026, 3, 20, 11, tzinfo=UTC)) == [
        "2026-03-20T11:00:00Z"
    ]
    with pytest.raises(PropertyValueError):
        parse_values("Integer", ["eleven"])
    with pytest.raises(PropertyValueError):
        parse_values("String", ["a", "b"])
