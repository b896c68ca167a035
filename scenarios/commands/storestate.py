"""What ``harness serve --state-dir`` keeps of its Exchange store from one start to the next.

A restarted Exchange still holds every appointment, contact and mail it held, with
the same ids. ``StoreKeeper`` writes the served store (``simulators.exchange.
store_snapshot``) to ``store.pickle`` in the state folder within ``SAVE_INTERVAL`` of
an item's change (longer for a large store, so that saving holds the store's lock at
most a tenth of the time) and at a clean stop; ``restore`` puts it back at the next
start.

The rule for the seed: the store comes back only when ``harness serve`` starts with
the seed it was saved with (the same file content, or the demo organisation both
times); with another seed the mailboxes start from it, in one log line. While the
control API serves another seed (``POST /control/seed``) nothing is kept and the
file is removed: the next start serves ``--seed`` again. A file that is not a store
snapshot of this version, or that others could have written (pickle runs code), is
moved aside with one log line and the store starts from the seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from scenarios.commands.servestate import SaveTrouble, move_aside, private_to_me, write_private
from simulators.exchange.history import ChangeHistory, change_of
from simulators.exchange.store import ExchangeStore
from simulators.exchange.store_snapshot import SnapshotError, snapshot
from simulators.exchange.store_snapshot import restore as restore_snapshot

log = logging.getLogger(__name__)

SAVE_INTERVAL = 1.0  # seconds: what a crash may lose (a small store)
BUSY_SHARE = 9  # wait this many times as long as a snapshot took before the next


def seed_identity(source: str | None, text: bytes | None = None) -> str:
    """What tells one seed from another: its file's content (``text`` if given,
    else read from ``source``), or ``demo`` for the demo organisation."""
    if source is None:
        return "demo"
    try:
        raw = text if text is not None else Path(source).read_bytes()
    except OSError:  # gone since it was loaded: like no seed kept before
        return f"unread:{uuid.uuid4()}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _header(seed: str) -> bytes:
    return json.dumps({"format": 1, "seed": seed}).encode() + b"\n"


def _refused(path: Path, reason: str) -> bool:
    log.warning("%s: %s; %s, the mailboxes start from the seed", path, reason, move_aside(path))
    return False


def restore(store: ExchangeStore, path: Path, seed: str) -> bool:
    """Put the store kept at ``path`` back into ``store`` (just seeded) when it was
    saved with the seed ``seed``; whether it was."""
    if not path.exists():
        return False
    if not private_to_me(path):
        return _refused(path, "not restored: others may write it or its folder")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _refused(path, f"unreadable ({exc.strerror or exc})")
    head, _, blob = raw.partition(b"\n")
    try:
        kept = json.loads(head)
        if not isinstance(kept, dict) or kept.get("format") != 1:
            raise ValueError("no header")
    except ValueError:
        return _refused(path, "not a store snapshot (no header)")
    if kept.get("seed") != seed:
        log.warning(
            "%s: saved with another seed; the mailboxes start from this one "
            "(what was kept is replaced at the first change)",
            path,
        )
        return False
    try:
        restore_snapshot(store, blob)
    except SnapshotError as exc:
        return _refused(path, str(exc))
    log.info("%s: the mailboxes restored as they were at the last stop", path)
    return True


def retold(history: ChangeHistory, store: ExchangeStore) -> None:
    """Make ``history`` tell the restored store (it told the seed's items): each item
    as made at its last change, so the live view's timeline shows what is there."""
    with store.locked():
        made = [
            change_of(item, store.folders[item.folder_id].mailbox, "created", item.modified)
            for item in store.items.values()
            if item.folder_id in store.folders
        ]
    history.clear()
    for change in sorted(made, key=lambda c: c.at):
        history.record(change)


class StoreKeeper:
    """Keeps ``store`` in ``path`` while ``serving_seed()`` says the seed is still the
    one of the start (``seed``): saved within ``interval`` of a change and at ``stop``."""

    def __init__(
        self,
        path: Path,
        store: ExchangeStore,
        seed: str,
        serving_seed: Callable[[], bool],
        interval: float = SAVE_INTERVAL,
    ) -> None:
        self.path = path
        self._store = store
        self._seed = seed
        self._serving_seed = serving_seed
        self._interval = interval
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> StoreKeeper:
        # Every item created, changed or deleted, and every reseed, says so here.
        self._unsubscribe = self._store.on_change(lambda change: self._changed.set())
        self._thread = threading.Thread(target=self._run, name="store-keeper", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop saving; the store is written once more (changes no item records, a
        folder a client made, a right granted, are kept then). Safe to call twice."""
        self._stopping.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self.save()

    def save(self) -> None:
        """Write the store now (or remove the file while another seed is served)."""
        if not self._serving_seed():
            self.path.unlink(missing_ok=True)
            return
        write_private(self.path, _header(self._seed) + snapshot(self._store))

    def _run(self) -> None:
        pause = self._interval
        trouble = SaveTrouble(log, self.path, "the mailboxes", "the mailboxes are saved again")
        while not self._stopping.wait(pause):
            if not self._changed.is_set():
                continue
            self._changed.clear()
            began = time.monotonic()
            try:
                self.save()
            except Exception as exc:  # a full disk: say so once, try again each round
                trouble.failed(exc)
                self._changed.set()
            else:
                trouble.saved()
            # A snapshot holds the store's lock: a large store (1,000 mailboxes take most
            # of a second) is saved less often, so clients wait at most a tenth of the time.
            pause = max(self._interval, BUSY_SHARE * (time.monotonic() - began))


__all__ = ["SAVE_INTERVAL", "StoreKeeper", "restore", "retold", "seed_identity"]
