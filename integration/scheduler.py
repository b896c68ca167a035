"""Polls every user's calendar on an injected clock and applies the rules.

The ``Engine`` owns the per-user rule states and one poll's path: read the
calendar through a ``CalendarSource``, ask the PBX for the user's presence, run
``rules.step`` and send its commands through the ``PresenceGateway``. It never
reads a clock by itself:

- scenarios call ``poll_all(now)`` at each poll instant of their frozen clock;
- ``run()`` (``harness engine``) polls in real time, spreading the users evenly
  over each cycle so that thousands of mailboxes make a steady trickle of reads
  rather than a burst every 30 s (users due within a quarter second start together,
  ``poll_batches``). Concurrency is bounded by the source.

R1 lives here: users without calendar integration (system or user) or without an
e-mail address are skipped and reported once; a mailbox that does not exist or
refuses impersonation is reported at every poll and never stops the others.

Every poll's ``PollEvent`` carries the rules' decisions (``integration.decisions``).
The log says what a person running the engine needs: one INFO line per presence
change (user, old -> new, return time, rule, appointment), one WARNING when a user's
polls start failing (the service, the failure, when it retries; repeats of the same
failure only at DEBUG), and one INFO line when that user's polling recovers.

Each user is on its own: a slow mailbox or a PBX that hangs holds only that user's
poll (``run()`` never starts a second poll of a user whose last one still runs, and
reads the directory beside the polls, not in front of them). When Exchange asks the
engine to back off, ``integration.backoff`` holds every read until then. ``health()``
says where each user stands (last good poll, failures in a row, next poll).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal

from integration import rules
from integration.backoff import Backoff
from integration.decisions import Decision
from integration.pbx import PbxError, PbxUser, PresenceGateway
from integration.shard import Shard
from integration.sources.base import (
    AccessDenied,
    CalendarSource,
    MailboxNotFound,
    SourceError,
    SourceUnavailable,
)

log = logging.getLogger(__name__)

Outcome = Literal["ok", "skipped", "failed"]
POLL_TICK = 0.25  # s: users due within it are polled together (poll_batches)
HOLD_MARGIN = 0.01  # s past a back-off hold's end, so the deferred poll is not held
# How far ahead a read looks. Must exceed lead_time + interval (R4); a day also
# carries all-day events and long appointments in progress (they overlap ``now``).
DEFAULT_LOOKAHEAD = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PollEvent:
    """What one poll of one user did, for logs, timelines and support."""

    at: datetime
    extension: str
    mailbox: str | None
    outcome: Outcome
    detail: str = ""
    commands: tuple[rules.Command, ...] = ()
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True, slots=True)
class PollSettings:
    interval: timedelta = timedelta(seconds=30)
    lead_time: timedelta = rules.DEFAULT_LEAD_TIME
    catch_up: bool = False
    lookahead: timedelta = DEFAULT_LOOKAHEAD


@dataclass
class _UserSlot:
    user: PbxUser
    state: rules.UserRuleState = field(default_factory=rules.UserRuleState)
    subjects: dict[str, str] = field(default_factory=dict)  # last read, to name ended ones
    failures: int = 0  # polls in a row that did not read the calendar
    failing_since: datetime | None = None
    last_error: str = ""
    last_good: datetime | None = None  # the last poll that read the calendar
    last_poll: datetime | None = None
    next_poll: datetime | None = None  # when the real-time loop plans to poll it next

    def health(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "extension": self.user.extension,
            "mailbox": self.user.email,
            "last_poll": iso(self.last_poll),
            "last_good_poll": iso(self.last_good),
            "failures_in_a_row": self.failures,
            "failing_since": iso(self.failing_since),
            "last_error": self.last_error or None,
            "next_poll": iso(self.next_poll),
        }


def _skip_reason(user: PbxUser, system_enabled: bool) -> str | None:
    """R1: why ``user`` is not polled, or None."""
    if not system_enabled:
        return "calendar integration is off for the system"
    if not user.calendar_integration:
        return "calendar integration is off for this user"
    if not user.email:
        return "no e-mail address, so no mailbox to read"
    return None


def _describe(command: rules.Command) -> str:
    if isinstance(command, rules.SetPresence):
        return f"{command.status} until {command.return_time.isoformat()} ({command.reason})"
    return f"office ({command.reason})"


# The rule behind each command's reason, for the log line of a presence change.
REASON_RULES: dict[rules.Reason, str] = {
    rules.Reason.START: "R3",
    rules.Reason.CATCH_UP: "R3",
    rules.Reason.ALL_DAY: "R12",
    rules.Reason.RESUME: "R9",
    rules.Reason.CHANGED: "R5/R6",
    rules.Reason.END: "R7",
    rules.Reason.REMOVED: "R11",
}


class Engine:
    """The sync engine: rule state per user, one poll at a time per user."""

    def __init__(
        self,
        source: CalendarSource,
        pbx: PresenceGateway,
        settings: PollSettings | None = None,
        *,
        on_event: Callable[[PollEvent], None] | None = None,
        shard: Shard | None = None,
        service: str = "Exchange",
    ) -> None:
        self.source = source
        self.service = service  # how log lines name what the calendars are read from
        self.backoff = Backoff()
        self.shard = shard  # None: every user; else only the users it owns
        self.pbx = pbx
        self.settings = settings or PollSettings()
        self._slots: dict[str, _UserSlot] = {}
        self._skipped: dict[str, str] = {}
        self._on_event = on_event or (lambda event: None)

    # ------------------------------------------------------------- directory
    async def refresh_users(self, now: datetime) -> list[_UserSlot]:
        """Re-read the PBX directory; returns the users to poll (R1)."""
        system = await self.pbx.system_calendar_integration()
        polled: list[_UserSlot] = []
        seen: set[str] = set()
        for user in await self.pbx.users():
            if self.shard is not None and not self.shard.owns(user.email, user.extension):
                continue  # another engine process polls (or reports) this user
            seen.add(user.extension)
            reason = _skip_reason(user, system)
            if reason is not None:
                if self._skipped.get(user.extension) != reason:
                    self._skipped[user.extension] = reason
                    log.warning(
                        "user %s (%s) is not polled: %s", user.extension, user.email, reason
                    )
                    self._emit(PollEvent(now, user.extension, user.email, "skipped", reason))
                self._slots.pop(user.extension, None)
                continue
            self._skipped.pop(user.extension, None)
            slot = self._slots.get(user.extension)
            if slot is None or slot.user.email != user.email:
                slot = self._slots[user.extension] = _UserSlot(user)  # new mailbox: new state
            else:
                slot.user = user
            polled.append(slot)
        for gone in set(self._slots) - seen:
            del self._slots[gone]
        return polled

    # ------------------------------------------------------------------ polls
    async def poll_all(self, now: datetime) -> list[PollEvent]:
        """Poll every polled user at ``now`` (the scenario runner's entry). When the
        PBX directory cannot be read, the users known so far are polled (as ``run``
        does): their reads go on, and what the PBX cannot take is a failed poll."""
        try:
            slots = await self.refresh_users(now)
        except PbxError as exc:
            log.error("cannot read the PBX directory: %s; polling the users known so far", exc)
            slots = list(self._slots.values())
        return list(await asyncio.gather(*(self._poll(slot, now) for slot in slots)))

    async def _poll(self, slot: _UserSlot, now: datetime) -> PollEvent:
        user = slot.user
        assert user.email is not None
        slot.last_poll = now
        held = self.backoff.holds(user.email, now)
        if held is not None:  # the server asked for quiet: not read, so a gap (R3, R4)
            return self._failed(
                slot,
                now,
                "skipped",
                f"not read: backing off until {held.isoformat()} as {self.service} asked "
                f"({self.backoff.reason})",
            )
        try:
            appointments = await self.source.read(user.email, now, now + self.settings.lookahead)
        except (MailboxNotFound, AccessDenied) as exc:
            # R1: reported, never stops the others; nothing was read, so a gap.
            return self._failed(slot, now, "skipped", str(exc))
        except SourceError as exc:
            wait = exc.retry_after if isinstance(exc, SourceUnavailable) else None
            if wait is not None and self.backoff.hold(now, wait, str(exc)):
                log.warning(
                    "%s asks to back off %.1f s (%s): no mailbox is read before %s",
                    self.service,
                    wait,
                    exc.code or exc.message,
                    self.backoff.until.isoformat() if self.backoff.until else "?",
                )
            return self._failed(slot, now, "failed", str(exc))
        try:
            current = await self.pbx.presence(user.extension)
            new_state, commands, decisions = rules.step(
                slot.state,
                appointments,
                now,
                current_presence=rules.CurrentPresence(
                    current.status, current.return_time, current.set_by
                ),
                settings=self.settings,
                user=user,
            )
            subjects = {a.id: a.subject for a in appointments}
            for command in commands:
                key = command.appointment_id or ""
                subject = subjects.get(key, slot.subjects.get(key))
                await self._send(user, command, subject)
                _log_change(user, current.status, command, subject)
        except PbxError as exc:
            # The state assumes its commands took effect: keep the old one (rules.py).
            return self._failed(slot, now, "failed", str(exc), "the PBX")
        if slot.failures:
            log.info(
                "polling %s (%s) recovered after %d poll(s) without a read since %s",
                user.extension,
                user.email,
                slot.failures,
                slot.failing_since.isoformat() if slot.failing_since else "?",
            )
            slot.failures, slot.failing_since, slot.last_error = 0, None, ""
        slot.last_good = now
        slot.state = new_state
        slot.subjects = subjects
        detail = f"{len(appointments)} appointment(s)"
        if commands:
            detail += "; " + "; ".join(_describe(c) for c in commands)
        return self._emit(
            PollEvent(
                now, user.extension, user.email, "ok", detail, tuple(commands), tuple(decisions)
            )
        )

    def _failed(
        self,
        slot: _UserSlot,
        now: datetime,
        outcome: Outcome,
        detail: str,
        service: str | None = None,
    ) -> PollEvent:
        """A poll that read nothing (or could not send its commands): a gap (R3, R4).
        Logged as a WARNING when the user's trouble starts or changes, else DEBUG."""
        slot.state = rules.poll_failed(slot.state, now)
        if slot.failures == 0:
            slot.failing_since = now
        slot.failures += 1
        user = slot.user
        level = logging.DEBUG if detail == slot.last_error else logging.WARNING
        slot.last_error = detail
        log.log(
            level,
            "poll %s (%s) %s (%s): %s; next try at %s",
            user.extension,
            user.email,
            outcome,
            service or self.service,
            detail,
            self._retry_time(user.email, now).isoformat(),
        )
        return self._emit(PollEvent(now, user.extension, user.email, outcome, detail))

    def _retry_time(self, mailbox: str | None, now: datetime) -> datetime:
        """The user's next poll, or later when the server asked to back off."""
        retry = now + self.settings.interval
        held = self.backoff.release_at(mailbox or "")
        return max(retry, held) if held is not None else retry

    def health(self) -> dict[str, object]:
        """Where every polled user stands, for the health endpoint."""
        users = [slot.health() for slot in self._slots.values()]
        failing = sum(1 for u in users if u["failures_in_a_row"])
        return {
            "status": "ok" if not failing else "degraded",
            "service": self.service,
            "users_polled": len(users),
            "users_failing": failing,
            "backing_off_until": self.backoff.until.isoformat() if self.backoff.until else None,
            "skipped": [{"extension": k, "reason": v} for k, v in sorted(self._skipped.items())],
            "users": users,
        }

    async def _send(self, user: PbxUser, command: rules.Command, subject: str | None) -> None:
        about = f"{command.reason}: {subject!r}" if subject is not None else str(command.reason)
        if isinstance(command, rules.SetPresence):
            await self.pbx.set_presence(
                user.extension,
                command.status,
                command.return_time,
                set_by=rules.ENGINE_SET_BY,
                reason=about,
            )
        else:
            await self.pbx.set_presence(
                user.extension, rules.OFFICE, None, set_by=rules.ENGINE_SET_BY, reason=about
            )

    def _emit(self, event: PollEvent) -> PollEvent:
        self._on_event(event)
        return event

    # -------------------------------------------------------------- real time
    async def run(
        self,
        stop: asyncio.Event,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Poll until ``stop`` is set, each user once per interval, spread evenly.

        The directory is read beside the polls: each cycle polls the users the last
        finished read gave, and starts the next read, so a slow or hung PBX never
        delays a cycle (only the very first waits for a directory)."""
        loop = asyncio.get_running_loop()
        tasks: dict[str, asyncio.Task[PollEvent]] = {}  # running polls by extension
        slots: list[_UserSlot] = []
        directory: asyncio.Task[list[_UserSlot]] | None = None
        while not stop.is_set():
            if directory is None or directory.done():
                if directory is not None:
                    slots = self._directory_result(directory, slots)
                directory = asyncio.create_task(self.refresh_users(now()))
                if not slots and not await _first(directory, stop):
                    slots = self._directory_result(directory, slots)
                    directory = None
            interval = self.settings.interval.total_seconds()  # may change on reload
            cycle_start = loop.time()
            offsets = poll_offsets(len(slots), interval)
            wall = now()
            for slot, offset in zip(slots, offsets, strict=True):
                slot.next_poll = wall + timedelta(seconds=offset)
            first = 0
            for start, count in poll_batches(offsets):
                delay = cycle_start + start - loop.time()
                if delay > 0 and await _wait(stop, delay):
                    break
                for slot in slots[first : first + count]:
                    extension = slot.user.extension
                    slot.next_poll = now() + self.settings.interval
                    if extension in tasks:
                        continue  # its previous poll is still running: don't pile up
                    task = asyncio.create_task(self._poll_after_hold(slot, now, stop))
                    tasks[extension] = task
                    task.add_done_callback(partial(_forget, tasks, extension))
                first += count
            remaining = cycle_start + interval - loop.time()
            if remaining > 0:
                await _wait(stop, remaining)
        if directory is not None and not directory.done():
            directory.cancel()
        if tasks:
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def _poll_after_hold(
        self, slot: _UserSlot, now: Callable[[], datetime], stop: asyncio.Event
    ) -> PollEvent:
        """Poll ``slot`` now, or, when Exchange's back-off hint holds it and the hold
        ends before the user's next turn, as soon as the hold ends: a 5 s
        BackOffMilliseconds then costs 5 s, not a whole interval (a skipped poll in
        an appointment's start minute would be a gap, R3)."""
        assert slot.user.email is not None
        held = self.backoff.holds(slot.user.email, now())
        if held is not None:
            wait = (held - now()).total_seconds() + HOLD_MARGIN
            if 0 < wait < self.settings.interval.total_seconds():
                await _wait(stop, wait)  # stopped: the poll below is skipped, not read
        return await self._poll(slot, now())

    def _directory_result(
        self, directory: asyncio.Task[list[_UserSlot]], previous: list[_UserSlot]
    ) -> list[_UserSlot]:
        """The users a finished directory read gave, or the previous ones if it failed."""
        if directory.cancelled():
            return previous
        exc = directory.exception()
        if exc is None:
            return directory.result()
        if isinstance(exc, PbxError):
            log.error("cannot read the PBX directory: %s; polling the users known so far", exc)
        else:
            log.error("reading the PBX directory failed: %r; polling the users known so far", exc)
        return previous


async def _first(directory: asyncio.Task[list[_UserSlot]], stop: asyncio.Event) -> bool:
    """Wait for the engine's first directory read, or for ``stop``; True when stopped."""
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({directory, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    return stop.is_set()


def _log_change(user: PbxUser, old: str, command: rules.Command, subject: str | None) -> None:
    """One INFO line per presence change: who, old -> new, until, which rule, why."""
    if isinstance(command, rules.SetPresence):
        new = f"{command.status} until {command.return_time.isoformat()}"
    else:
        new = rules.OFFICE
    log.info(
        "presence %s (%s): %s -> %s [%s %s: %s]",
        user.extension,
        user.email,
        old,
        new,
        REASON_RULES[command.reason],
        command.reason,
        repr(subject) if subject is not None else command.appointment_id or "-",
    )


def poll_offsets(count: int, interval: float) -> list[float]:
    """Seconds into a cycle at which each of ``count`` users is polled: evenly spread,
    so reads arrive at a steady rate instead of a burst at every cycle start."""
    step = interval / max(count, 1)
    return [index * step for index in range(count)]


def poll_batches(offsets: list[float], tick: float = POLL_TICK) -> list[tuple[float, int]]:
    """``offsets`` (ascending) as batches of polls started together: (offset, count).

    A batch starts at its first user's offset and takes the users due less than
    ``tick`` after it, so with thousands of users the loop wakes a few times a second
    rather than at every user's turn, and the batch's reads share the wake-ups of the
    loop, the pool's connections and the servers (a real-time poll of its own cost
    about twice the CPU of one in a batch). Users further apart than ``tick`` are each
    polled on their own offset, as before."""
    batches: list[tuple[float, int]] = []
    for offset in offsets:
        if batches and offset - batches[-1][0] < tick:
            batches[-1] = (batches[-1][0], batches[-1][1] + 1)
        else:
            batches.append((offset, 1))
    return batches


def _forget(tasks: dict[str, asyncio.Task[PollEvent]], extension: str, _done: object) -> None:
    tasks.pop(extension, None)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
