"""Mailbox look-ups by alias come from the store's alias index, not a scan: the same
answers (an alias two mailboxes share names neither; their hrefs use the address)."""

from __future__ import annotations

from simulators.exchange.model import ALL_MAILBOXES, Account
from simulators.exchange.store import ExchangeStore
from simulators.exchange.webdav.locate import ItemNames, LocateError, Locator


def test_aliases_resolve_and_clashing_aliases_are_written_as_addresses() -> None:
    store = ExchangeStore(domain="one.example")
    store.add_mailbox("anna@one.example")
    store.add_mailbox("bert@one.example")
    store.add_mailbox("Bert@two.example")
    reader = Account(upn="svc@one.example", password="x", full_access={ALL_MAILBOXES})
    locator = Locator(store, ItemNames(), reader, "https://ex")
    # A mailbox nobody named in this request is written by its alias...
    assert locator.mailbox_segment(store.mailbox("anna@one.example")) == "anna"
    # ... and one the request named is answered under the name it used, as Exchange does.
    assert locator.mailbox("ANNA").smtp == "anna@one.example"
    assert locator.mailbox_segment(store.mailbox("anna@one.example")) == "ANNA"
    for smtp in ("bert@one.example", "bert@two.example"):
        assert locator.mailbox_segment(store.mailbox(smtp)) == smtp
    try:
        locator.mailbox("bert")
    except LocateError as exc:
        assert exc.status == 404
    else:
        raise AssertionError("an ambiguous alias must name no mailbox")
    assert [m.smtp for m in store.mailboxes_with_alias("BERT")] == [
        "bert@one.example",
        "bert@two.example",
    ]
    store.clear()
    assert store.mailboxes_with_alias("anna") == []
