"""E-mail forwarding as part of the running engine: the queue worker and the voicemail feed.

Owns the real-time wiring from the configuration: open the queue file
(``[smtp] queue_path``), send through ``[smtp]`` with jittered backoff, and, when
the engine talks to a PBX over HTTP (``[pbx] url``), poll its voicemails and
queue a mail for each new one. ``run_mail`` runs until ``stop`` is set; a PBX or
mail server that is away is logged and tried again, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from integration.config import EngineConfig, SmtpConfig
from integration.mail.client import SmtpTransport, describe_server
from integration.mail.queue import MailQueue
from integration.mail.voicemail import VoicemailForwarder
from integration.mail.voicemail_feed import HttpVoicemailFeed, forward_new
from integration.mail.worker import MailWorker, RetryPolicy, utc_now
from integration.pbx import PbxError

log = logging.getLogger(__name__)

VOICEMAIL_POLL_SECONDS = 10.0
KEEP_SENT_MAIL = timedelta(days=7)  # the bytes of sent mail; the keys stay for ever


def open_queue(smtp: SmtpConfig) -> MailQueue:
    """The queue file the configuration names (``MailQueueError`` if unusable)."""
    if smtp.queue_path is None:
        raise ValueError("[smtp] queue_path: not set")
    return MailQueue(smtp.queue_path)


async def run_mail(
    config: EngineConfig,
    stop: asyncio.Event,
    now: Callable[[], datetime] = utc_now,
    *,
    voicemail_poll: float = VOICEMAIL_POLL_SECONDS,
) -> None:
    """Deliver queued mail and forward voicemails until ``stop``; nothing without [smtp]."""
    smtp = config.smtp
    if smtp is None:
        log.info("no [smtp] section: voicemails are not forwarded by e-mail")
        return
    queue = open_queue(smtp)
    worker = MailWorker(queue, SmtpTransport(smtp), RetryPolicy(jitter=0.1), rng=random.Random())
    counts = queue.counts()
    log.info(
        "mail via %s; queue %s: %d pending, %d failed",
        describe_server(smtp),
        queue.path,
        counts["pending"],
        counts["failed"],
    )
    feed = HttpVoicemailFeed(config.pbx.url) if config.pbx is not None else None
    try:
        tasks = [asyncio.create_task(worker.run(stop, now))]
        if feed is not None:
            tasks.append(
                asyncio.create_task(
                    _forward_voicemails(feed, queue, smtp, worker, stop, now, voicemail_poll)
                )
            )
        await asyncio.gather(*tasks)
    finally:
        if feed is not None:
            await feed.aclose()
        queue.close()


async def _forward_voicemails(
    feed: HttpVoicemailFeed,
    queue: MailQueue,
    smtp: SmtpConfig,
    worker: MailWorker,
    stop: asyncio.Event,
    now: Callable[[], datetime],
    every: float,
) -> None:
    forwarder: VoicemailForwarder | None = None
    while not stop.is_set():
        try:
            if forwarder is None:  # the PBX's time zone, once it answers
                forwarder = VoicemailForwarder(queue, smtp.sender, await feed.timezone())
            if await forward_new(feed, forwarder, now()):
                worker.wake()
            queue.purge_sent(now() - KEEP_SENT_MAIL)
        except PbxError as exc:
            log.warning("voicemails not read: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
