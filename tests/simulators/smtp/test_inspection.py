"""Inspecting delivered mail in-process, and waiting for it on the scenario clock."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage

import pytest
from freezegun import freeze_time

from simulators.clock import Clock
from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, MailNotFound, SmtpSink, matching
from tests.simulators.smtp.conftest import USER1, USER2, SinkFactory, message_bytes

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n" + bytes(range(255, -1, -1)) + b"\n%%EOF\n"


def voicemail() -> EmailMessage:
    """A voicemail notification as a PBX sends one: text, HTML, a WAV and a PDF."""
    msg = EmailMessage()
    msg["Subject"] = "Neue Sprachnachricht von Jürgen Müller"
    msg["From"] = "PBX <pbx@example.org>"
    msg["To"] = f"User One <{USER1}>"
    msg["Message-ID"] = "<vm-1@pbx.example.org>"
    msg.set_content("Sie haben eine neue Nachricht (0:42).\n")
    msg.add_alternative("<p>Sie haben eine <b>neue</b> Nachricht.</p>\n", subtype="html")
    msg.add_attachment(WAV, maintype="audio", subtype="wav", filename="voicemail.wav")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Übersicht.pdf")
    return msg


def send(sink: SmtpSink, data: bytes, recipients: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", sink.port("plain"), timeout=10) as client:
        client.sendmail("pbx@example.org", recipients or [USER1], data)


@pytest.fixture
def sink(make_sink: SinkFactory) -> SmtpSink:
    return make_sink(ListenerSpec("plain", "plain"))


def test_a_parsed_message_shows_headers_text_and_attachments(sink: SmtpSink) -> None:
    data = voicemail().as_bytes(policy=voicemail().policy.clone(linesep="\r\n"))
    send(sink, data)
    (summary,) = sink.inspector.messages(USER1)
    detail = sink.inspector.message(summary.id)

    assert detail.summary.raw == data
    assert detail.header("subject") == "Neue Sprachnachricht von Jürgen Müller"
    assert detail.header("FROM") == "PBX <pbx@example.org>"
    assert detail.header("X-Missing") is None
    assert [name for name, _ in detail.headers][:4] == ["Subject", "From", "To", "Message-ID"]
    assert detail.text == "Sie haben eine neue Nachricht (0:42).\n"
    assert [p.content_type for p in detail.text_parts] == ["text/plain", "text/html"]
    assert [(a.index, a.filename, a.content_type, a.size) for a in detail.attachments] == [
        (0, "voicemail.wav", "audio/wav", len(WAV)),
        (1, "Übersicht.pdf", "application/pdf", len(PDF)),
    ]
    assert sink.inspector.attachment(summary.id, 0).data == WAV
    assert sink.inspector.attachment(summary.id, 1).data == PDF
    assert [p.attachment for p in detail.parts] == [None, None, 0, 1]
    assert detail.defects == ()


def test_malformed_mail_is_shown_with_its_defects_not_an_error(sink: SmtpSink) -> None:
    data = (
        b"Subject: =?bogus-charset?q?caf=E9?=\r\n"
        b"Content-Type: multipart/mixed\r\n"  # no boundary
        b"X-Broken: \xff\xfe\r\n"
        b"\r\n"
        b"--nothing here\r\n"
    )
    send(sink, data)
    (summary,) = sink.inspector.messages(USER1)
    detail = sink.inspector.message(summary.id)
    assert summary.raw == data
    assert detail.defects  # the parser's complaints are listed
    assert detail.header("x-broken") is not None
    assert [p.text for p in detail.text_parts] == ["--nothing here\n"]
    with pytest.raises(MailNotFound, match="no attachment 0"):
        sink.inspector.attachment(summary.id, 0)


def test_lists_filter_by_mailbox_and_unknown_names_are_clear(
    sink: SmtpSink, store: ExchangeStore
) -> None:
    send(sink, message_bytes("one"), [USER1])
    send(sink, message_bytes("two"), [USER2, USER1])
    assert [s.subject for s in sink.inspector.messages(USER1)] == ["one", "two"]
    assert [s.subject for s in sink.inspector.messages(USER2.upper())] == ["two"]
    assert len(sink.inspector.messages()) == 3
    with pytest.raises(MailNotFound, match="no mailbox nobody@domain.net"):
        sink.inspector.messages("nobody@domain.net")
    with pytest.raises(MailNotFound, match="no message"):
        sink.inspector.message("AAMkdoesnotexist")
    calendar_id = store.distinguished_folder("calendar", USER1).id
    with pytest.raises(MailNotFound):
        sink.inspector.message(calendar_id)


def test_mail_delivered_by_other_means_is_listed_without_an_envelope(
    sink: SmtpSink, store: ExchangeStore
) -> None:
    store.deliver_message(USER2, subject="seeded", sender="x@y.z", recipients=[USER2], mime=b"")
    (summary,) = sink.inspector.messages(USER2)
    assert (summary.subject, summary.transaction, summary.folder) == ("seeded", None, "inbox")


# -------------------------------------------------------------- waiting
def test_wait_is_checked_at_each_instant_of_the_frozen_clock(sink: SmtpSink) -> None:
    with freeze_time("2026-01-05 12:00:00", real_asyncio=True) as frozen:
        wait = sink.inspector.wait_for_message(
            matching(mailbox=USER1, subject_contains="Sprachnachricht"), timedelta(minutes=2)
        )
        assert (wait.check(), wait.state) == (None, "pending")
        send(sink, message_bytes("Unrelated"))
        frozen.tick(60)
        assert wait.check() is None
        send(sink, message_bytes("Neue Sprachnachricht"))
        frozen.tick(60)  # exactly at the deadline: still in time
        found = wait.check()
        assert found is not None and found.subject == "Neue Sprachnachricht"
        assert (wait.state, wait.expired) == ("matched", False)


def test_wait_times_out_on_the_clock_without_sleeping(sink: SmtpSink) -> None:
    send(sink, message_bytes("Old news"))
    with freeze_time("2026-01-05 12:00:00", real_asyncio=True) as frozen:
        wait = sink.inspector.wait_for_message(
            matching(subject="Old news"), timedelta(seconds=30), ignore_existing=True
        )
        frozen.tick(31)
        assert (wait.check(), wait.expired, wait.state) == (None, True, "timed_out")


def test_wait_runs_on_the_clock_it_is_given(sink: SmtpSink) -> None:
    exchange_clock = Clock(skew=timedelta(seconds=-40))
    with freeze_time("2026-01-05 12:00:00", real_asyncio=True):
        wait = sink.inspector.wait_for_message(
            matching(sender="PBX@example.org"), timedelta(seconds=10), exchange_clock.now
        )
        assert wait.deadline.isoformat() == "2026-01-05T11:59:30+00:00"
        send(sink, message_bytes())
        assert wait.check() is not None  # sender compared case-insensitively


def test_poll_for_message_waits_in_real_time(sink: SmtpSink) -> None:
    later = threading.Timer(0.1, send, (sink, message_bytes("late"), [USER2]))
    later.start()
    found = sink.inspector.poll_for_message(matching(recipient=USER2), timeout=10)
    assert found.subject == "late"
    with pytest.raises(TimeoutError):
        sink.inspector.poll_for_message(matching(subject="never"), timeout=0.1)
    later.join()
