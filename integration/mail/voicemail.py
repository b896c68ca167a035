"""Voicemail to e-mail: the mail a user gets for a message left on the PBX, queued once.

Owns what such a mail says, in the user's voicemail language (English, German):
the subject (``Voicemail from +4930555 (0:03)``), a body with the caller, the
time in the PBX's time zone and the length, and the recording attached as
``audio/wav``. ``VoicemailForwarder`` builds it and puts it in the durable
queue under a key made from the voicemail, so the same voicemail reported twice
(a feed re-read after a restart) is mailed once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from integration.mail.queue import MailQueue, QueuedMail

log = logging.getLogger(__name__)

VOICEMAIL_KIND = "voicemail"


@dataclass(frozen=True)
class VoicemailEvent:
    """A voicemail the PBX recorded, joined to its user's e-mail address and language."""

    voicemail_id: str
    extension: str
    caller: str
    at: datetime  # timezone-aware
    duration_seconds: float
    audio: bytes = field(repr=False)
    email: str | None
    language: str = "en"
    user_name: str = ""

    @property
    def key(self) -> str:
        return voicemail_key(self.extension, self.voicemail_id, self.at)


def voicemail_key(extension: str, voicemail_id: str, at: datetime) -> str:
    """The queue key of one voicemail. The time is part of it: a PBX that restarts
    numbering its messages from 1 must not make a new voicemail look like an old one."""
    return f"voicemail:{extension}:{voicemail_id}:{at.isoformat()}"


@dataclass(frozen=True)
class _Wording:
    subject: str
    unknown_caller: str
    intro: str
    caller: str
    received: str
    duration: str
    extension: str
    attached: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    date_format: str  # str.format with weekday, day, month, year, time


WORDINGS: dict[str, _Wording] = {
    "en": _Wording(
        subject="Voicemail from {caller} ({duration})",
        unknown_caller="unknown",
        intro="You have a new voicemail.",
        caller="From",
        received="Received",
        duration="Length",
        extension="Extension",
        attached="The message is attached as a WAV file.",
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),  # fmt: skip
        date_format="{weekday}, {day} {month} {year}, {time}",
    ),
    "de": _Wording(
        subject="Sprachnachricht von {caller} ({duration})",
        unknown_caller="Unbekannt",
        intro="Sie haben eine neue Sprachnachricht.",
        caller="Von",
        received="Empfangen",
        duration="Länge",
        extension="Nebenstelle",
        attached="Die Nachricht ist als WAV-Datei angehängt.",
        weekdays=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        months=(
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ),  # fmt: skip
        date_format="{weekday}, {day}. {month} {year}, {time} Uhr",
    ),
}


def wording(language: str) -> _Wording:
    """The user's language, English when the PBX's language has no wording here."""
    return WORDINGS.get(language, WORDINGS["en"])


def format_length(seconds: float) -> str:
    """``0:03``, ``12:05``, ``1:00:00``: the length as a phone display shows it."""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _local(at: datetime, zone: tzinfo | None) -> datetime:
    return at.astimezone(zone) if zone is not None else at


def _zone_name(local: datetime, zone: tzinfo | None) -> str:
    name = str(zone) if zone is not None else ""
    return name or local.strftime("UTC%z")


def format_received(at: datetime, zone: tzinfo | None, words: _Wording) -> str:
    """The time in the PBX's zone, spelled out, with the zone named."""
    local = _local(at, zone)
    text = words.date_format.format(
        weekday=words.weekdays[local.weekday()],
        day=local.day,
        month=words.months[local.month - 1],
        year=local.year,
        time=local.strftime("%H:%M:%S"),
    )
    return f"{text} ({_zone_name(local, zone)})"


def attachment_name(event: VoicemailEvent, zone: tzinfo | None) -> str:
    local = _local(event.at, zone)
    return f"voicemail-{event.extension}-{local.strftime('%Y%m%d-%H%M%S')}.wav"


def build_voicemail_mail(
    event: VoicemailEvent, sender: str, zone: tzinfo | None = None
) -> EmailMessage:
    """The mail for ``event`` (which must have an e-mail address), ``zone`` being the
    PBX's time zone (None: the event time's own offset)."""
    if not event.email:
        raise ValueError(f"extension {event.extension} has no e-mail address")
    words = wording(event.language)
    caller = event.caller.strip() or words.unknown_caller
    length = format_length(event.duration_seconds)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = event.email
    message["Subject"] = words.subject.format(caller=caller, duration=length)
    message["Date"] = format_datetime(_local(event.at, zone))
    # Stable, so a message sent twice (at-least-once delivery) is recognisably one.
    digest = hashlib.sha256(event.key.encode()).hexdigest()[:24]
    message["Message-ID"] = f"<voicemail.{digest}@{sender.rpartition('@')[2]}>"
    message["X-PBX-Extension"] = event.extension
    body = [
        words.intro,
        "",
        f"{words.caller}: {caller}",
        f"{words.received}: {format_received(event.at, zone, words)}",
        f"{words.duration}: {length}",
        f"{words.extension}: {event.extension}"
        + (f" ({event.user_name})" if event.user_name else ""),
        "",
        words.attached,
    ]
    message.set_content("\n".join(body) + "\n")
    message.add_attachment(
        event.audio, maintype="audio", subtype="wav", filename=attachment_name(event, zone)
    )
    return message


class VoicemailForwarder:
    """Queues the mail for each voicemail event; users without an address are skipped."""

    def __init__(
        self,
        queue: MailQueue,
        sender: str,
        zone: tzinfo | None = None,
        *,
        on_queued: Callable[[QueuedMail], None] | None = None,
        mailed: Container[str] = frozenset(),
    ) -> None:
        self.queue = queue
        self.sender = sender
        self.zone = zone
        self._on_queued = on_queued or (lambda mail: None)
        # Keys mailed before, known apart from the queue (``VoicemailPosition``): a
        # queue file that was emptied or replaced must not mail them again.
        self.mailed = mailed

    def already_forwarded(self, key: str) -> bool:
        return key in self.mailed or self.queue.contains(key)

    def forward(self, event: VoicemailEvent, now: datetime | None = None) -> QueuedMail | None:
        """Queue the mail for ``event`` (committed on return), due at ``now`` (default:
        the voicemail's time); None when the user has no e-mail address or the
        voicemail was queued before."""
        if not event.email:
            log.warning(
                "voicemail %s for extension %s not mailed: the user has no e-mail address",
                event.voicemail_id,
                event.extension,
            )
            return None
        if self.already_forwarded(event.key):
            return None
        message = build_voicemail_mail(event, self.sender, self.zone)
        mail = self.queue.enqueue(
            self.sender,
            [event.email],
            message.as_bytes(policy=SMTP),
            now=now or event.at,
            subject=str(message["Subject"]),
            kind=VOICEMAIL_KIND,
            key=event.key,
        )
        log.info("voicemail %s for %s queued as mail %s", event.voicemail_id, event.email, mail.id)
        self._on_queued(mail)
        return mail
