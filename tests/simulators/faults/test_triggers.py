"""Triggers and the injector: which request a fault acts on, the same every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.faults.injector import FaultInjector
from simulators.faults.triggers import Trigger, draw

T0 = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def picks(injector: FaultInjector, n: int, who: str = "a@x", at: datetime = T0) -> list[bool]:
    return [injector.match("ews", [who], at) is not None for _ in range(n)]


def test_window_of_scenario_time() -> None:
    injector = FaultInjector(clock=lambda: T0)
    injector.add("ews", "http_500", timedelta(minutes=5), T0 + timedelta(minutes=1))
    assert picks(injector, 1, at=T0) == [False]
    assert picks(injector, 1, at=T0 + timedelta(minutes=1)) == [True]
    assert picks(injector, 1, at=T0 + timedelta(minutes=5, seconds=59)) == [True]
    assert picks(injector, 1, at=T0 + timedelta(minutes=6)) == [False]  # end exclusive


def test_first_every_and_mailbox_combine() -> None:
    injector = FaultInjector(clock=lambda: T0)
    injector.add("ews", "http_500", timedelta(hours=1), trigger=Trigger(every=2, first=5))
    assert picks(injector, 8) == [False, True, False, True, False, False, False, False]
    injector.clear()
    injector.add("ews", "http_500", timedelta(hours=1), trigger=Trigger(mailbox="B@X"))
    assert picks(injector, 1, "a@x") == [False]
    assert picks(injector, 1, "b@x") == [True]


def test_seeded_probability_repeats_exactly_and_depends_on_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        injector = FaultInjector(clock=lambda: T0)
        trigger = Trigger(probability=0.3, seed=seed)
        injector.add("ews", "http_500", timedelta(hours=1), trigger=trigger)
        return picks(injector, 200, "a@x")

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 40 <= sum(first) <= 80  # about 30 % of 200


def test_probability_per_mailbox_does_not_depend_on_arrival_order() -> None:
    def hits(order: list[str]) -> dict[str, list[int]]:
        injector = FaultInjector(clock=lambda: T0)
        injector.add("ews", "http_500", timedelta(hours=1), trigger=Trigger(probability=0.5))
        seen: dict[str, list[int]] = {}
        for n, who in enumerate(order):
            if injector.match("ews", [who]) is not None:
                seen.setdefault(who, []).append(order[: n + 1].count(who))
        return seen

    order = ["a@x", "b@x"] * 20
    assert hits(order) == hits(list(reversed(order)))
    assert 0 <= draw(1, "a@x", 1) < 1


def test_bad_values_are_refused_in_words() -> None:
    injector = FaultInjector(clock=lambda: T0)
    with pytest.raises(ValueError, match="first must be at least 1"):
        Trigger(first=0)
    with pytest.raises(ValueError, match="probability must be between 0 and 1"):
        Trigger(probability=1.5)
    with pytest.raises(ValueError, match="does not take latency"):
        injector.add("ews", "http_500", timedelta(minutes=1), latency=timedelta(seconds=1))
    with pytest.raises(ValueError, match="positive duration"):
        injector.add("ews", "http_500", timedelta(0))
    with pytest.raises(ValueError, match="needs a duration or an end"):
        injector.add("ews", "http_500")
    with pytest.raises(ValueError, match="refused shuts the port for the whole window"):
        injector.add("ews", "refused", timedelta(minutes=1), trigger=Trigger(first=1))


def test_applied_faults_are_recorded_and_counted() -> None:
    injector = FaultInjector(clock=lambda: T0)
    fault = injector.add("smtp", "smtp_451", timedelta(minutes=1), trigger=Trigger(first=1))
    injector.match("smtp", ["u@x"], stage="DATA")
    injector.match("smtp", ["u@x"], stage="DATA")
    assert (fault.seen, fault.acted) == (2, 1)
    assert [(a.fault, a.who, a.stage) for a in injector.applied] == [
        ("smtp:smtp_451", "u@x", "DATA")
    ]
