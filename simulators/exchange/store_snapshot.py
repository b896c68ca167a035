"""The whole Exchange store as bytes and back: what a restarted Exchange still holds.

``snapshot`` copies everything the organisation is made of (accounts and rights,
pending grants, mailboxes, folders, items with their ids, change keys, article
numbers and extended properties, series and their changed occurrences, the lock-out
counts) in one consistent moment under the store's lock; ``restore`` puts it in
place of what a store holds. The listeners and the clock are the running store's.

The form is Python's pickle of the model records, tagged with a fingerprint of the
model's fields: a snapshot made by a version whose records differ is refused
(``SnapshotError``) rather than restored into objects missing a field. Pickle runs
code of the file's choosing, so only read a snapshot from a folder no one else can
write (``harness serve`` checks its state folder first).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import pickle
from typing import Any

from simulators.exchange import lockout, mapi, model, recurrence, store_rights, tzrules
from simulators.exchange.store import ExchangeStore

FORMAT = 1
# Everything ``ExchangeStore.clear`` makes, but the counters (kept as their next value)
# and the series' expansions (a cache, made again on the first read).
KEPT = (
    "accounts",
    "mailboxes",
    "_by_alias",
    "folders",
    "items",
    "_occurrence_ids",
    "_pending_rights",
    "lockout",
    "_next_article",
    "public_root_id",
)
COUNTERS = ("_counter", "_articles")


class SnapshotError(ValueError):
    """Bytes that are not a store snapshot this version restores."""


MODULES = (model, recurrence, tzrules, lockout, mapi, store_rights)  # where the records are


def model_fingerprint() -> str:
    """The records' names and fields: another value means another model."""
    shapes = sorted(
        f"{module.__name__}.{name}:{','.join(f.name for f in dataclasses.fields(kind))}"
        for module in MODULES
        for name, kind in vars(module).items()
        if isinstance(kind, type) and dataclasses.is_dataclass(kind)
    )
    return hashlib.sha256("\n".join(shapes).encode()).hexdigest()


def _next(store: ExchangeStore, name: str) -> int:
    """The counter's next value, leaving it there (callers hold the lock)."""
    value = next(getattr(store, name))
    setattr(store, name, itertools.count(value))
    return int(value)


def snapshot(store: ExchangeStore) -> bytes:
    """Everything ``store`` holds now, as bytes."""
    with store.locked():
        data: dict[str, Any] = {name: getattr(store, name) for name in KEPT}
        data.update({name: _next(store, name) for name in COUNTERS})
        return pickle.dumps(
            {"format": FORMAT, "model": model_fingerprint(), "data": data},
            protocol=pickle.HIGHEST_PROTOCOL,
        )


def restore(store: ExchangeStore, blob: bytes) -> None:
    """Put the snapshot ``blob`` in place of what ``store`` holds; ``SnapshotError``
    (and ``store`` unchanged) if it is not one."""
    try:
        top = pickle.loads(blob)  # noqa: S301 - from the owner's private folder only
    except Exception as exc:  # a broken pickle raises nearly anything
        raise SnapshotError(f"not a store snapshot ({type(exc).__name__}: {exc})") from None
    if not isinstance(top, dict) or top.get("format") != FORMAT:
        raise SnapshotError("not a store snapshot of this format")
    if top.get("model") != model_fingerprint():
        raise SnapshotError("made by a version of the harness whose store differs")
    data = top.get("data")
    if not isinstance(data, dict) or set(data) != set(KEPT) | set(COUNTERS):
        raise SnapshotError("a store snapshot without all its parts")
    if not all(isinstance(data[name], int) for name in COUNTERS):
        raise SnapshotError("a store snapshot with broken counters")
    with store.locked():
        for name in KEPT:
            setattr(store, name, data[name])
        for name in COUNTERS:
            setattr(store, name, itertools.count(data[name]))
        store._series = {}
        store._calendar_indexes = {}
        store._touch()


__all__ = ["SnapshotError", "model_fingerprint", "restore", "snapshot"]
