"""'Check e-mail forwarding': send one test mail now and say plainly what happened.

Owns the test message and the report ``harness check-mail`` prints. The test
mail goes straight to the server (not through the queue): the technician wants
the server's answer while standing at the PBX, not a retry in ten minutes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from integration.config import SmtpConfig
from integration.mail.client import SmtpTransport, describe_server
from integration.mail.outcome import SendResult

TEST_SUBJECT = "PBX e-mail forwarding test"
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+|[^@\s<>]+@[^@\s<>.]+")


def is_address(text: str) -> bool:
    """A plain ``local@domain`` address (no display name, no spaces)."""
    return _ADDRESS.fullmatch(text) is not None


def build_test_message(config: SmtpConfig, to: str, now: datetime | None = None) -> bytes:
    """The test mail's bytes (CRLF lines): who sent it, through which server, when."""
    now = now or datetime.now(UTC)
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = TEST_SUBJECT
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("check-mail", config.sender.rpartition("@")[2])
    message.set_content(
        "This is a test message from the PBX's e-mail forwarding.\n\n"
        f"Sent through {describe_server(config)}\n"
        f"From: {config.sender}\n"
        f"At: {now.isoformat(timespec='seconds')}\n\n"
        "If you can read this, voicemails will reach this mailbox.\n"
    )
    return message.as_bytes(policy=SMTP)


async def check_mail(config: SmtpConfig, to: str, now: datetime | None = None) -> SendResult:
    """Send the test mail to ``to`` through ``config``'s server; the result, never raises."""
    raw = build_test_message(config, to, now)
    return await SmtpTransport(config).send(config.sender, [to], raw)


def report(config: SmtpConfig, to: str, result: SendResult) -> str:
    """What ``harness check-mail`` prints: the verdict first, then why and what to do."""
    lines = [f"Test mail from {config.sender} to {to} via {describe_server(config)}"]
    if result.delivered:
        lines.append("DELIVERED: the server accepted the test mail.")
    else:
        lines.append(f"NOT DELIVERED: {result.headline}.")
    if result.server_reply:
        lines.append(f"Server reply: {result.server_reply}")
    if result.detail:
        lines.append(f"Details: {result.detail}")
    if result.delivered:
        lines.extend(
            f"Refused recipient {rcpt}: {code} {text}"
            for rcpt, (code, text) in result.refused.items()
        )
    else:
        lines.append(result.advice)
    return "\n".join(lines)
