"""The one clock every simulator reads.

Scenarios freeze time with freezegun and move it; the simulators and the engine
all read ``datetime.now`` through here, so they see the same instant. Exchange's
clock may run ahead of or behind the PBX's (R13): a ``Clock`` carries that skew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    """The current instant, timezone-aware UTC, microseconds dropped.

    Exchange stamps carry whole seconds; dropping microseconds keeps frozen and
    real time comparable.
    """
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Clock:
    """The PBX clock plus ``skew`` (Exchange minus PBX, may be negative)."""

    skew: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return utc_now() + self.skew
