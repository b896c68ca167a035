"""The one clock every simulator reads.

Scenarios freeze time with freezegun and move it; the simulators and the engine
all read ``datetime.now`` through here, so they see the same instant. Exchange's
clock may run ahead of or behind the PBX's (R13): a ``Clock`` carries that skew.

``harness serve`` runs in real time but lets support staff set the time the
served simulators see: a ``ControlledClock`` (real, offset or frozen, and
advanced by hand) is the PBX clock there, and the store's ``Clock`` reads it as
its base. Scenario runs never use one: freezegun moves ``utc_now`` for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

ClockMode = Literal["real", "offset", "frozen"]
CLOCK_MODES: tuple[ClockMode, ...] = ("real", "offset", "frozen")


def utc_now() -> datetime:
    """The current instant, timezone-aware UTC, microseconds dropped.

    Exchange stamps carry whole seconds; dropping microseconds keeps frozen and
    real time comparable.
    """
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Clock:
    """The PBX clock plus ``skew`` (Exchange minus PBX, may be negative).

    ``base`` reads the PBX clock; by default the real (or frozen) ``utc_now``.
    """

    skew: timedelta = field(default_factory=timedelta)
    base: Callable[[], datetime] = utc_now

    def now(self) -> datetime:
        return self.base() + self.skew


class ControlledClock:
    """A PBX clock that can be set while everything runs (``harness serve``).

    - ``real``: the machine's time;
    - ``offset``: the machine's time plus a fixed offset (time keeps running);
    - ``frozen``: one instant until told otherwise.

    ``advance(delta)`` moves it forward (or back, with a negative delta) in any
    mode: a frozen clock stays frozen, a real one becomes an offset one.
    Thread-safe; every reading is aware UTC in whole seconds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mode: ClockMode = "real"
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._mode == "frozen":
                assert self._frozen_at is not None
                return self._frozen_at
            return utc_now() + self._offset

    __call__ = now

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def offset(self) -> timedelta:
        """How far this clock is from the machine's time (now, for a frozen one)."""
        return self.now() - utc_now()

    def set_real(self) -> None:
        with self._lock:
            self._mode, self._offset, self._frozen_at = "real", timedelta(0), None

    def set_offset(self, offset: timedelta) -> None:
        """Run at the machine's time plus ``offset`` (whole seconds)."""
        with self._lock:
            self._mode, self._offset, self._frozen_at = "offset", _whole(offset), None

    def set_to(self, instant: datetime) -> None:
        """Run from ``instant`` on (an offset clock that shows ``instant`` now)."""
        self.set_offset(_aware(instant) - utc_now())

    def freeze(self, instant: datetime | None = None) -> None:
        """Stand still at ``instant`` (default: the instant this clock shows now)."""
        at = _aware(instant) if instant is not None else self.now()
        with self._lock:
            self._mode, self._offset, self._frozen_at = "frozen", timedelta(0), at

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            step = _whole(delta)
            if self._mode == "frozen":
                assert self._frozen_at is not None
                self._frozen_at += step
            else:
                self._mode, self._offset = "offset", self._offset + step


def _whole(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant needs a UTC offset")
    return instant.astimezone(UTC).replace(microsecond=0)
