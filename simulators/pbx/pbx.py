"""The PBX simulator's in-process API: directory, presence, journal, calls, voicemail.

Modelled on OpenScape Business. One ``Pbx`` owns the user directory, every
user's presence, the journal of presence changes, the call log and the
voicemail boxes. It reads time only through its injected clock and has no
timers: before every operation it applies the R7 extensions that fell due
since the last one (``simulators.pbx.presence``), so lazy reads and an
explicit ``tick`` give the same journal. All methods are thread-safe (the HTTP
front end in ``simulators.pbx.api`` is threaded); listeners are called after
the lock is released, so they may call back into the PBX.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulators.clock import Clock
from simulators.pbx.calls import route_call
from simulators.pbx.directory import (
    DirectoryEntry,
    DirectoryUnavailable,
    ExternalDirectory,
    internal_matches,
)
from simulators.pbx.model import (
    CallResult,
    Conflict,
    InvalidInput,
    JournalEntry,
    Presence,
    PresenceState,
    Status,
    UnknownUser,
    User,
    Voicemail,
    parse_status,
    require_aware,
)
from simulators.pbx.presence import EXTENSION_STEP, due_extensions
from simulators.pbx.voicemail import MAX_SECONDS

log = logging.getLogger(__name__)

EXTENSION_REASON = "return time reached; moved {minutes:g} minutes later"
MAX_VOICEMAILS_PER_BOX = 500  # a full box drops its oldest message
MAX_CALL_LOG = 100_000


class HasNow(Protocol):
    def now(self) -> datetime: ...


ClockLike = HasNow | Callable[[], datetime]


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidInput(f"unknown time zone {value!r}", "timezone") from exc


def _text(value: object, field: str, *, limit: int = 200, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > limit:
        what = "a string" if empty else "a non-empty string"
        raise InvalidInput(f"must be {what} of at most {limit} characters", field)
    return value


def _extension_order(extension: str) -> tuple[int, str]:
    return (len(extension), extension)  # numeric order for digit strings


class Pbx:
    """An OpenScape Business as the Exchange integration sees it.

    The R7 extension applies to users without auto back to office (with it,
    the engine returns them to office, as the vendor's "automatic reset"); it
    moves only the return time and keeps ``set_by``, so it is never mistaken
    for a manual change (R8). Its journal entries say ``set_by="pbx"``.
    """

    def __init__(
        self,
        clock: ClockLike | None = None,
        *,
        timezone: str | tzinfo = "UTC",
        calendar_integration: bool = True,
        extension_step: timedelta = EXTENSION_STEP,
    ) -> None:
        source = clock if clock is not None else Clock()
        self._read_clock: Callable[[], datetime] = (
            source if callable(source) else source.now  # type: ignore[assignment]
        )
        if extension_step <= timedelta(0):
            raise InvalidInput("must be positive", "extension_step")
        self._zone = _zone(timezone)
        self._calendar_integration = bool(calendar_integration)
        self._step = extension_step
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._presence: dict[str, Presence] = {}
        self._last_change: dict[str, datetime] = {}
        # Indexes so that no request scans every user: extension by folded e-mail, and
        # a heap of (return time, extension) for the 15-minute extensions (stale
        # entries, whose presence changed since, are skipped when they come up).
        self._by_email: dict[str, str] = {}
        self._due: list[tuple[datetime, str]] = []
        self._journal: list[JournalEntry] = []
        # Bounded like a real PBX's call log and voicemail boxes (per box, oldest out).
        self._calls: deque[CallResult] = deque(maxlen=MAX_CALL_LOG)
        self._voicemails: list[Voicemail] = []
        self._seq = itertools.count(1)
        self._voicemail_ids = itertools.count(1)
        self._journal_listeners: list[Callable[[JournalEntry], None]] = []
        self._voicemail_listeners: list[Callable[[Voicemail], None]] = []
        self._pending: list[tuple[list[Any], Any]] = []  # notifications awaiting the unlock
        # Exchange's public folder contacts, plugged in by whoever runs the PBX.
        self.external_directory: ExternalDirectory | None = None

    # -- clock and settings -------------------------------------------------

    def now(self) -> datetime:
        """The PBX clock: an aware UTC instant."""
        now = self._read_clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidInput("the clock returned a naive datetime", "clock")
        return now.astimezone(UTC)

    @property
    def timezone(self) -> tzinfo:
        """The PBX's local zone: announcements speak times in it."""
        return self._zone

    @timezone.setter
    def timezone(self, value: str | tzinfo) -> None:
        self._zone = _zone(value)

    @property
    def calendar_integration(self) -> bool:
        """The system-wide switch of the Exchange calendar integration (R1)."""
        return self._calendar_integration

    @calendar_integration.setter
    def calendar_integration(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("must be true or false", "calendar_integration")
        self._calendar_integration = value

    @property
    def extension_step(self) -> timedelta:
        return self._step

    # -- directory ----------------------------------------------------------

    def add_user(
        self,
        user: User,
        *,
        status: Status | str = Status.OFFICE,
        return_time: datetime | None = None,
        set_by: str = "pbx",
    ) -> User:
        """Add a subscriber with an initial presence (not journalled: it is the start)."""
        presence_status = parse_status(status)
        stamp = self._check_return_time(presence_status, return_time)
        _text(set_by, "set_by", limit=64)
        with self._locked():
            now = self._catch_up()
            if user.extension in self._users:
                raise Conflict(f"{user.extension} is taken", "extension")
            self._check_email_free(user.email, user.extension)
            self._users[user.extension] = user
            self._index_email(None, user)
            self._presence[user.extension] = Presence(presence_status, stamp, set_by, now)
            self._watch(user.extension)
            self._last_change[user.extension] = now
        return user

    def update_user(self, extension: str, /, **changes: Any) -> User:
        """Change a subscriber's settings; the extension itself cannot change."""
        if "extension" in changes and changes["extension"] != extension:
            raise InvalidInput("cannot be changed", "extension")
        with self._locked():
            now = self._catch_up()  # extensions due so far follow the old settings
            current = self._user(extension)
            unknown = set(changes) - {f.name for f in dataclasses.fields(User)}
            if unknown:
                raise InvalidInput("unknown user setting", sorted(unknown)[0])
            updated = dataclasses.replace(current, **changes)
            self._check_email_free(updated.email, extension)
            self._users[extension] = updated
            self._index_email(current, updated)
            self._watch(extension)  # auto back to office may have been switched off
            # New settings act from now on: no extension is stamped before this change.
            self._last_change[extension] = max(self._last_change[extension], now)
        return updated

    def users(self) -> list[User]:
        """Every subscriber, in extension order."""
        with self._locked():
            return [self._users[e] for e in sorted(self._users, key=_extension_order)]

    def user(self, extension: str) -> User:
        """The subscriber at ``extension``; ``UnknownUser`` otherwise."""
        with self._locked():
            return self._user(extension)

    def user_by_email(self, email: str) -> User | None:
        """The subscriber with that e-mail address, compared case-insensitively (R1)."""
        with self._locked():
            return self._find_email(email)

    # -- presence -----------------------------------------------------------

    def presence(self, extension: str) -> Presence:
        """The user's presence now, with every extension due applied."""
        with self._locked():
            self._catch_up()
            self._user(extension)
            return self._presence[extension]

    def presences(self) -> dict[str, Presence]:
        """Every user's presence now, by extension."""
        with self._locked():
            self._catch_up()
            return dict(self._presence)

    def set_presence(
        self,
        extension: str,
        status: Status | str,
        return_time: datetime | None = None,
        *,
        set_by: str = "client",
        reason: str = "",
    ) -> Presence:
        """Set a presence; journalled with cause ``"set"`` even when nothing differs,
        because who set it matters (R8). ``office`` takes no return time."""
        new_status = parse_status(status)
        stamp = self._check_return_time(new_status, return_time)
        _text(set_by, "set_by", limit=64)
        _text(reason, "reason", limit=500, empty=True)
        with self._locked():
            now = self._catch_up()
            self._user(extension)
            old = self._presence[extension]
            since = old.since if old.status == new_status else now
            new = Presence(new_status, stamp, set_by, since)
            self._record(now, extension, old, new, "set", reason)
        return new

    def tick(self, now: datetime | None = None) -> list[JournalEntry]:
        """Apply the extensions due up to ``now`` (default: the clock); the new entries."""
        if now is not None:
            require_aware(now, "now")
        with self._locked():
            if now is not None and now > self.now():
                # Entries stamped ahead of the clock would let later ones go back in time.
                raise InvalidInput("is ahead of the PBX clock", "now")
            before = len(self._journal)
            self._catch_up(now)
            entries = self._journal[before:]
        return entries

    def journal(
        self,
        user: str | None = None,
        since: datetime | None = None,
        *,
        transitions_only: bool = False,
    ) -> list[JournalEntry]:
        """Journal entries in order, optionally of one user, at or after ``since``."""
        require_aware(since, "since")
        with self._locked():
            self._catch_up()
            if user is not None:
                self._user(user)
            return [
                e
                for e in self._journal
                if (user is None or e.user == user)
                and (since is None or e.at >= since)
                and (e.is_transition or not transitions_only)
            ]

    def transitions(self, user: str | None = None) -> list[JournalEntry]:
        """Status changes only: the journal without moved return times."""
        return self.journal(user, transitions_only=True)

    def on_journal(self, callback: Callable[[JournalEntry], None]) -> Callable[[], None]:
        """Call ``callback`` with every new journal entry; returns an unsubscribe."""
        return self._subscribe(self._journal_listeners, callback)

    def presence_state(self) -> PresenceState:
        """Every user's presence, last change and the journal now (extensions due applied)."""
        with self._locked():
            self._catch_up()
            return PresenceState(
                dict(self._presence), dict(self._last_change), tuple(self._journal)
            )

    def restore_presence(self, state: PresenceState) -> None:
        """Put back what a PBX kept before a restart, for the users of ``state.presence``
        it still has: their presence, last change and journal entries (numbering goes
        on after the highest kept, so no number is used twice). Not journalled and told
        to nobody: it is the PBX coming back up, so its journal must still be empty."""
        with self._locked():
            if self._journal:
                raise Conflict("only a PBX with an empty journal can be restored", "journal")
            restored = set(state.presence) & set(self._users)
            for extension in restored:
                presence = state.presence[extension]
                stamp = self._check_return_time(presence.status, presence.return_time)
                self._presence[extension] = dataclasses.replace(presence, return_time=stamp)
                self._last_change[extension] = state.last_change.get(extension, presence.since)
                self._watch(extension)
            kept = [e for e in state.journal if e.user in restored]
            self._journal = sorted(kept, key=lambda e: e.seq)
            last = max((e.seq for e in state.journal), default=0)
            self._seq = itertools.count(last + 1)

    # -- calls and voicemail ------------------------------------------------

    def call(self, to: str, caller: str, *, message_seconds: float = 3.0) -> CallResult:
        """Place a call to extension ``to`` (R14).

        Office: it rings. Otherwise the caller hears the status and return time
        in the user's language, then the call goes to the mobile number (when
        the user forwards this status there and has one) or to voicemail, where
        the caller leaves a message of ``message_seconds``.
        """
        _text(caller, "from", limit=64)
        if isinstance(message_seconds, bool) or not isinstance(message_seconds, int | float):
            raise InvalidInput("must be a number of seconds", "message_seconds")
        if not 0 < message_seconds <= MAX_SECONDS:
            raise InvalidInput(
                f"must be more than 0 and at most {MAX_SECONDS:g}", "message_seconds"
            )
        with self._locked():
            now = self._catch_up()
            user = self._user(to)
            result = route_call(
                user,
                self._presence[to],
                caller,
                now,
                self._zone,
                seconds=float(message_seconds),
                next_voicemail_id=lambda: next(self._voicemail_ids),
            )
            self._calls.append(result)
            if result.voicemail is not None:
                self._voicemails.append(result.voicemail)
                box = [v for v in self._voicemails if v.extension == result.voicemail.extension]
                if len(box) > MAX_VOICEMAILS_PER_BOX:
                    self._voicemails.remove(box[0])
                self._pending.append((self._voicemail_listeners, result.voicemail))
        return result

    def calls(self, extension: str | None = None) -> list[CallResult]:
        """The call log, oldest first, optionally of calls to one extension."""
        with self._locked():
            return [c for c in self._calls if extension is None or c.to == extension]

    def search_directory(
        self, query: str, limit: int = 20
    ) -> tuple[list[DirectoryEntry], str | None]:
        """PBX users matching ``query``, then external (Exchange) contacts, at most
        ``limit`` in all; with the reason when the external directory failed."""
        text = _text(query, "q", limit=200)
        if not 1 <= limit <= 200:
            raise InvalidInput("must be between 1 and 200", "limit")
        with self._locked():
            users = list(self._users.values())
        hits = internal_matches(users, text)[:limit]
        problem = None
        if self.external_directory is not None and len(hits) < limit:
            try:
                hits += self.external_directory(text, limit - len(hits))[: limit - len(hits)]
            except DirectoryUnavailable as exc:
                problem = str(exc)
        return hits, problem

    def voicemails(self, extension: str | None = None) -> list[Voicemail]:
        """Messages left, oldest first, optionally in one user's box."""
        with self._locked():
            return [v for v in self._voicemails if extension is None or v.extension == extension]

    def voicemail(self, voicemail_id: int) -> Voicemail:
        """One message by id; ``UnknownUser`` (a not-found) otherwise."""
        with self._locked():
            for message in self._voicemails:
                if message.id == voicemail_id:
                    return message
        raise UnknownUser(f"no voicemail {voicemail_id}", "id")

    def on_voicemail(self, callback: Callable[[Voicemail], None]) -> Callable[[], None]:
        """Call ``callback`` with every new voicemail; returns an unsubscribe."""
        return self._subscribe(self._voicemail_listeners, callback)

    # -- internals (callers hold the lock) ------------------------------------

    def _user(self, extension: str) -> User:
        try:
            return self._users[extension]
        except (KeyError, TypeError):
            raise UnknownUser(f"no user at {extension!r}", "extension") from None

    def _find_email(self, email: str) -> User | None:
        extension = self._by_email.get(email.casefold())
        return None if extension is None else self._users[extension]

    def _index_email(self, old: User | None, new: User) -> None:
        old_key = old.email.casefold() if old is not None and old.email is not None else None
        if old is not None and old_key is not None and self._by_email.get(old_key) == old.extension:
            del self._by_email[old_key]
        if new.email is not None:
            self._by_email[new.email.casefold()] = new.extension

    def _watch(self, extension: str) -> None:
        """Put the user's return time (if any) on the heap of extensions to apply."""
        return_time = self._presence[extension].return_time
        if return_time is not None:
            heapq.heappush(self._due, (return_time, extension))

    def _check_email_free(self, email: str | None, extension: str) -> None:
        if email is None:
            return
        other = self._find_email(email)
        if other is not None and other.extension != extension:
            raise Conflict(f"{email} already belongs to {other.extension}", "email")

    @staticmethod
    def _check_return_time(status: Status, return_time: datetime | None) -> datetime | None:
        if return_time is not None and not isinstance(return_time, datetime):
            raise InvalidInput("must be a datetime", "return_time")
        require_aware(return_time, "return_time")
        if status == Status.OFFICE and return_time is not None:
            raise InvalidInput("office has no return time", "return_time")
        return None if return_time is None else return_time.astimezone(UTC)

    def _catch_up(self, now: datetime | None = None) -> datetime:
        """Apply every extension due at or before ``now``, in (due, extension) order."""
        now = self.now() if now is None else now.astimezone(UTC)
        moves: list[tuple[datetime, str, datetime]] = []
        taken: set[str] = set()
        while self._due and self._due[0][0] <= now:
            return_time, extension = heapq.heappop(self._due)
            presence = self._presence[extension]
            if (
                extension in taken
                or presence.return_time != return_time  # changed since: a newer entry
                or presence.status == Status.OFFICE
                or self._users[extension].auto_back_to_office  # the engine ends it (R7)
            ):
                continue
            taken.add(extension)
            for due, moved in due_extensions(
                presence.return_time, now, self._last_change[extension], self._step
            ):
                moves.append((due, extension, moved))
        moves.sort(key=lambda m: (m[0], _extension_order(m[1])))
        reason = EXTENSION_REASON.format(minutes=self._step.total_seconds() / 60)
        for due, extension, moved in moves:
            old = self._presence[extension]
            new = dataclasses.replace(old, return_time=moved, extensions=old.extensions + 1)
            self._record(due, extension, old, new, "extension", reason, set_by="pbx")
        return now

    def _record(
        self,
        at: datetime,
        extension: str,
        old: Presence,
        new: Presence,
        cause: str,
        reason: str,
        *,
        set_by: str | None = None,
    ) -> JournalEntry:
        entry = JournalEntry(
            seq=next(self._seq),
            at=at,
            user=extension,
            old_status=old.status,
            new_status=new.status,
            old_return_time=old.return_time,
            return_time=new.return_time,
            set_by=new.set_by if set_by is None else set_by,
            cause=cause,
            reason=reason,
        )
        self._journal.append(entry)
        self._pending.append((self._journal_listeners, entry))
        self._presence[extension] = new
        self._watch(extension)
        self._last_change[extension] = at
        return entry

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock for one public operation, then tell listeners what changed.

        Public methods never call each other under the lock, so the flush always
        runs with the lock released and a listener may call back into the PBX.
        """
        with self._lock:
            yield
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            targets = [(list(listeners), item) for listeners, item in pending]
        for callbacks, item in targets:
            for callback in callbacks:
                try:
                    callback(item)
                except Exception:  # a listener's bug must not break the PBX
                    log.exception("PBX listener %r failed", callback)

    def _subscribe(self, listeners: list[Any], callback: Any) -> Callable[[], None]:
        with self._lock:
            listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in listeners:
                    listeners.remove(callback)

        return unsubscribe
