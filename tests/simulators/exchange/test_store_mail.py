"""Mail in the store: drafts, sending through the transport (or local delivery),
moving, copying, the DeleteItem dispositions and the folders clients make."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.exchange.store import ExchangeStore, StoreError
from simulators.exchange.store_mail import promoted_fields, without_bcc
from simulators.smtp import SinkSettings, SmtpSink

ALICE, BOB, CAROL = "alice@domain.net", "bob@domain.net", "carol@domain.net"
MIME = (
    b"From: Alice <alice@domain.net>\r\nTo: bob@domain.net\r\nCc: carol@domain.net\r\n"
    b"Bcc: hidden@elsewhere.example\r\nSubject: Plans\r\nDate: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
    b"Message-ID: <plans@domain.net>\r\n\r\nLet us meet.\r\n"
)


@pytest.fixture
def store() -> ExchangeStore:
    s = ExchangeStore()
    for address in (ALICE, BOB, CAROL):
        s.add_mailbox(address, address.split("@")[0].title())
    return s


def test_a_saved_message_is_a_draft_with_its_headers_promoted(store: ExchangeStore) -> None:
    drafts = store.distinguished_folder("drafts", ALICE)
    draft = store.create_message(drafts, MIME)
    assert (draft.subject, draft.sender, draft.recipients, draft.cc) == (
        "Plans", ALICE, [BOB], [CAROL],
    )  # fmt: skip
    assert draft.bcc == ["hidden@elsewhere.example"] and draft.is_draft and not draft.is_read
    assert draft.message_id == "<plans@domain.net>" and draft.sent is not None


def test_sending_delivers_locally_without_bcc_and_keeps_a_sent_copy(store: ExchangeStore) -> None:
    copy = store.send_message(ALICE, MIME, save_copy=True)
    assert copy is not None and copy.folder_id == store.distinguished_folder("sentitems", ALICE).id
    assert copy.is_read and not copy.is_draft and b"Bcc:" in copy.mime
    (to_bob,) = store.messages(BOB)
    (to_carol,) = store.messages(CAROL)
    assert to_bob.folder_id == store.distinguished_folder("inbox", BOB).id
    assert b"Bcc:" not in to_bob.mime and to_bob.subject == "Plans"
    assert to_carol.mime == to_bob.mime


def test_sending_goes_through_the_smtp_sink_when_one_runs(store: ExchangeStore) -> None:
    with SmtpSink(store, SinkSettings(host="127.0.0.1")) as sink:
        assert store.transport is not None
        store.send_message(ALICE, MIME, save_copy=False)
        (transaction,) = sink.journal.transactions()
    assert transaction.listener == "submission" and transaction.mail_from == ALICE
    assert set(transaction.delivered) == {BOB, CAROL}
    assert transaction.relayed == ("hidden@elsewhere.example",)  # kept, never sent
    assert store.transport is None  # the sink unhooks itself when it stops
    assert store.messages(ALICE) == []  # SendOnly keeps no copy


def test_a_message_without_recipients_is_refused(store: ExchangeStore) -> None:
    with pytest.raises(StoreError) as err:
        store.send_message(ALICE, b"Subject: nobody\r\n\r\n", save_copy=True)
    assert err.value.code == "ErrorInvalidRecipients"


def test_a_sent_draft_leaves_its_folder(store: ExchangeStore) -> None:
    drafts = store.distinguished_folder("drafts", ALICE)
    draft = store.create_message(drafts, MIME)
    store.send_draft(draft.id, save_copy=True)
    assert drafts.item_ids == []
    assert len(store.messages(BOB)) == 1


@pytest.fixture
def delivered(store: ExchangeStore) -> Iterator[str]:
    yield store.deliver_message(ALICE, subject="x", sender=BOB, recipients=[ALICE], mime=MIME).id


def test_move_keeps_the_id_copy_makes_a_new_item(store: ExchangeStore, delivered: str) -> None:
    inbox = store.distinguished_folder("inbox", ALICE)
    junk = store.distinguished_folder("junkemail", ALICE)
    moved = store.move_item(delivered, junk)
    assert moved.id == delivered and junk.item_ids == [delivered] and inbox.item_ids == []
    twin = store.copy_item(delivered, inbox)
    assert twin.id != delivered and twin.article > moved.article and inbox.item_ids == [twin.id]


def test_delete_dispositions(store: ExchangeStore, delivered: str) -> None:
    trash = store.distinguished_folder("deleteditems", ALICE)
    store.delete_as(delivered, "MoveToDeletedItems")
    assert trash.item_ids == [delivered]
    store.delete_as(delivered, "MoveToDeletedItems")  # already there: gone for good
    assert trash.item_ids == [] and delivered not in store.items


def test_client_folders_are_made_renamed_and_deleted(store: ExchangeStore) -> None:
    top = store.distinguished_folder("msgfolderroot", ALICE)
    made = store.create_folder(top, "Projects", "IPF.Note")
    assert made.kind == "mail" and made.mailbox == ALICE
    with pytest.raises(StoreError) as err:
        store.create_folder(top, "projects")
    assert err.value.code == "ErrorFolderExists"
    inner = store.create_folder(made, "Old", "IPF.Appointment")
    assert inner.kind == "calendar"
    store.delete_folder(made)
    assert made.id not in store.folders and inner.id not in store.folders
    with pytest.raises(StoreError) as err:
        store.delete_folder(store.distinguished_folder("inbox", ALICE))
    assert err.value.code == "ErrorDeleteDistinguishedFolder"


def test_helpers_read_headers_and_drop_bcc() -> None:
    assert promoted_fields(b"\xff\xfe garbage")["recipients"] == []
    folded = b"To: a@b.c\r\nBcc: x@y.z,\r\n  w@v.u\r\nSubject: s\r\n\r\nbody"
    assert without_bcc(folded) == b"To: a@b.c\r\nSubject: s\r\n\r\nbody"
