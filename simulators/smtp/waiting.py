"""Waiting for mail: a check for each instant of a scenario clock, and a real-time poll.

Scenarios never sleep: time is frozen and the runner moves it. ``MessageWait``
is created when an expectation starts (its deadline is ``timeout`` after the
clock's now); the runner calls ``check()`` at each instant it visits and gets
the first matching message or None, and ``expired`` tells it when to give up.
``poll_for_message`` is for real time (serve mode, tests against a running
sink): it sleeps between checks and gives up after ``timeout`` real seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from simulators.clock import utc_now
from simulators.smtp.inspection import MailInspector, MailSummary

Predicate = Callable[[MailSummary], bool]
WaitState = Literal["pending", "matched", "timed_out"]


def matching(
    *,
    mailbox: str | None = None,
    subject: str | None = None,
    subject_contains: str | None = None,
    sender: str | None = None,
    recipient: str | None = None,
) -> Predicate:
    """A predicate from the usual criteria (addresses compare case-insensitively)."""

    def predicate(message: MailSummary) -> bool:
        if mailbox is not None and message.mailbox != mailbox.lower():
            return False
        if subject is not None and message.subject != subject:
            return False
        if subject_contains is not None and subject_contains not in message.subject:
            return False
        if sender is not None and message.sender.lower() != sender.lower():
            return False
        return recipient is None or recipient.lower() in (r.lower() for r in message.recipients)

    return predicate


class MessageWait:
    """An expectation of a message, checked without sleeping.

    ``ignore_existing``: messages already stored when the wait starts do not count.
    A message that matches at the deadline itself still counts (inclusive bound).
    """

    def __init__(
        self,
        inspector: MailInspector,
        predicate: Predicate,
        timeout: timedelta,
        clock: Callable[[], datetime] | None = None,
        *,
        ignore_existing: bool = False,
    ) -> None:
        if timeout < timedelta(0):
            raise ValueError("timeout must not be negative")
        self.inspector = inspector
        self.predicate = predicate
        self.clock = clock or utc_now
        self.started = self.clock()
        self.deadline = self.started + timeout
        self._ignored = (
            {item.id for item in inspector.store.messages()} if ignore_existing else set()
        )
        self.match: MailSummary | None = None

    def check(self) -> MailSummary | None:
        """The first matching message in delivery order, or None (yet)."""
        if self.match is None:
            for item in self.inspector.store.messages():
                if item.id in self._ignored:
                    continue
                summary = self.inspector.summarize(item)
                if self.predicate(summary):
                    self.match = summary
                    break
        return self.match

    @property
    def expired(self) -> bool:
        """The clock is past the deadline (whether or not a message matched)."""
        return self.clock() > self.deadline

    @property
    def state(self) -> WaitState:
        """``matched``, ``timed_out`` (past the deadline, nothing matched) or ``pending``."""
        if self.check() is not None:
            return "matched"
        return "timed_out" if self.expired else "pending"


def wait_for_message(
    inspector: MailInspector,
    predicate: Predicate,
    timeout: timedelta,
    clock: Callable[[], datetime] | None = None,
    *,
    ignore_existing: bool = False,
) -> MessageWait:
    """Start waiting on the scenario clock; see ``MessageWait``."""
    return MessageWait(inspector, predicate, timeout, clock, ignore_existing=ignore_existing)


def poll_for_message(
    inspector: MailInspector, predicate: Predicate, timeout: float, interval: float = 0.02
) -> MailSummary:
    """Real time only (sleeps): the first matching message, or TimeoutError after ``timeout`` s."""
    waiter = MessageWait(inspector, predicate, timedelta(0))
    deadline = time.monotonic() + timeout
    while True:
        found = waiter.check()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no matching message within {timeout} s")
        time.sleep(interval)


__all__ = ["MessageWait", "Predicate", "matching", "poll_for_message", "wait_for_message"]
