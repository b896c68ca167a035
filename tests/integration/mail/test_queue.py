"""The SQLite mail queue: states, idempotent keys, and nothing lost across a crash."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from integration.mail.queue import MailQueue, MailQueueError
from tests.integration.mail.conftest import SERVICE, T0, USER1

RAW = b"Subject: x\r\n\r\nbinary \x00\xff\xfe and a line\r\n.leading dot\r\n"


@pytest.fixture
def queue(tmp_path: Path) -> MailQueue:
    return MailQueue(tmp_path / "state" / "mail-queue.sqlite3")


def test_a_queued_message_is_due_from_its_time_with_bytes_intact(queue: MailQueue) -> None:
    mail = queue.enqueue(SERVICE, [USER1], RAW, now=T0, subject="x", kind="test")
    assert (mail.status, mail.attempts, mail.recipients) == ("pending", 0, (USER1,))
    assert queue.due(T0 - timedelta(seconds=1)) == []
    [due] = queue.due(T0)
    assert due.raw == RAW and due.id == mail.id and due.created_at == T0
    assert queue.next_due() == T0
    assert queue.path.parent.name == "state"  # the folder was made


def test_the_same_key_queues_once(queue: MailQueue) -> None:
    first = queue.enqueue(SERVICE, [USER1], RAW, now=T0, key="voicemail:100:1")
    again = queue.enqueue(SERVICE, [USER1], b"other", now=T0 + timedelta(1), key="voicemail:100:1")
    assert again.id == first.id and again.raw == RAW
    assert queue.contains("voicemail:100:1") and not queue.contains("voicemail:100:2")
    assert len(queue.messages()) == 1


def test_state_changes_and_what_they_keep(queue: MailQueue) -> None:
    a = queue.enqueue(SERVICE, [USER1], RAW, now=T0, subject="a")
    b = queue.enqueue(SERVICE, [USER1], RAW, now=T0, subject="b")
    c = queue.enqueue(SERVICE, [USER1], RAW, now=T0, subject="c")
    later = T0 + timedelta(seconds=30)
    retry = queue.mark_retry(a.id, T0, later, "connection_refused", "connection refused")
    assert (retry.status, retry.attempts, retry.next_attempt_at) == ("pending", 1, later)
    assert retry.last_error == "connection refused" and retry.last_attempt_at == T0
    sent = queue.mark_sent(b.id, T0)
    assert (sent.status, sent.finished_at, sent.last_outcome) == ("sent", T0, "delivered")
    failed = queue.mark_failed(c.id, T0, "relay_denied", "relay denied; 550 5.7.1")
    assert (failed.status, failed.last_outcome) == ("failed", "relay_denied")
    assert [m.subject for m in queue.due(later)] == ["a"]
    assert queue.counts() == {"pending": 1, "sent": 1, "failed": 1}
    assert [m.subject for m in queue.messages("failed")] == ["c"]
    with pytest.raises(MailQueueError, match="not pending"):
        queue.mark_sent(c.id, later)  # a failed message stays failed


def test_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    with MailQueue(path) as queue:
        queue.enqueue(SERVICE, [USER1], RAW, now=T0, key="k")
    with MailQueue(path) as reopened:
        [mail] = reopened.due(T0)
        assert mail.raw == RAW and mail.key == "k"


def test_survives_a_crash_right_after_enqueue(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    script = (
        "import os\n"
        "from datetime import datetime, UTC\n"
        "from integration.mail.queue import MailQueue\n"
        f"q = MailQueue({str(path)!r})\n"
        f"q.enqueue('a@b.c', ['d@e.f'], {RAW!r}, now=datetime(2026, 1, 5, tzinfo=UTC))\n"
        "os._exit(9)  # no close, no clean-up\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 9, done.stderr
    with MailQueue(path) as queue:
        [mail] = queue.messages("pending")
        assert mail.raw == RAW and mail.recipients == ("d@e.f",)


def test_purge_keeps_keys_but_drops_old_bytes(queue: MailQueue) -> None:
    old = queue.enqueue(SERVICE, [USER1], RAW, now=T0, key="old")
    queue.mark_sent(old.id, T0)
    new = queue.enqueue(SERVICE, [USER1], RAW, now=T0, key="new")
    queue.mark_sent(new.id, T0 + timedelta(days=10))
    assert queue.purge_sent(T0 + timedelta(days=3)) == 1
    assert queue.get(old.id).raw == b"" and queue.get(new.id).raw == RAW
    assert queue.contains("old")


def test_a_file_that_is_not_a_queue_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, but long enough to look like a header" * 10)
    with pytest.raises(MailQueueError, match="notes.txt"):
        MailQueue(path)


def test_a_queue_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(MailQueueError, match="newer version"):
        MailQueue(path)


def test_times_need_a_zone_and_messages_a_recipient(queue: MailQueue) -> None:
    with pytest.raises(ValueError, match="timezone"):
        queue.enqueue(SERVICE, [USER1], RAW, now=datetime(2026, 1, 5))
    with pytest.raises(ValueError, match="recipient"):
        queue.enqueue(SERVICE, [], RAW, now=T0)
