"""What changed in the Exchange store, and when: a bounded change history.

The store tells its listeners about every item it creates, changes or deletes
(``ExchangeStore.on_change``), whoever asked: EWS, WebDAV/OWA, the SMTP sink or
a scenario step. ``ChangeHistory`` keeps the latest of those records so that a
timeline can show appointments as Exchange held them over time: each version
with its subject, start and end, from the instant (Exchange clock) it was made.

An item created with an explicit ``created`` stamp (seed data) is recorded at
that stamp. A change to one occurrence of a series is recorded under the
occurrence's own id (the id a calendar view gives it), with the series' id
beside it. ``store.clear()`` is recorded as ``cleared``; the history forgets
everything before it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from simulators.exchange.model import CalendarItem, Contact, Item, Message, Occurrence

if TYPE_CHECKING:
    from simulators.exchange.store import ExchangeStore

log = logging.getLogger(__name__)

ChangeKind = Literal["created", "updated", "deleted", "cleared"]
ItemKind = Literal["calendar", "contact", "message", ""]
DEFAULT_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One change of one item, with its state after the change."""

    at: datetime  # Exchange's clock
    change: ChangeKind
    item_id: str
    mailbox: str | None = None  # lower-case SMTP; None in public folders
    item_kind: ItemKind = ""
    fields: tuple[str, ...] = ()  # what an update changed
    subject: str = ""
    start: datetime | None = None
    end: datetime | None = None
    series_id: str | None = None  # the master, for a change of one occurrence
    occurrence: date | None = None  # that occurrence's original date
    recurring: bool = False  # the item is a series' master

    @property
    def deleted(self) -> bool:
        return self.change == "deleted"


ChangeListener = Callable[[ItemChange], None]


class ChangeHistory:
    """The latest ``limit`` changes of one store, oldest first; thread-safe."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._changes: deque[ItemChange] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._detach: Callable[[], None] | None = None

    def attach(self, store: ExchangeStore) -> ChangeHistory:
        """Record ``store``'s changes from now on (one store at a time)."""
        self.detach()
        self._detach = store.on_change(self.record)
        return self

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None

    def record(self, change: ItemChange) -> None:
        with self._lock:
            if change.change == "cleared":
                self._changes.clear()
            self._changes.append(change)

    def changes(
        self,
        *,
        mailbox: str | None = None,
        item_kind: ItemKind | None = None,
        since: datetime | None = None,
    ) -> list[ItemChange]:
        """Recorded changes (``cleared`` included) matching every given filter."""
        wanted = mailbox.lower() if mailbox is not None else None
        with self._lock:
            snapshot = list(self._changes)
        return [
            c
            for c in snapshot
            if (wanted is None or c.mailbox == wanted or c.change == "cleared")
            and (item_kind is None or c.item_kind == item_kind or c.change == "cleared")
            and (since is None or c.at >= since)
        ]

    def clear(self) -> None:
        with self._lock:
            self._changes.clear()

    def __len__(self) -> int:
        return len(self._changes)


_KINDS: dict[type, ItemKind] = {CalendarItem: "calendar", Contact: "contact", Message: "message"}


def change_of(
    target: Item | Occurrence,
    mailbox: str | None,
    change: ChangeKind,
    at: datetime,
    fields: Iterable[str] | Any = (),
) -> ItemChange:
    """The record of ``change`` to ``target`` (an item, or one occurrence of a series)."""
    stored = target.master if isinstance(target, Occurrence) else target
    subject = target.display_name if isinstance(target, Contact) else target.subject
    return ItemChange(
        at=at,
        change=change,
        item_id=target.id,
        mailbox=mailbox,
        item_kind=_KINDS.get(type(stored), ""),
        fields=tuple(fields),
        subject=subject,
        start=getattr(target, "start", None),
        end=getattr(target, "end", None),
        series_id=stored.id if isinstance(target, Occurrence) else None,
        occurrence=target.original_date if isinstance(target, Occurrence) else None,
        recurring=isinstance(stored, CalendarItem) and stored.recurrence is not None,
    )


def notify(listeners: list[ChangeListener], change: ItemChange) -> None:
    """Tell every listener; a listener's bug is logged, never the store's failure."""
    for listener in list(listeners):
        try:
            listener(change)
        except Exception:
            log.exception("store change listener %r failed", listener)


__all__ = ["ChangeHistory", "ChangeKind", "ChangeListener", "ItemChange", "change_of", "notify"]
