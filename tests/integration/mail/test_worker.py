"""The queue worker on an injected clock against the real SMTP sink: delivery, retry with
capped backoff while the server is away, permanent failure on 5xx, restart durability."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from integration.config import SmtpConfig
from integration.mail.client import SmtpTransport
from integration.mail.outcome import Outcome
from integration.mail.queue import MailQueue
from integration.mail.worker import Attempt, MailWorker, RetryPolicy
from tests.integration.mail.conftest import SERVICE, T0, USER1, MailRig, closed_port

SECOND = timedelta(seconds=1)


def raw_mail(subject: str, to: str = USER1) -> bytes:
    return (
        f"From: {SERVICE}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@w03ex07.net>\r\n\r\nbody of {subject}\r\n"
    ).encode()


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[MailQueue]:
    with MailQueue(tmp_path / "mail-queue.sqlite3") as q:
        yield q


def test_due_mail_is_delivered_byte_for_byte(rig: MailRig, queue: MailQueue) -> None:
    queue.enqueue(SERVICE, [USER1], raw_mail("first"), now=T0, subject="first")
    later = queue.enqueue(SERVICE, [USER1], raw_mail("later"), now=T0 + 60 * SECOND)
    worker = MailWorker(queue, SmtpTransport(rig.config()))
    [attempt] = asyncio.run(worker.run_due(T0))
    assert attempt.mail.status == "sent" and attempt.result.code == 250
    assert rig.inbox(USER1) == [raw_mail("first")]
    assert queue.get(later.id).status == "pending"  # not due yet
    assert "delivered" in attempt.describe()


def test_retry_while_the_server_is_down_then_delivered_after_restart(
    rig: MailRig, queue: MailQueue
) -> None:
    worker = MailWorker(queue, SmtpTransport(rig.config("smtps")))
    rig.stop()
    mail = queue.enqueue(SERVICE, [USER1], raw_mail("during outage"), now=T0)
    [attempt] = asyncio.run(worker.run_due(T0))
    assert attempt.result.outcome is Outcome.CONNECTION_REFUSED
    assert attempt.retry_at == T0 + 30 * SECOND
    stored = queue.get(mail.id)
    assert (stored.status, stored.attempts, stored.last_outcome) == (
        "pending",
        1,
        "connection_refused",
    )
    assert "connection refused" in (stored.last_error or "")
    assert asyncio.run(worker.run_due(T0 + 29 * SECOND)) == []  # backing off
    rig.restart()
    [again] = asyncio.run(worker.run_due(T0 + 30 * SECOND))
    assert again.mail.status == "sent" and again.mail.attempts == 2
    assert rig.inbox(USER1) == [raw_mail("during outage")]


def test_a_5xx_reply_fails_for_good_reported_and_queryable(
    rig: MailRig, queue: MailQueue, caplog: pytest.LogCaptureFixture
) -> None:
    worker = MailWorker(queue, SmtpTransport(rig.config()))
    mail = queue.enqueue(SERVICE, ["someone@example.com"], raw_mail("relay"), now=T0)
    caplog.set_level(logging.ERROR, logger="integration.mail.worker")
    [attempt] = asyncio.run(worker.run_due(T0))
    assert attempt.mail.status == "failed" and attempt.retry_at is None
    [failed] = queue.messages("failed")
    assert failed.id == mail.id and failed.last_outcome == "relay_denied"
    assert "550 5.7.1 Unable to relay" in (failed.last_error or "")
    assert "FAILED for good" in caplog.text and "someone@example.com" in caplog.text
    assert asyncio.run(worker.run_due(T0 + timedelta(hours=1))) == []  # never again


def test_queued_mail_survives_a_restart_of_the_engine(rig: MailRig, tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    first = MailQueue(path)
    first.enqueue(SERVICE, [USER1], raw_mail("before crash"), now=T0, key="vm:1")
    first.close()  # the engine stops before its worker ran
    with MailQueue(path) as reopened:
        worker = MailWorker(reopened, SmtpTransport(rig.config()))
        [attempt] = asyncio.run(worker.run_due(T0 + SECOND))
        assert attempt.mail.status == "sent"
    assert rig.inbox(USER1) == [raw_mail("before crash")]


@pytest.fixture
def busy_server() -> Iterator[int]:
    """An SMTP server that greets every connection with 421 (try again later)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"421 4.3.2 Service not available, closing transmission channel\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_a_4xx_reply_is_retried_with_backoff(
    rig: MailRig, queue: MailQueue, busy_server: int
) -> None:
    worker = MailWorker(queue, SmtpTransport(rig.config("plain", port=busy_server)))
    queue.enqueue(SERVICE, [USER1], raw_mail("busy"), now=T0)
    [first] = asyncio.run(worker.run_due(T0))
    assert first.result.outcome is Outcome.TEMPORARY and first.result.code == 421
    assert first.retry_at == T0 + 30 * SECOND
    [second] = asyncio.run(worker.run_due(T0 + 30 * SECOND))
    assert second.retry_at == T0 + 90 * SECOND  # 60 s after the second failure
    assert "421 4.3.2" in (second.mail.last_error or "")


def test_backoff_doubles_from_30s_and_caps_at_10_minutes() -> None:
    policy = RetryPolicy()
    delays = [policy.delay(n).total_seconds() for n in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 600, 600, 600]
    jittery = RetryPolicy(jitter=0.1)
    rng = random.Random(7)
    samples = [jittery.delay(3, rng).total_seconds() for _ in range(200)]
    assert all(108 <= s <= 132 for s in samples) and len(set(samples)) > 100


def test_gives_up_after_the_limit(queue: MailQueue) -> None:
    refusing = SmtpConfig(server="127.0.0.1", port=closed_port(), security="none", sender=SERVICE)
    transport = SmtpTransport(refusing)
    worker = MailWorker(queue, transport, RetryPolicy(give_up_after=timedelta(minutes=5)))
    queue.enqueue(SERVICE, [USER1], raw_mail("old"), now=T0)

    async def drive() -> list[Attempt]:
        done: list[Attempt] = []
        now = T0
        while now < T0 + timedelta(minutes=20):
            done += await worker.run_due(now)
            now += 10 * SECOND
        return done

    attempts = asyncio.run(drive())
    assert attempts[-1].mail.status == "failed"
    assert "gave up after" in (attempts[-1].mail.last_error or "")
    assert attempts[-1].at - T0 <= timedelta(minutes=5)


def test_an_hour_long_outage_loses_nothing_and_backoff_caps(rig: MailRig, queue: MailQueue) -> None:
    """The server is away from T0 to T0+60m while a voicemail arrives every 5 minutes;
    the clock moves in 10 s steps, the worker runs at each."""
    attempts: list[Attempt] = []
    worker = MailWorker(queue, SmtpTransport(rig.config()), on_attempt=attempts.append)
    rig.stop()
    step, back = 10 * SECOND, T0 + timedelta(hours=1)
    subjects = [f"vm {n}" for n in range(12)]

    async def drive() -> None:
        now = T0
        while now <= back + timedelta(minutes=15):
            minutes, seconds = divmod(int((now - T0).total_seconds()), 60)
            if now < back and seconds == 0 and minutes % 5 == 0:
                subject = subjects[minutes // 5]
                queue.enqueue(SERVICE, [USER1], raw_mail(subject), now=now, subject=subject)
            if now == back:
                rig.restart()
            await worker.run_due(now)
            now += step

    asyncio.run(drive())
    assert queue.counts() == {"pending": 0, "sent": 12, "failed": 0}
    assert sorted(rig.inbox(USER1)) == sorted(raw_mail(s) for s in subjects)
    by_mail: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_mail[attempt.mail.id].append(attempt)
    first = by_mail[min(by_mail)]
    waits = [(a.retry_at - a.at).total_seconds() for a in first if a.retry_at is not None]
    assert waits[:6] == [30, 60, 120, 240, 480, 600] and set(waits[5:]) == {600}
    for tries in by_mail.values():
        times: list[datetime] = [a.at for a in tries]
        assert all(b - a <= timedelta(minutes=10) for a, b in zip(times, times[1:], strict=False))
        assert tries[-1].mail.status == "sent"
        assert tries[-1].at - back <= timedelta(minutes=10)  # the cap bounds the delay
