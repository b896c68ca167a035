"""Voicemail to e-mail: the mail's wording in English and German, the WAV attached, each
voicemail queued once, and the whole path PBX simulator -> HTTP feed -> queue -> SMTP sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from integration.mail.client import SmtpTransport
from integration.mail.queue import MailQueue
from integration.mail.voicemail import (
    VoicemailEvent,
    VoicemailForwarder,
    build_voicemail_mail,
    format_length,
)
from integration.mail.voicemail_feed import HttpVoicemailFeed, forward_new
from integration.mail.worker import MailWorker
from simulators.pbx import Pbx, User, Voicemail
from simulators.pbx.server import PbxServer
from simulators.pbx.voicemail import message_wav
from tests.integration.mail.conftest import SERVICE, T0, USER1, USER2, MailRig

BERLIN = ZoneInfo("Europe/Berlin")
WAV = message_wav(3.0)


def event(language: str = "en", email: str | None = USER1, **changes: object) -> VoicemailEvent:
    fields: dict[str, object] = {
        "voicemail_id": "1",
        "extension": "100",
        "caller": "+4930555",
        "at": T0,  # 12:00 in Berlin
        "duration_seconds": 3.0,
        "audio": WAV,
        "email": email,
        "language": language,
        "user_name": "User Test",
    }
    fields.update(changes)
    return VoicemailEvent(**fields)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def attachment(mail: EmailMessage) -> tuple[str, str | None, bytes]:
    [part] = list(mail.iter_attachments())
    return part.get_content_type(), part.get_filename(), cast(bytes, part.get_payload(decode=True))


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return cast(str, part.get_content())


def test_english_mail_names_caller_time_length_and_attaches_the_wav() -> None:
    mail = parse(build_voicemail_mail(event(), SERVICE, BERLIN).as_bytes())
    assert mail["Subject"] == "Voicemail from +4930555 (0:03)"
    assert (mail["From"], mail["To"]) == (SERVICE, USER1)
    text = body(mail)
    assert "From: +4930555" in text
    assert "Received: Monday, 5 January 2026, 12:00:00 (Europe/Berlin)" in text
    assert "Length: 0:03" in text and "Extension: 100 (User Test)" in text
    assert attachment(mail) == ("audio/wav", "voicemail-100-20260105-120000.wav", WAV)


def test_german_mail() -> None:
    summer = event("de", USER2, at=T0 + timedelta(days=180), duration_seconds=75.4, caller="")
    mail = parse(build_voicemail_mail(summer, SERVICE, BERLIN).as_bytes())
    assert mail["Subject"] == "Sprachnachricht von Unbekannt (1:15)"
    text = body(mail)
    assert "Empfangen: Samstag, 4. Juli 2026, 13:00:00 Uhr (Europe/Berlin)" in text  # CEST
    assert "Länge: 1:15" in text and "Nebenstelle: 100" in text
    assert "als WAV-Datei angehängt" in text


def test_an_unknown_language_falls_back_to_english_and_no_zone_keeps_the_offset() -> None:
    mail = parse(build_voicemail_mail(event("fr"), SERVICE).as_bytes())
    assert mail["Subject"].startswith("Voicemail from")
    assert "11:00:00 (UTC+0000)" in body(mail)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "0:00"), (3.0, "0:03"), (59.6, "1:00"), (725, "12:05"), (3600, "1:00:00")],
)
def test_lengths_read_like_a_phone_display(seconds: float, text: str) -> None:
    assert format_length(seconds) == text


def test_each_voicemail_is_queued_once_and_users_without_address_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with MailQueue(tmp_path / "q.sqlite3") as queue:
        forwarder = VoicemailForwarder(queue, SERVICE, BERLIN)
        mail = forwarder.forward(event())
        assert mail is not None and mail.kind == "voicemail" and mail.created_at == T0
        assert forwarder.forward(event()) is None
        caplog.set_level(logging.WARNING)
        assert forwarder.forward(event(email=None, voicemail_id="2")) is None
        assert "no e-mail address" in caplog.text
        assert len(queue.messages()) == 1
        # The same id at another time is another voicemail (a PBX that renumbered).
        assert forwarder.forward(event(at=T0 + timedelta(days=1))) is not None


# --------------------------------------------------------- through the PBX


class PbxClock:
    def __init__(self) -> None:
        self.instant = T0

    def now(self) -> datetime:
        return self.instant


@pytest.fixture
def pbx() -> Pbx:
    p = Pbx(PbxClock(), timezone="Europe/Berlin")
    p.add_user(User("100", "User Test", USER1, language="en"))
    p.add_user(User("101", "Grete Müller", USER2, language="de"))
    p.add_user(User("102", "No Mail", None))
    for extension in ("100", "101", "102"):
        p.set_presence(extension, "lunch", T0 + timedelta(hours=1))
    return p


@pytest.fixture
def pbx_url(pbx: Pbx) -> Iterator[str]:
    with PbxServer(pbx) as server:
        yield server.url


def test_pbx_voicemails_reach_the_mailboxes_with_the_recording(
    rig: MailRig, pbx: Pbx, pbx_url: str, tmp_path: Path
) -> None:
    """R14 routes the calls to voicemail; the feed reads them over HTTP; the sink gets mail."""
    for extension in ("100", "101", "102"):
        assert pbx.call(extension, "+4930555", message_seconds=3).routed_to == "voicemail"

    async def flow() -> None:
        feed = HttpVoicemailFeed(pbx_url)
        with MailQueue(tmp_path / "q.sqlite3") as queue:
            forwarder = VoicemailForwarder(queue, SERVICE, await feed.timezone())
            queued = await forward_new(feed, forwarder, T0)
            assert [m.recipients for m in queued] == [(USER1,), (USER2,)]
            assert await forward_new(feed, forwarder, T0) == []  # seen: nothing new
            await MailWorker(queue, SmtpTransport(rig.config())).run_due(T0)
        await feed.aclose()
        # An engine restart: a new feed, the same queue file.
        restarted = HttpVoicemailFeed(pbx_url)
        with MailQueue(tmp_path / "q.sqlite3") as queue:
            forwarder = VoicemailForwarder(queue, SERVICE, await restarted.timezone())
            assert await forward_new(restarted, forwarder, T0) == []
        await restarted.aclose()

    asyncio.run(flow())
    [english] = [parse(raw) for raw in rig.inbox(USER1)]
    assert english["Subject"] == "Voicemail from +4930555 (0:03)"
    assert "Received: Monday, 5 January 2026, 12:00:00 (Europe/Berlin)" in body(english)
    content_type, _name, audio = attachment(english)
    assert content_type == "audio/wav" and audio == pbx.voicemail(1).audio
    [german] = [parse(raw) for raw in rig.inbox(USER2)]
    assert german["Subject"] == "Sprachnachricht von +4930555 (0:03)"
    assert attachment(german)[2] == pbx.voicemail(2).audio


def test_in_process_pbx_events_feed_the_forwarder(pbx: Pbx, tmp_path: Path) -> None:
    """How a scenario on a frozen clock plugs in: ``Pbx.on_voicemail`` -> ``forward``."""
    with MailQueue(tmp_path / "q.sqlite3") as queue:
        forwarder = VoicemailForwarder(queue, SERVICE, pbx.timezone)

        def on_voicemail(message: Voicemail) -> None:
            user = pbx.user(message.extension)
            forwarder.forward(
                VoicemailEvent(
                    voicemail_id=str(message.id),
                    extension=message.extension,
                    caller=message.caller,
                    at=message.at,
                    duration_seconds=message.duration_seconds,
                    audio=message.audio,
                    email=user.email,
                    language=user.language,
                )
            )

        pbx.on_voicemail(on_voicemail)
        pbx.call("101", "+4930555", message_seconds=5)
        [mail] = queue.messages("pending")
        assert mail.subject == "Sprachnachricht von +4930555 (0:05)"
        assert attachment(parse(mail.raw))[2] == pbx.voicemail(1).audio
