"""Backing off when Exchange asks: the whole server is held until the hint runs out,
then each mailbox a stable little more (jitter), never less."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integration.backoff import MAX_JITTER, Backoff, jitter

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_jitter_is_stable_and_inside_its_span() -> None:
    span = timedelta(seconds=3)
    values = {jitter(f"user{i}@domain.net", span) for i in range(200)}
    assert all(timedelta(0) <= v < span for v in values)
    assert len(values) > 150  # spread, not one instant
    assert jitter("Anna@Domain.net", span) == jitter("anna@domain.net", span)


def test_hold_holds_every_mailbox_until_the_hint_then_spreads_them() -> None:
    backoff = Backoff()
    assert backoff.holds("a@x", T0) is None
    assert backoff.hold(T0, 30.0, "ErrorServerBusy")
    for mailbox in ("a@x", "b@x", "c@x"):
        release = backoff.release_at(mailbox)
        assert release is not None
        assert T0 + timedelta(seconds=30) <= release < T0 + timedelta(seconds=33)
        assert backoff.holds(mailbox, T0 + timedelta(seconds=29)) == release
        assert backoff.holds(mailbox, release) is None


def test_a_shorter_hint_does_not_shorten_a_longer_one() -> None:
    backoff = Backoff()
    assert backoff.hold(T0, 60.0, "first")
    assert not backoff.hold(T0 + timedelta(seconds=10), 5.0, "second")
    assert backoff.until == T0 + timedelta(seconds=60) and backoff.reason == "first"
    assert backoff.hold(T0 + timedelta(seconds=10), 120.0, "longer")
    assert backoff.until == T0 + timedelta(seconds=130)


def test_jitter_is_capped() -> None:
    backoff = Backoff()
    backoff.hold(T0, 3600.0, "an hour")
    assert backoff.spread == MAX_JITTER
