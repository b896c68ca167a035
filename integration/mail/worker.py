"""Sends what the queue holds when it is due, with retry and backoff, on an injected clock.

Owns the retry policy and each attempt's bookkeeping. The worker reads no clock
by itself:

- scenarios call ``run_due(now)`` at instants of their frozen clock;
- ``run(stop)`` (``harness engine``) loops in real time, sleeping until the next
  message is due or until ``wake()`` says something was queued.

An attempt that fails with a 4xx reply or without a reply (connection refused,
timeout, TLS trouble) is tried again after a delay that starts at 30 s and
doubles up to 10 minutes (``RetryPolicy``; jitter is off unless asked for). A
5xx reply fails the message for good: its status becomes ``failed`` with the
reason, and it is logged. A message still undelivered after ``give_up_after``
(two days) fails the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integration.mail.client import MailTransport
from integration.mail.outcome import Outcome, SendResult
from integration.mail.queue import MailQueue, QueuedMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed message is tried again.

    After the n-th failed attempt the message waits ``first_delay * factor**(n-1)``,
    at most ``max_delay``, each delay moved by up to ``jitter`` (a fraction, 0.1 =
    ±10 %) so that many messages failed together do not retry in a burst.
    """

    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(minutes=10)
    give_up_after: timedelta | None = timedelta(days=2)
    jitter: float = 0.0

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        exponent = max(failed_attempts - 1, 0)
        seconds = self.first_delay.total_seconds() * self.factor**exponent
        seconds = min(seconds, self.max_delay.total_seconds())
        if self.jitter and rng is not None:
            seconds *= 1 + rng.uniform(-self.jitter, self.jitter)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Attempt:
    """One attempt to send one queued message, and what the queue now says about it."""

    at: datetime
    mail: QueuedMail  # the message's state after this attempt
    result: SendResult

    @property
    def retry_at(self) -> datetime | None:
        return self.mail.next_attempt_at if self.mail.status == "pending" else None

    def describe(self) -> str:
        mail = self.mail
        about = f"mail {mail.id} to {', '.join(mail.recipients)} ({mail.subject!r})"
        if mail.status == "sent":
            return f"{about}: delivered"
        if mail.status == "failed":
            return f"{about}: FAILED for good: {mail.last_error}"
        assert self.retry_at is not None
        return (
            f"{about}: attempt {mail.attempts} failed ({self.result.describe()}); "
            f"next try at {self.retry_at.isoformat(timespec='seconds')}"
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


class MailWorker:
    """Delivers due messages of ``queue`` through ``transport``."""

    def __init__(
        self,
        queue: MailQueue,
        transport: MailTransport,
        policy: RetryPolicy | None = None,
        *,
        rng: random.Random | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
        batch: int = 100,
    ) -> None:
        self.queue = queue
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.batch = batch
        self._on_attempt = on_attempt or (lambda attempt: None)
        self._wake: asyncio.Event | None = None

    # ----------------------------------------------------------- one round
    async def run_due(self, now: datetime) -> list[Attempt]:
        """Try every message due at ``now`` once (oldest due first); what happened."""
        attempts: list[Attempt] = []
        seen: set[int] = set()
        while True:
            due = [m for m in self.queue.due(now, self.batch) if m.id not in seen]
            if not due:
                return attempts
            for mail in due:
                seen.add(mail.id)
                attempts.append(await self._attempt(mail, now))

    async def _attempt(self, mail: QueuedMail, now: datetime) -> Attempt:
        try:
            result = await self.transport.send(mail.sender, mail.recipients, mail.raw)
        except Exception as exc:  # a bug must not stop the queue: keep the mail, retry
            log.exception("sending mail %s raised", mail.id)
            result = SendResult(Outcome.OTHER, detail=f"internal error: {exc!r}")
        if result.delivered:
            note = None
            if result.refused:
                note = "refused recipients: " + ", ".join(
                    f"{r} ({c} {t})" for r, (c, t) in result.refused.items()
                )
            updated = self.queue.mark_sent(mail.id, now, note)
        elif not result.retryable:
            updated = self.queue.mark_failed(mail.id, now, result.outcome.value, result.describe())
        else:
            failed_attempts = mail.attempts + 1
            retry_at = now + self.policy.delay(failed_attempts, self.rng)
            limit = self.policy.give_up_after
            if limit is not None and retry_at - mail.created_at > limit:
                reason = f"gave up after {failed_attempts} attempts: {result.describe()}"
                updated = self.queue.mark_failed(mail.id, now, result.outcome.value, reason)
            else:
                updated = self.queue.mark_retry(
                    mail.id, now, retry_at, result.outcome.value, result.describe()
                )
        attempt = Attempt(now, updated, result)
        if updated.status == "failed":
            log.error("%s", attempt.describe())
        elif updated.status == "pending":
            log.warning("%s", attempt.describe())
        else:
            log.info("%s", attempt.describe())
        self._on_attempt(attempt)
        return attempt

    # ----------------------------------------------------------- real time
    def wake(self) -> None:
        """Something was queued: look now instead of at the next due time."""
        if self._wake is not None:
            self._wake.set()

    async def run(
        self,
        stop: asyncio.Event,
        now: Callable[[], datetime] = utc_now,
        *,
        idle: float = 30.0,
    ) -> None:
        """Send due messages until ``stop`` is set; sleeps until the next is due,
        ``wake()`` is called, or ``idle`` seconds pass (another process may queue)."""
        self._wake = asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            await self.run_due(now())
            next_due = self.queue.next_due()
            pause = idle
            if next_due is not None:
                pause = min(idle, max((next_due - now()).total_seconds(), 0.0))
            if pause > 0:
                await _first(stop, self._wake, pause)


async def _first(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until either event is set."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
