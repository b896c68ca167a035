"""Rights changes as Exchange 2007 applies them: per mailbox or database, after a delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.clock import Clock
from simulators.exchange.model import ALL_MAILBOXES
from simulators.exchange.rights import RightsChange
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore, StoreError

SVC = "osomx@domain.net"
A, B, C = "a@domain.net", "b@domain.net", "c@domain.net"
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


class Hand(Clock):
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.at = T0

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Hand:
    return Hand()


def store_with(clock: Hand, **account: object) -> ExchangeStore:
    store = ExchangeStore(clock)
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount("OSOMX@domain.net", "secret", **account),  # type: ignore[arg-type]
            mailboxes=[SeedMailbox(A), SeedMailbox(B)],
        ),
    )
    return store


def may_impersonate(store: ExchangeStore, smtp: str) -> bool:
    try:
        store.check_impersonation(store.accounts[SVC], smtp)
    except StoreError:
        return False
    return True


def full_access(store: ExchangeStore, smtp: str) -> bool:
    return store.has_full_access(store.accounts[SVC], smtp)


def test_a_grant_takes_effect_after_its_delay(clock: Hand) -> None:
    store = store_with(clock, full_access=False)
    change = store.change_rights(
        grant=True, right="full_access", account=SVC, mailbox=A, delay=timedelta(minutes=2)
    )
    assert change.effective == T0 + timedelta(minutes=2)
    assert store.pending_rights() == [change]
    clock.at = T0 + timedelta(minutes=1, seconds=59)
    assert not full_access(store, A)
    clock.at = T0 + timedelta(minutes=2)
    assert full_access(store, A) and not full_access(store, B)
    assert store.pending_rights() == []


def test_full_access_on_all_mailboxes_does_not_cover_a_mailbox_made_later(clock: Hand) -> None:
    store = store_with(clock)
    assert full_access(store, A) and full_access(store, B)
    store.add_mailbox(C)
    assert not full_access(store, C)  # the seed granted it mailbox by mailbox
    store.change_rights(grant=True, right="full_access", account=SVC, mailbox=ALL_MAILBOXES)
    assert full_access(store, C)


def test_impersonation_on_the_database_covers_a_mailbox_made_later(clock: Hand) -> None:
    store = store_with(clock)
    store.add_mailbox(C)
    assert may_impersonate(store, C)


def test_impersonation_revoked_on_one_mailbox_and_granted_back(clock: Hand) -> None:
    store = store_with(clock)
    store.change_rights(grant=False, right="impersonation", account=SVC, mailbox=A)
    assert not may_impersonate(store, A) and may_impersonate(store, B)
    store.change_rights(grant=True, right="impersonation", account=SVC, mailbox=A)
    assert may_impersonate(store, A)


def test_impersonation_granted_on_one_mailbox_only(clock: Hand) -> None:
    store = store_with(clock, impersonation=False, impersonation_on_server=True)
    store.change_rights(grant=True, right="impersonation", account=SVC, mailbox=A)
    assert may_impersonate(store, A) and not may_impersonate(store, B)


def test_the_server_right_is_needed_for_every_mailbox(clock: Hand) -> None:
    store = store_with(clock)
    store.change_rights(grant=False, right="impersonation_on_server", account=SVC)
    with pytest.raises(StoreError) as caught:
        store.check_impersonation(store.accounts[SVC], A)
    assert caught.value.code == "ErrorImpersonationDenied"


def test_revoking_full_access_on_one_mailbox_keeps_the_others(clock: Hand) -> None:
    store = store_with(clock)
    store.accounts[SVC].full_access = {ALL_MAILBOXES}  # as an older seed left it
    store.change_rights(grant=False, right="full_access", account=SVC, mailbox=A)
    assert not full_access(store, A) and full_access(store, B)


def test_changes_apply_in_the_order_they_take_effect(clock: Hand) -> None:
    store = store_with(clock, full_access=False)
    store.change_rights(
        grant=True, right="full_access", account=SVC, mailbox=A, delay=timedelta(minutes=5)
    )
    store.change_rights(
        grant=False, right="full_access", account=SVC, mailbox=A, delay=timedelta(minutes=1)
    )
    clock.at = T0 + timedelta(minutes=10)
    assert full_access(store, A)  # the revoke came into effect first, then the grant


def test_bad_changes_are_refused(clock: Hand) -> None:
    store = store_with(clock)
    with pytest.raises(StoreError):
        store.change_rights(grant=True, right="full_access", account="ghost@x.net", mailbox=A)
    with pytest.raises(ValueError, match="server right"):
        RightsChange(T0, True, "impersonation_on_server", SVC, A)
    with pytest.raises(ValueError, match="unknown right"):
        RightsChange(T0, True, "send_as", SVC, A)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="past"):
        store.change_rights(
            grant=True, right="full_access", account=SVC, mailbox=A, delay=timedelta(-1)
        )
