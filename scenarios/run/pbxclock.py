"""The PBX's own clock in a scenario run: what it reads at each instant of the
scenario clock (``pbx:`` in the file, R13).

The engine runs on the PBX and compares appointment times with the PBX clock; the
PBX stamps its journal and moves return times on by it, and speaks times in its
own zone. Three ways that clock goes wrong:

- ``clock_skew``: it runs ahead (positive) or behind by a fixed amount;
- ``timezone`` alone: it keeps true UTC (NTP) but shows and speaks times in
  another zone;
- ``clock: wall`` with ``timezone``: someone typed the local wall-clock time into
  a PBX set to another zone, so its UTC clock is off by the difference of the two
  zones, which changes when one of them changes to or from daylight time.

``at(instant)`` is the PBX's reading at a scenario instant; ``true(reading)`` goes
back, which the runner uses to put PBX stamps on the scenario clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from simulators.clock import utc_now
from simulators.exchange.recurrence import localize

ZERO = timedelta(0)


@dataclass(frozen=True)
class PbxClock:
    """The PBX clock as a function of the scenario clock."""

    zone: tzinfo  # the PBX's zone (it speaks and shows times in it)
    skew: timedelta = ZERO
    wall_zone: tzinfo | None = None  # clock: wall: whose wall time was typed in

    @property
    def is_true(self) -> bool:
        """The PBX clock is the scenario clock (no skew, not set by wall time)."""
        return self.skew == ZERO and self.wall_zone is None

    def at(self, instant: datetime) -> datetime:
        """The PBX's reading (aware UTC) at scenario instant ``instant``."""
        moment = instant.astimezone(UTC)
        if self.wall_zone is not None:
            shown = moment.astimezone(self.wall_zone).replace(tzinfo=None)
            moment = localize(shown, self.zone)
        return moment + self.skew

    def offset(self, instant: datetime) -> timedelta:
        """PBX clock minus scenario clock at ``instant`` (positive: the PBX is ahead)."""
        return self.at(instant) - instant.astimezone(UTC)

    def true(self, reading: datetime) -> datetime:
        """The scenario instant at which the PBX clock read ``reading``."""
        guess = reading.astimezone(UTC) - self.skew
        for _ in range(3):  # the offset only changes at a zone's transitions
            guess = reading.astimezone(UTC) - self.offset(guess)
        return guess

    def now(self) -> datetime:
        """The PBX's reading now (the frozen scenario clock)."""
        return self.at(utc_now())


__all__ = ["PbxClock"]
