"""The voicemail feed's position: which voicemails were mailed, kept apart from the queue.

The PBX's voicemail list has no ``since``; what was mailed used to be known only
from the queue's keys. A queue file that is emptied, replaced or moved aside
(``integration.mail.recovery``) then made every voicemail still on the PBX look
new, and each was mailed again. This small JSON file beside the queue
(``<queue name>.voicemails.json``) records the key of each voicemail whose mail
was finished (delivered, or failed for good), so it survives the queue.

Only finished mails are recorded: a voicemail whose mail was still pending in a
lost queue is queued again from the PBX, not lost. Keys the PBX no longer lists
are dropped (the key holds the voicemail's time, so one never comes back), which
keeps the file as small as the PBX's list. Writes are atomic (temporary file,
fsync, rename): a crash leaves the old position or the new one, never half.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def position_path(queue_path: Path) -> Path:
    """The position file that belongs to the queue file at ``queue_path``."""
    return queue_path.with_name(queue_path.stem + ".voicemails.json")


class VoicemailPosition:
    """The set of mailed voicemail keys in the file at ``path`` (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: set[str] = self._load()

    def _load(self) -> set[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        except (OSError, UnicodeDecodeError) as exc:
            log.error("voicemail position %s: cannot read (%s); starting empty", self.path, exc)
            return set()
        try:
            data = json.loads(text)
            keys = data["mailed"]
            if data.get("version") != FORMAT_VERSION or not isinstance(keys, list):
                raise ValueError("not a voicemail position of this version")
            return {str(k) for k in keys}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            try:
                os.replace(self.path, aside)
                where = f"moved aside to {aside}"
            except OSError:
                where = "left in place"
            log.error(
                "voicemail position %s: damaged (%s), %s; starting empty", self.path, exc, where
            )
            return set()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def keys(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._keys)

    def record(self, mailed: Iterable[str] = (), listed: Collection[str] | None = None) -> None:
        """Add ``mailed`` keys; with ``listed`` (every key the PBX lists now), drop the
        others. Written to disk before this returns, and only when something changed."""
        with self._lock:
            keys = self._keys | set(mailed)
            if listed is not None:
                keys &= set(listed) | set(mailed)
            if keys == self._keys:
                return
            self._write(keys)
            self._keys = keys

    def _write(self, keys: set[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": FORMAT_VERSION, "mailed": sorted(keys)}, indent=0)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        try:  # the rename itself survives power loss once the folder is synced
            folder = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(folder)
        except OSError:
            pass
        finally:
            os.close(folder)


__all__ = ["VoicemailPosition", "position_path"]
