"""Polls every user's calendar on an injected clock and applies the rules.

The ``Engine`` owns the per-user rule states and one poll's path: read the
calendar through a ``CalendarSource``, ask the PBX for the user's presence, run
``rules.step`` and send its commands through the ``PresenceGateway``. It never
reads a clock by itself:

- scenarios call ``poll_all(now)`` at each poll instant of their frozen clock;
- ``run()`` (``harness engine``) polls in real time, spreading the users evenly
  over each cycle so that thousands of mailboxes make a steady trickle of reads
  rather than a burst every 30 s. Concurrency is bounded by the source.

R1 lives here: users without calendar integration (system or user) or without an
e-mail address are skipped and reported once; a mailbox that does not exist or
refuses impersonation is reported at every poll and never stops the others.

Every poll's ``PollEvent`` carries the rules' decisions (``integration.decisions``).
The log says what a person running the engine needs: one INFO line per presence
change (user, old -> new, return time, rule, appointment) and one when a user's
polling recovers after failed polls.
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
from integration.decisions import Decision
from integration.pbx import PbxError, PbxUser, PresenceGateway
from integration.shard import Shard
from integration.sources.base import (
    AccessDenied,
    CalendarSource,
    MailboxNotFound,
    SourceError,
)

log = logging.getLogger(__name__)

Outcome = Literal["ok", "skipped", "failed"]
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
    ) -> None:
        self.source = source
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
        """Poll every polled user at ``now`` (the scenario runner's entry)."""
        slots = await self.refresh_users(now)
        return list(await asyncio.gather(*(self._poll(slot, now) for slot in slots)))

    async def _poll(self, slot: _UserSlot, now: datetime) -> PollEvent:
        user = slot.user
        assert user.email is not None
        try:
            appointments = await self.source.read(user.email, now, now + self.settings.lookahead)
        except (MailboxNotFound, AccessDenied) as exc:
            # R1: reported, never stops the others; nothing was read, so a gap.
            return self._failed(slot, now, "skipped", str(exc))
        except SourceError as exc:
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
            return self._failed(slot, now, "failed", str(exc))
        if slot.failures:
            log.info(
                "polling %s (%s) recovered after %d failed poll(s) since %s",
                user.extension,
                user.email,
                slot.failures,
                slot.failing_since.isoformat() if slot.failing_since else "?",
            )
            slot.failures, slot.failing_since = 0, None
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

    def _failed(self, slot: _UserSlot, now: datetime, outcome: Outcome, detail: str) -> PollEvent:
        """A poll that read nothing (or could not send its commands): a gap (R3, R4)."""
        slot.state = rules.poll_failed(slot.state, now)
        if slot.failures == 0:
            slot.failing_since = now
        slot.failures += 1
        user = slot.user
        return self._emit(PollEvent(now, user.extension, user.email, outcome, detail))

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
        if event.outcome != "ok":
            log.warning(
                "%s %s (%s): %s", event.outcome, event.extension, event.mailbox, event.detail
            )
        self._on_event(event)
        return event

    # -------------------------------------------------------------- real time
    async def run(
        self,
        stop: asyncio.Event,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Poll until ``stop`` is set, each user once per interval, spread evenly."""
        interval = self.settings.interval.total_seconds()
        loop = asyncio.get_running_loop()
        tasks: dict[str, asyncio.Task[PollEvent]] = {}  # running polls by extension
        while not stop.is_set():
            cycle_start = loop.time()
            try:
                slots = await self.refresh_users(now())
            except PbxError as exc:
                log.error("cannot read the PBX directory: %s", exc)
                slots = []
            for slot, offset in zip(slots, poll_offsets(len(slots), interval), strict=True):
                delay = cycle_start + offset - loop.time()
                if delay > 0 and await _wait(stop, delay):
                    break
                extension = slot.user.extension
                if extension in tasks:
                    continue  # its previous poll is still running: don't pile up
                task = asyncio.create_task(self._poll(slot, now()))
                tasks[extension] = task
                task.add_done_callback(partial(_forget, tasks, extension))
            remaining = cycle_start + interval - loop.time()
            if remaining > 0:
                await _wait(stop, remaining)
        if tasks:
            await asyncio.gather(*tasks.values(), return_exceptions=True)


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


def _forget(tasks: dict[str, asyncio.Task[PollEvent]], extension: str, _done: object) -> None:
    tasks.pop(extension, None)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
