"""How big a scenario may be: its file, its span of simulated time, its number of polls.

A run keeps one record per poll and builds its schedule of instants up front, so
its memory grows with simulated time; these limits keep every valid scenario
small (tens of MB) and make a mistyped year a ``FILE:LINE`` message instead of a
run that grows by gigabytes. The numbers are documented in docs/scenario-format.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024  # the library's largest file is a few kB
MAX_LENGTH = timedelta(days=366)  # a year: every DST change and a leap day
MAX_POLLS = 100_000  # e.g. 34 days at 30 s, or a year at 6 minutes


def file_too_big(path: Path) -> str | None:
    """Why the file at ``path`` is refused before it is read (None: it is not)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it reports the problem
    return text_too_big(size)


def text_too_big(size: int) -> str | None:
    if size <= MAX_FILE_BYTES:
        return None
    return (
        f"the file has {size} bytes; a scenario file has at most {MAX_FILE_BYTES} (1 MiB): "
        "split it into several scenarios"
    )


def too_long(start: datetime, end: datetime, interval: timedelta) -> str | None:
    """Why a run from ``start`` to ``end`` polling every ``interval`` is refused."""
    span = end - start
    if span > MAX_LENGTH:
        return (
            f"the scenario spans {span.days} days; at most {MAX_LENGTH.days} days "
            "(move end closer to start)"
        )
    polls = int(span / interval) + 1 if interval > timedelta(0) else 0
    if polls > MAX_POLLS:
        return (
            f"the scenario has {polls} polls (every {int(interval.total_seconds())}s "
            f"for {span}); at most {MAX_POLLS}: lengthen engine.poll_interval or move "
            "end closer to start"
        )
    return None


__all__ = ["MAX_FILE_BYTES", "MAX_LENGTH", "MAX_POLLS", "file_too_big", "text_too_big", "too_long"]
