"""What ``harness serve --state-dir`` keeps of its PBX from one start to the next.

A real Exchange restart leaves the PBX alone: the presence the engine set is still
there when Exchange is back, and the engine (which remembers what it set) does not
set it again. ``harness serve`` restarts its PBX simulator too, so ``PbxKeeper``
writes the PBX's presence state to ``pbx.json`` in the state folder and puts it back
at the next start:

- each user's presence (status, return time, who set it, since when, the 15-minute
  extensions counted) and the instant of their last change;
- the PBX journal, its latest ``MAX_KEPT_JOURNAL`` entries.

It is written (temporary file and rename, mode 0600) within ``SAVE_INTERVAL`` of a
change, and once more at a clean stop, so a crash loses at most about a second.

The rule for a seed that changed meanwhile: a kept user is put back only when the
seed still has a user at that extension with the same e-mail address (compared
case-insensitively); any other kept user, and their journal entries, are left out
(and named in the log), and users new in the seed start in the seed's presence.
A file that cannot be read or is not a PBX state is moved aside (``pbx.json.bad-``
and the time) with one log line, and the PBX starts from the seed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scenarios.commands.servestate import SaveTrouble, move_aside, write_private
from simulators.pbx import Pbx
from simulators.pbx.model import (
    JournalEntry,
    PbxError,
    Presence,
    PresenceState,
    Status,
    parse_status,
)

log = logging.getLogger(__name__)

FORMAT = 1
MAX_KEPT_JOURNAL = 10_000
SAVE_INTERVAL = 1.0  # seconds: what a crash may lose


class BadState(ValueError):
    """The kept file is not a PBX state this version reads."""


# ------------------------------------------------------------------ the JSON form
def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _read_time(value: object, what: str, optional: bool = False) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadState(f"{what}: not a time")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise BadState(f"{what}: not a time: {value!r}") from None
    if stamp.utcoffset() is None:
        raise BadState(f"{what}: a time without a UTC offset: {value!r}")
    return stamp.astimezone(UTC)


def encode(state: PresenceState, pbx: Pbx) -> dict[str, Any]:
    """``state`` of ``pbx`` as JSON data (each user with the e-mail it belongs to)."""
    emails = {user.extension: user.email for user in pbx.users()}
    users = {
        extension: {
            "email": emails.get(extension),
            "status": presence.status.value,
            "return_time": _time(presence.return_time),
            "set_by": presence.set_by,
            "since": _time(presence.since),
            "extensions": presence.extensions,
            "last_change": _time(state.last_change.get(extension, presence.since)),
        }
        for extension, presence in state.presence.items()
    }
    journal = [
        {
            "seq": e.seq,
            "at": _time(e.at),
            "user": e.user,
            "old_status": e.old_status.value,
            "new_status": e.new_status.value,
            "old_return_time": _time(e.old_return_time),
            "return_time": _time(e.return_time),
            "set_by": e.set_by,
            "cause": e.cause,
            "reason": e.reason,
        }
        for e in state.journal[-MAX_KEPT_JOURNAL:]
    ]
    return {"format": FORMAT, "users": users, "journal": journal}


def _field(record: dict[str, Any], name: str, kind: type, what: str) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadState(f"{what}: {name} missing or not a {kind.__name__}")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadState(f"{what}: not an object")
    return value


def _time_field(record: dict[str, Any], name: str, what: str) -> datetime:
    stamp = _read_time(record.get(name), f"{what}: {name}")
    assert stamp is not None
    return stamp


def _optional_time(record: dict[str, Any], name: str, what: str) -> datetime | None:
    return _read_time(record.get(name), f"{what}: {name}", optional=True)


def _status(record: dict[str, Any], name: str, what: str) -> Status:
    try:
        return parse_status(record.get(name), name)
    except PbxError as exc:
        raise BadState(f"{what}: {exc}") from None


def _user(extension: str, raw: object) -> tuple[Presence, datetime, str | None]:
    what = f"user {extension}"
    user = _object(raw, what)
    email = user.get("email")
    if email is not None and not isinstance(email, str):
        raise BadState(f"{what}: email not a string")
    presence = Presence(
        _status(user, "status", what),
        _optional_time(user, "return_time", what),
        _field(user, "set_by", str, what),
        _time_field(user, "since", what),
        _field(user, "extensions", int, what),
    )
    return presence, _time_field(user, "last_change", what), email


def _entry(index: int, raw: object) -> JournalEntry:
    what = f"journal entry {index + 1}"
    entry = _object(raw, what)
    return JournalEntry(
        seq=_field(entry, "seq", int, what),
        at=_time_field(entry, "at", what),
        user=_field(entry, "user", str, what),
        old_status=_status(entry, "old_status", what),
        new_status=_status(entry, "new_status", what),
        old_return_time=_optional_time(entry, "old_return_time", what),
        return_time=_optional_time(entry, "return_time", what),
        set_by=_field(entry, "set_by", str, what),
        cause=_field(entry, "cause", str, what),
        reason=_field(entry, "reason", str, what),
    )


def decode(data: object) -> tuple[PresenceState, dict[str, str | None]]:
    """JSON data back as a state and each kept user's e-mail; ``BadState`` if it is
    not one (every field checked: a half-right file is not half restored)."""
    top = _object(data, "the file")
    if top.get("format") != FORMAT:
        raise BadState(f"format {top.get('format')!r}, not {FORMAT}")
    journal = top.get("journal")
    if not isinstance(journal, list):
        raise BadState("journal: not a list")
    presence: dict[str, Presence] = {}
    last_change: dict[str, datetime] = {}
    emails: dict[str, str | None] = {}
    for extension, raw in _object(top.get("users"), "users").items():
        presence[extension], last_change[extension], emails[extension] = _user(extension, raw)
    entries = tuple(_entry(index, raw) for index, raw in enumerate(journal))
    return PresenceState(presence, last_change, entries), emails


# ------------------------------------------------------------------ the file
def _moved_aside(path: Path, reason: str) -> None:
    log.warning("%s: %s; %s, the PBX starts from the seed", path, reason, move_aside(path))


def restore(pbx: Pbx, path: Path) -> bool:
    """Put the state kept at ``path`` back into ``pbx`` (just made from the seed), for
    the users the rule keeps; whether anything was restored. A broken file is moved
    aside and the seed's presence stays."""
    if not path.exists():
        return False
    try:
        state, emails = decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        _moved_aside(path, f"unreadable ({getattr(exc, 'strerror', None) or exc})")
        return False
    except ValueError as exc:  # JSON's errors and BadState
        _moved_aside(path, f"not a PBX state ({exc})")
        return False
    seed = {user.extension: user.email for user in pbx.users()}
    kept = {
        extension
        for extension in state.presence
        if extension in seed
        and (emails[extension] or "").casefold() == (seed[extension] or "").casefold()
    }
    left_out = sorted(set(state.presence) - kept)
    if left_out:
        log.warning(
            "%s: %s no longer in the seed with the same e-mail address: "
            "not restored (their presence is the seed's)",
            path,
            ", ".join(left_out),
        )
    pbx.restore_presence(
        PresenceState(
            {e: p for e, p in state.presence.items() if e in kept},
            {e: t for e, t in state.last_change.items() if e in kept},
            state.journal,  # of the users restored only
        )
    )
    log.info("%s: the presence of %d users restored", path, len(kept))
    return True


class PbxKeeper:
    """Keeps the PBX that ``current()`` names (it changes at a reset or a seed load)
    in ``path``: saved within ``interval`` of a change and at ``stop``."""

    def __init__(
        self, path: Path, current: Callable[[], Pbx], interval: float = SAVE_INTERVAL
    ) -> None:
        self.path = path
        self._current = current
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: object = None  # what the file holds, as ``_fingerprint`` tells it

    def start(self) -> PbxKeeper:
        self._thread = threading.Thread(target=self._run, name="pbx-keeper", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop saving; the last state is written once more. Safe to call twice."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self.save_if_changed()

    def save_if_changed(self) -> bool:
        """Write the PBX's state if it changed since the last write; whether it did."""
        pbx = self._current()
        state = pbx.presence_state()
        # Every change of presence is journalled, so these tell one state from another
        # without writing the whole journal out each second.
        last = state.journal[-1].seq if state.journal else 0
        fingerprint = (id(pbx), len(state.journal), last, tuple(sorted(state.presence.items())))
        if fingerprint == self._saved:
            return False
        write_private(self.path, json.dumps(encode(state, pbx), indent=1))
        self._saved = fingerprint
        return True

    def _run(self) -> None:
        trouble = SaveTrouble(log, self.path, "the PBX state", "the PBX state is saved again")
        while not self._stopping.wait(self._interval):
            try:
                self.save_if_changed()
            except Exception as exc:  # a full disk: say so once, try again each round
                trouble.failed(exc)
            else:
                trouble.saved()


__all__ = ["BadState", "PbxKeeper", "decode", "encode", "restore"]
