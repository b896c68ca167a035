"""E-mail forwarding as part of the running engine: the queue worker and the voicemail feed.

Owns the real-time wiring from the configuration: open the queue file
(``[smtp] queue_path``), send through ``[smtp]`` with jittered backoff, and, when
the engine talks to a PBX over HTTP (``[pbx] url``), poll its voicemails and
queue a mail for each new one. ``run_mail`` runs until ``stop`` is set; a PBX or
mail server that is away is logged and tried again, never fatal, and so is a queue
file that is damaged or unusable (moved aside, or opened again later). What was
mailed is also kept in the voicemail position file beside the queue
(``integration.mail.voicemail_position``), so a lost queue never mails it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from integration.config import EngineConfig, SmtpConfig
from integration.mail.client import SmtpTransport, describe_server
from integration.mail.queue import MailQueue, MailQueueError
from integration.mail.recovery import is_damage, move_aside, open_recovering
from integration.mail.voicemail import VOICEMAIL_KIND, VoicemailForwarder
from integration.mail.voicemail_feed import HttpVoicemailFeed, forward_new
from integration.mail.voicemail_position import VoicemailPosition, position_path
from integration.mail.worker import Attempt, MailWorker, RetryPolicy, utc_now
from integration.pbx import PbxError

log = logging.getLogger(__name__)

VOICEMAIL_POLL_SECONDS = 10.0
KEEP_SENT_MAIL = timedelta(days=7)  # the bytes of sent mail; the keys stay for ever


RECOVERY_SECONDS = 30.0  # how soon the mail side starts again after its queue failed


def open_queue(smtp: SmtpConfig) -> MailQueue:
    """The queue file the configuration names (``MailQueueError`` if unusable); a damaged
    file is moved aside and a fresh queue started (``integration.mail.recovery``)."""
    if smtp.queue_path is None:
        raise ValueError("[smtp] queue_path: not set")
    return open_recovering(smtp.queue_path)


async def run_mail(
    config: EngineConfig,
    stop: asyncio.Event,
    now: Callable[[], datetime] = utc_now,
    *,
    voicemail_poll: float = VOICEMAIL_POLL_SECONDS,
    recovery: float = RECOVERY_SECONDS,
) -> None:
    """Deliver queued mail and forward voicemails until ``stop``; nothing without [smtp].

    Never raises for queue trouble: the calendar side runs beside this in one
    ``gather``, and the mail side must never stop it. A queue that fails (damaged
    while running, locked, on a full disk) is logged as an ERROR and opened again
    after ``recovery`` seconds; a damaged file is moved aside first.
    """
    smtp = config.smtp
    if smtp is None:
        log.info("no [smtp] section: voicemails are not forwarded by e-mail")
        return
    while not stop.is_set():
        try:
            await _run_mail(config, smtp, stop, now, voicemail_poll)
            return
        except (MailQueueError, sqlite3.Error, OSError) as exc:
            path = smtp.queue_path
            if path is not None and is_damage(exc) and path.exists():
                with contextlib.suppress(MailQueueError):
                    log.error(
                        "mail queue %s: damaged (%s); moved aside to %s",
                        path,
                        exc,
                        move_aside(path, now()),
                    )
            log.error(
                "mail side stopped: %s; calendar polling goes on; mail starts again in %gs",
                exc,
                recovery,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=recovery)


async def _run_mail(
    config: EngineConfig,
    smtp: SmtpConfig,
    stop: asyncio.Event,
    now: Callable[[], datetime],
    voicemail_poll: float,
) -> None:
    queue = open_queue(smtp)
    assert smtp.queue_path is not None
    try:
        position = VoicemailPosition(position_path(smtp.queue_path))
        # A queue from before the position file existed knows what was mailed.
        position.record(queue.finished_keys(VOICEMAIL_KIND))
    except BaseException:
        queue.close()
        raise

    def finished(attempt: Attempt) -> None:
        mail = attempt.mail
        if mail.kind == VOICEMAIL_KIND and mail.key and mail.status != "pending":
            position.record([mail.key])

    worker = MailWorker(
        queue,
        SmtpTransport(smtp),
        RetryPolicy(jitter=0.1),
        rng=random.Random(),
        on_attempt=finished,
    )
    counts = queue.counts()
    log.info(
        "mail via %s; queue %s: %d pending, %d failed",
        describe_server(smtp),
        queue.path,
        counts["pending"],
        counts["failed"],
    )
    feed = HttpVoicemailFeed(config.pbx.url) if config.pbx is not None else None
    tasks = [asyncio.create_task(worker.run(stop, now))]
    if feed is not None:
        forwarder = _Forwarding(feed, queue, smtp, worker, position)
        tasks.append(asyncio.create_task(forwarder.run(stop, now, voicemail_poll)))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # re-raises the first failure
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if feed is not None:
            await feed.aclose()
        queue.close()


class _Forwarding:
    """The voicemail poll loop: PBX trouble is logged and retried; queue trouble raises."""

    def __init__(
        self,
        feed: HttpVoicemailFeed,
        queue: MailQueue,
        smtp: SmtpConfig,
        worker: MailWorker,
        position: VoicemailPosition,
    ) -> None:
        self.feed = feed
        self.queue = queue
        self.smtp = smtp
        self.worker = worker
        self.position = position

    async def run(self, stop: asyncio.Event, now: Callable[[], datetime], every: float) -> None:
        forwarder: VoicemailForwarder | None = None
        while not stop.is_set():
            try:
                if forwarder is None:  # the PBX's time zone, once it answers
                    zone = await self.feed.timezone()
                    forwarder = VoicemailForwarder(
                        self.queue, self.smtp.sender, zone, mailed=self.position
                    )
                if await forward_new(self.feed, forwarder, now()):
                    self.worker.wake()
                if self.feed.listed is not None:
                    self.position.record(listed=self.feed.listed)
                self.queue.purge_sent(now() - KEEP_SENT_MAIL)
            except PbxError as exc:
                log.warning("voicemails not read: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
