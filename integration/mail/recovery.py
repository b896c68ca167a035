"""Opening the queue file when it may be damaged: a corrupt file is moved aside, not fatal.

Owns the decision between "this file is damaged: keep it for support and start a
fresh queue" and "this file is fine but not usable now: leave it alone". Damaged
means SQLite says it is not a database or its image is malformed, or the path is
something else than a file (a folder); such a file is renamed to
``<name>.corrupt-<UTC time>`` beside it and an empty queue is created in its place.
A file locked by another process, one from a newer version, or a folder that
cannot be written is never moved: ``MailQueueError`` says why, and the caller
tries again later. Either way the calendar side of the engine keeps polling.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from integration.mail.queue import MailQueue, MailQueueError

log = logging.getLogger(__name__)

# SQLite's own words for a damaged file (sqlite3.Error.sqlite_errorname, Python 3.11+).
DAMAGED_ERRORS = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})


class DamagedQueue(MailQueueError):
    """The queue file is damaged beyond use (moving it aside is safe)."""


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc``, raised by SQLite while using a queue, means a damaged file."""
    if isinstance(exc, DamagedQueue):
        return True
    cause = (exc.__cause__ or exc.__context__) if isinstance(exc, MailQueueError) else exc
    name = getattr(cause, "sqlite_errorname", None)
    if name in DAMAGED_ERRORS:
        return True
    # Older SQLite builds give no error name: recognise the messages.
    text = str(cause).lower()
    return isinstance(cause, sqlite3.DatabaseError) and (
        "file is not a database" in text or "malformed" in text
    )


def aside_name(path: Path, now: datetime) -> Path:
    """Where a damaged queue file is kept: beside it, named with the time (UTC)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    return candidate


def move_aside(path: Path, now: datetime) -> Path:
    """Rename the damaged queue file (and its WAL and shared-memory files) out of the
    way; where the main file went. ``MailQueueError`` when the rename fails."""
    target = aside_name(path, now)
    try:
        os.replace(path, target)
    except OSError as exc:
        raise MailQueueError(
            f"mail queue {path}: damaged, and it cannot be moved aside: {exc.strerror or exc}"
        ) from None
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            try:
                os.replace(side, target.with_name(target.name + suffix))
            except OSError:
                log.warning("mail queue %s: could not move %s aside", path, side)
    return target


def _check(queue: MailQueue) -> None:
    # Opening reads only the header; one query over the table finds a damaged body.
    try:
        queue.counts()
        queue.next_due()
    except sqlite3.Error as exc:
        queue.close()
        raise DamagedQueue(f"mail queue {queue.path}: {exc}") from exc


def open_recovering(
    path: Path,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> MailQueue:
    """The queue at ``path``; a damaged file is moved aside (logged as an ERROR that
    names both files) and a fresh queue opened in its place."""
    try:
        if path.is_dir():
            raise DamagedQueue(f"mail queue {path}: is a folder, not a queue file")
        queue = MailQueue(path)
        _check(queue)
        return queue
    except MailQueueError as exc:
        if not is_damage(exc):
            raise
        reason = str(exc)
    moved = move_aside(path, now())
    log.error(
        "%s; moved it aside to %s (kept for support: mail still pending in it is not sent) "
        "and started a fresh queue",
        reason,
        moved,
    )
    return MailQueue(path)


__all__ = ["DamagedQueue", "aside_name", "is_damage", "move_aside", "open_recovering"]
