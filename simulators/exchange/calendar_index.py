"""A calendar folder's items as a calendar view reads them: the singles sorted by
start, the series apart.

Every poll is a calendar view of one folder; looking at each of its items (a
dictionary lookup, a type check and two comparisons each) was the view's largest
cost after the series' expansion. With the singles sorted by start and the longest
single's duration known, the singles a window can reach are one slice found by
bisection. The store keeps one index per folder and makes it again after any change
to any item (``ExchangeStore`` bumps its generation on every add, change, delete and
move), so an index never outlives what it was made of.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.exchange.model import CalendarItem, Folder


@dataclass(frozen=True, slots=True)
class CalendarIndex:
    """What ``calendar_view`` needs of one folder, made at one store generation."""

    generation: int
    folder: Folder  # the very folder object (a restored snapshot has new ones)
    count: int  # len(folder.item_ids) when made
    starts: tuple[datetime, ...]  # the singles' starts, ascending
    singles: tuple[CalendarItem, ...]  # in the order of ``starts``
    longest: timedelta  # the longest single's duration (zero without singles)
    series: tuple[CalendarItem, ...]  # recurring masters, in folder order

    def fresh(self, generation: int, folder: Folder) -> bool:
        return (
            self.generation == generation
            and self.folder is folder
            and self.count == len(folder.item_ids)
        )

    def singles_overlapping(self, start: datetime, end: datetime) -> Iterable[CalendarItem]:
        """The singles with ``item.end > start and item.start < end``."""
        # A single ending after ``start`` began after ``start - longest``.
        low = bisect_right(self.starts, start - self.longest)
        high = bisect_left(self.starts, end)
        return [item for item in self.singles[low:high] if item.end > start]


def build_index(generation: int, folder: Folder, items: Iterable[object]) -> CalendarIndex:
    """The index of ``folder`` whose items (in folder order) are ``items``."""
    singles: list[CalendarItem] = []
    series: list[CalendarItem] = []
    for item in items:
        if not isinstance(item, CalendarItem):
            continue
        (singles if item.recurrence is None else series).append(item)
    singles.sort(key=lambda item: item.start)
    longest = max((item.end - item.start for item in singles), default=timedelta(0))
    return CalendarIndex(
        generation,
        folder,
        len(folder.item_ids),
        tuple(item.start for item in singles),
        tuple(singles),
        max(longest, timedelta(0)),
        tuple(series),
    )


__all__ = ["CalendarIndex", "build_index"]
