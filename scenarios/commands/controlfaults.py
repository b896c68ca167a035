"""``/control/faults`` of the control API: the catalogue's faults from JSON.

The fields are those of a scenario ``fault:`` step (``scenarios.format.faultsteps``)
plus ``start``: ``service``, ``kind`` (the catalogue's names and the old
``unavailable``/``busy``), ``duration``, the triggers ``first``, ``every``,
``mailbox``, ``probability`` and ``seed``, and the values ``latency``,
``retry_after`` and ``back_off``. Bad input answers 400 with the injector's or
the field's own words; nothing is put in force unless all of it is right.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from simulators.faults.catalogue import SERVICES
from simulators.faults.injector import Fault, FaultInjector
from simulators.faults.triggers import Trigger

FIELDS = (
    "service",
    "kind",
    "duration",
    "start",
    "first",
    "every",
    "mailbox",
    "probability",
    "seed",
    "latency",
    "retry_after",
    "back_off",
)


class FaultSpecError(ValueError):
    """A field of a posted fault is wrong; the message says which and why."""


def _whole(spec: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultSpecError(f"{name}: a whole number from {low} to {high}")
    return value


def _span(
    spec: dict[str, Any], name: str, duration: Callable[[object, str], timedelta]
) -> timedelta | None:
    """A duration field; latency also in milliseconds (``200ms``)."""
    value = spec.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if name == "latency" and text.endswith("ms") and text[:-2].isdigit():
        return timedelta(milliseconds=int(text[:-2]))
    return duration(value, name)


UNTIL_CLEARED = timedelta(days=3650)  # "no duration": in force until cleared


def add_fault(
    injector: FaultInjector,
    spec: dict[str, Any],
    duration: Callable[[object, str], timedelta],
    moment: Callable[[str, str], datetime],
) -> Fault:
    """Put the posted fault in force; ``duration`` and ``moment`` parse those fields
    (the control API's own parsers, with its limits and words)."""
    if "service" not in spec:
        raise FaultSpecError("missing field 'service'")
    if spec["service"] not in SERVICES:
        raise FaultSpecError(f"service: one of {', '.join(SERVICES)}")
    probability = spec.get("probability")
    if probability is not None and (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 1
    ):
        raise FaultSpecError("probability: a number from 0 to 1")
    mailbox = spec.get("mailbox")
    if mailbox is not None and (not isinstance(mailbox, str) or not mailbox.strip()):
        raise FaultSpecError("mailbox: an e-mail address or an extension")
    seed = _whole(spec, "seed", 0, 2**31 - 1)
    if seed is not None and probability is None:
        raise FaultSpecError("seed goes with probability")
    trigger = Trigger(
        first=_whole(spec, "first", 1, 1_000_000),
        every=_whole(spec, "every", 1, 1_000_000),
        mailbox=mailbox,
        probability=float(probability) if probability is not None else None,
        seed=seed or 0,
    )
    start = moment(str(spec["start"]), "start") if spec.get("start") is not None else None
    values = {name: _span(spec, name, duration) for name in ("latency", "back_off")}
    # Without a duration a fault holds until it is cleared (DELETE, reset), as one
    # in a scenario without a duration holds to the scenario's end.
    window = duration(spec["duration"], "duration") if "duration" in spec else None
    begin = start or injector.clock()
    return injector.add(
        str(spec["service"]),
        str(spec.get("kind", "unavailable")),
        window,
        begin,
        end=None if window is not None else begin + UNTIL_CLEARED,
        trigger=trigger,
        latency=values["latency"],
        retry_after=_whole(spec, "retry_after", 0, 86_400),
        back_off=values["back_off"],
    )


def applied_json(injector: FaultInjector, limit: int = 100) -> list[dict[str, str]]:
    """The latest requests a fault acted on, oldest first."""
    hits = list(injector.applied)[-limit:]
    return [
        {"at": h.at.isoformat(), "fault": h.fault, "who": h.who, "stage": h.stage} for h in hits
    ]


__all__ = ["FIELDS", "FaultSpecError", "add_fault", "applied_json"]
