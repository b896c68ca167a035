"""A damaged queue file is moved aside and a fresh queue starts; other trouble is left alone."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.mail.queue import MailQueue, MailQueueError
from integration.mail.recovery import is_damage, open_recovering

NOW = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def _fill(path: Path) -> None:
    with MailQueue(path) as queue:
        queue.enqueue("a@x.net", ["b@x.net"], b"Subject: one\r\n\r\nx\r\n", now=NOW, key="k1")


def test_a_file_that_is_not_a_database_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mail-queue.sqlite3"
    path.write_bytes(b"this is not SQLite at all\n" * 100)
    with caplog.at_level(logging.ERROR), open_recovering(path, lambda: NOW) as queue:
        assert queue.counts() == {"pending": 0, "sent": 0, "failed": 0}
    aside = tmp_path / "mail-queue.sqlite3.corrupt-20260105T110000Z"
    assert aside.read_bytes().startswith(b"this is not SQLite")
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in record.getMessage() and str(aside) in record.getMessage()
    assert "fresh queue" in record.getMessage()


def test_a_malformed_database_body_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    _fill(path)
    data = bytearray(path.read_bytes())
    # Keep the 100-byte header valid, wreck the pages behind it.
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))
    with open_recovering(path, lambda: NOW) as queue:
        queue.enqueue("a@x.net", ["b@x.net"], b"x", now=NOW)
        assert queue.counts()["pending"] == 1
    assert (tmp_path / "q.sqlite3.corrupt-20260105T110000Z").exists()


def test_a_folder_where_the_file_should_be_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    path.mkdir()
    (path / "inside").write_text("kept")
    with open_recovering(path, lambda: NOW) as queue:
        assert queue.counts()["pending"] == 0
    assert (tmp_path / "q.sqlite3.corrupt-20260105T110000Z" / "inside").read_text() == "kept"


def test_a_good_queue_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    _fill(path)
    with open_recovering(path, lambda: NOW) as queue:
        assert queue.contains("k1")
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_a_queue_from_a_newer_version_is_never_moved(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    _fill(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(MailQueueError, match="newer version"):
        open_recovering(path, lambda: NOW)
    assert path.exists() and list(tmp_path.glob("*.corrupt-*")) == []


def test_a_second_damage_in_the_same_second_gets_its_own_name(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    for _ in range(2):
        path.write_bytes(b"garbage" * 50)
        open_recovering(path, lambda: NOW).close()
        path.unlink()
    names = sorted(p.name for p in tmp_path.glob("*.corrupt-*"))
    assert names == ["q.sqlite3.corrupt-20260105T110000Z", "q.sqlite3.corrupt-20260105T110000Z-2"]


def test_what_counts_as_damage() -> None:
    def error(message: str) -> sqlite3.DatabaseError:
        try:
            sqlite3.connect(":memory:").execute(message)
        except sqlite3.DatabaseError as exc:
            return exc
        raise AssertionError("no error")

    assert not is_damage(error("SELECT * FROM nowhere"))  # a bug, not a damaged file
    assert not is_damage(MailQueueError("database is locked"))
    assert is_damage(sqlite3.DatabaseError("file is not a database"))
