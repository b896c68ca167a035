"""The durable outgoing-mail queue: one SQLite file, every message committed before sending.

Owns the file's schema and every change of a message's state. A message is
stored whole (the MIME bytes exactly as they will be sent, the envelope, a
subject for people) with its delivery state: ``pending`` (waiting for its
``next_attempt_at``), ``sent`` or ``failed`` (permanently, with the reason). A
process that dies at any point loses nothing: what was enqueued is on disk
(WAL, ``synchronous=FULL``) and is sent by the next process that opens the file.
Delivery is at-least-once: a crash between the server's 250 and the commit of
``sent`` sends that message again (with the same Message-ID).

An optional ``key`` makes enqueueing idempotent (a voicemail is queued once,
however often the PBX reports it). The queue reads no clock: callers pass
``now``. Thread-safe; one open file per process is the intended use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, cast

Status = Literal["pending", "sent", "failed"]
STATUSES: tuple[Status, ...] = ("pending", "sent", "failed")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT UNIQUE,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    last_attempt_at REAL,
    finished_at REAL,
    last_outcome TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (status, next_attempt_at);
"""

_COLUMNS = (
    "id, key, kind, sender, recipients, subject, raw, status, attempts, created_at, "
    "next_attempt_at, last_attempt_at, finished_at, last_outcome, last_error"
)


class MailQueueError(Exception):
    """The queue file cannot be used (not a queue, unreadable, from a newer version)."""


@dataclass(frozen=True)
class QueuedMail:
    """One message in the queue with its delivery state."""

    id: int
    key: str | None
    kind: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    status: Status
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    finished_at: datetime | None  # when sent, or when it failed for good
    last_outcome: str | None  # an ``Outcome`` value
    last_error: str | None  # the last failure in words, with the server's reply
    raw: bytes = field(repr=False, default=b"")


def _stamp(value: datetime) -> float:
    if value.tzinfo is None:
        raise ValueError("queue times need a timezone")
    return value.timestamp()


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _row(row: tuple[object, ...]) -> QueuedMail:
    (id_, key, kind, sender, rcpts, subject, raw, status, attempts, created) = row[:10]
    next_at, last_at, finished, outcome, error = row[10:]
    return QueuedMail(
        id=cast(int, id_),
        key=cast("str | None", key),
        kind=cast(str, kind),
        sender=cast(str, sender),
        recipients=tuple(json.loads(cast(str, rcpts))),
        subject=cast(str, subject),
        status=cast(Status, status),
        attempts=cast(int, attempts),
        created_at=cast(datetime, _time(cast(float, created))),
        next_attempt_at=cast(datetime, _time(cast(float, next_at))),
        last_attempt_at=_time(cast("float | None", last_at)),
        finished_at=_time(cast("float | None", finished)),
        last_outcome=cast("str | None", outcome),
        last_error=cast("str | None", error),
        raw=bytes(cast(bytes, raw)),
    )


class MailQueue:
    """The queue in the SQLite file at ``path`` (created with its folder if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise MailQueueError(f"mail queue {self.path}: cannot open: {exc}") from None
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            raise MailQueueError(f"mail queue {self.path}: {exc}") from None

    def _prepare(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"written by a newer version (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed enqueue survives power loss too, not just a crash.
        db.execute("PRAGMA synchronous=FULL")
        with db:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MailQueue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -------------------------------------------------------------- writing
    def enqueue(
        self,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        now: datetime,
        subject: str = "",
        kind: str = "mail",
        key: str | None = None,
    ) -> QueuedMail:
        """Store a message, due at ``now``; committed when this returns.

        With ``key``: a message already queued under it is returned unchanged
        instead (whatever its state), so reporting an event twice mails it once.
        """
        if not recipients:
            raise ValueError("a message needs at least one recipient")
        stamp = _stamp(now)
        with self._lock, self._db:
            if key is not None:
                found = self._db.execute(
                    f"SELECT {_COLUMNS} FROM messages WHERE key = ?", (key,)
                ).fetchone()
                if found is not None:
                    return _row(found)
            cursor = self._db.execute(
                "INSERT INTO messages (key, kind, sender, recipients, subject, raw, status,"
                " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (key, kind, sender, json.dumps(list(recipients)), subject, raw, stamp, stamp),
            )
            new_id = cast(int, cursor.lastrowid)
        return self.get(new_id)

    def mark_sent(self, mail_id: int, now: datetime, note: str | None = None) -> QueuedMail:
        """Delivered at ``now``; ``note`` keeps e.g. recipients the server refused."""
        stamp = _stamp(now)
        return self._update(
            mail_id,
            "status = 'sent', attempts = attempts + 1, last_attempt_at = ?, finished_at = ?,"
            " last_outcome = 'delivered', last_error = ?",
            (stamp, stamp, note),
        )

    def mark_retry(
        self, mail_id: int, now: datetime, next_attempt_at: datetime, outcome: str, error: str
    ) -> QueuedMail:
        """A failed attempt worth repeating: pending again from ``next_attempt_at``."""
        return self._update(
            mail_id,
            "attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?,"
            " last_outcome = ?, last_error = ?",
            (_stamp(now), _stamp(next_attempt_at), outcome, error),
        )

    def mark_failed(self, mail_id: int, now: datetime, outcome: str, error: str) -> QueuedMail:
        """A permanent failure: never tried again; the reason stays for support."""
        stamp = _stamp(now)
        return self._update(
            mail_id,
            "status = 'failed', attempts = attempts + 1, last_attempt_at = ?, finished_at = ?,"
            " last_outcome = ?, last_error = ?",
            (stamp, stamp, outcome, error),
        )

    def _update(self, mail_id: int, assignments: str, values: tuple[object, ...]) -> QueuedMail:
        with self._lock, self._db:
            cursor = self._db.execute(
                f"UPDATE messages SET {assignments} WHERE id = ? AND status = 'pending'",
                (*values, mail_id),
            )
        if cursor.rowcount != 1:
            raise MailQueueError(f"mail {mail_id} is not pending")
        return self.get(mail_id)

    def purge_sent(self, before: datetime) -> int:
        """Drop the bytes of messages sent before ``before`` (the rows and keys stay,
        so an old voicemail is still never mailed twice); returns how many."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "UPDATE messages SET raw = X'' WHERE status = 'sent' AND finished_at < ?"
                " AND length(raw) > 0",
                (_stamp(before),),
            )
        return cursor.rowcount

    # -------------------------------------------------------------- reading
    def get(self, mail_id: int) -> QueuedMail:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (mail_id,)
            ).fetchone()
        if row is None:
            raise KeyError(f"no mail {mail_id} in the queue")
        return _row(row)

    def contains(self, key: str) -> bool:
        """Whether a message was ever queued under ``key``."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM messages WHERE key = ?", (key,)).fetchone()
        return row is not None

    def finished_keys(self, kind: str) -> list[str]:
        """The keys of ``kind`` messages that are sent or failed for good."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM messages WHERE kind = ? AND key IS NOT NULL"
                " AND status != 'pending'",
                (kind,),
            ).fetchall()
        return [cast(str, r[0]) for r in rows]

    def due(self, now: datetime, limit: int = 100) -> list[QueuedMail]:
        """Pending messages whose next attempt is at or before ``now``, oldest due first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE status = 'pending'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                (_stamp(now), limit),
            ).fetchall()
        return [_row(r) for r in rows]

    def next_due(self) -> datetime | None:
        """When the earliest pending message is due (None: nothing pending)."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_attempt_at) FROM messages WHERE status = 'pending'"
            ).fetchone()
        return _time(row[0])

    def messages(self, status: Status | None = None) -> list[QueuedMail]:
        """Every message (or those in ``status``) in the order they were queued."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        query = f"SELECT {_COLUMNS} FROM messages"
        args: tuple[object, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_row(r) for r in rows]

    def counts(self) -> dict[Status, int]:
        """How many messages are in each state."""
        with self._lock:
            rows = self._db.execute("SELECT status, count(*) FROM messages GROUP BY status")
            found = {cast(Status, s): int(n) for s, n in rows.fetchall()}
        return {status: found.get(status, 0) for status in STATUSES}
