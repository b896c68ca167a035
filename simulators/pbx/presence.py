"""The PBX's 15-minute extension of the return time (contract R7).

"When the return time is reached the PBX moves it 15 minutes later, again each
time it is reached, until the presence changes." The PBX has no timers in
scenarios (time is frozen and moved), so the extensions are computed: read at
any instant, every extension due up to it is applied, each stamped with the
instant it was due. Reading late or reading often gives the same journal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

EXTENSION_STEP = timedelta(minutes=15)


def due_extensions(
    return_time: datetime, now: datetime, floor: datetime, step: timedelta = EXTENSION_STEP
) -> list[tuple[datetime, datetime]]:
    """``(due instant, new return time)`` for every extension due at or before ``now``.

    ``floor`` is the instant of the user's last journal entry: an extension
    cannot take effect before the presence it extends was set. A return time
    already past when it was set is therefore moved once, at ``floor``, to the
    first step after it, rather than journalled many times in the past.
    """
    if step <= timedelta(0):
        raise ValueError("the extension step must be positive")
    moves: list[tuple[datetime, datetime]] = []
    current = return_time
    while current <= now:
        due = max(current, floor)
        steps = (due - current) // step + 1
        moved = current + steps * step
        moves.append((due, moved))
        current, floor = moved, due
    return moves
