"""Handing one message to the configured mail server (stdlib ``smtplib``, in a thread).

Owns the SMTP conversation the PBX's mail settings describe: connect (plain or
implicit TLS), EHLO, STARTTLS when asked, log in when a user name is set, then
MAIL, RCPT and DATA with the message's bytes exactly as built. Every attempt
ends in a ``SendResult`` (``integration.mail.outcome``), never an exception, and
says at which stage it stopped. TLS trusts only ``[smtp] ca_file`` (or the
system's CAs); ``verify_tls = false`` accepts any certificate.

``MailTransport`` is what the queue worker needs; ``SmtpTransport`` is the real
one.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from integration.config import SmtpConfig
from integration.mail.outcome import Outcome, SendResult, classify, from_reply

SECURITY_NAMES = {"none": "no encryption", "starttls": "STARTTLS", "ssl": "SSL/TLS"}


@runtime_checkable
class MailTransport(Protocol):
    """Something that hands a message to a mail server and says what happened."""

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> SendResult: ...


def client_ssl_context(config: SmtpConfig) -> ssl.SSLContext:
    """The TLS settings ``config`` asks for: its CA file, the system's, or none at all."""
    if not config.verify_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if config.ca_file is not None:
        return ssl.create_default_context(cafile=str(config.ca_file))
    return ssl.create_default_context()


def describe_server(config: SmtpConfig) -> str:
    """``mx.example.net:587 (STARTTLS, log-in as OSOMX)`` for messages."""
    login = f"log-in as {config.username}" if config.username else "no log-in"
    return f"{config.server}:{config.port} ({SECURITY_NAMES[config.security]}, {login})"


class SmtpTransport:
    """Sends through the server in an ``SmtpConfig``; one connection per message."""

    def __init__(self, config: SmtpConfig, *, local_hostname: str | None = None) -> None:
        self.config = config
        # socket.getfqdn() (smtplib's default) may wait for DNS; the host name suffices.
        self.local_hostname = local_hostname or socket.gethostname() or "localhost"

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        return await asyncio.to_thread(self.send_blocking, sender, recipients, raw)

    def send_blocking(self, sender: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        """The whole conversation, synchronously; never raises for mail trouble."""
        config = self.config
        where = f"{config.server}:{config.port}"
        stage = f"while connecting to {where}"
        timeout = config.timeout.total_seconds()
        smtp: smtplib.SMTP | None = None
        try:
            if config.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    config.server,
                    config.port,
                    local_hostname=self.local_hostname,
                    timeout=timeout,
                    context=client_ssl_context(config),
                )
            else:
                smtp = smtplib.SMTP(
                    config.server, config.port, local_hostname=self.local_hostname, timeout=timeout
                )
            stage = f"while greeting {where} (EHLO)"
            smtp.ehlo()
            refusal = self._secure_and_log_in(smtp, where)
            if refusal is not None:
                return refusal
            stage = f"while sending to {where}"
            return self._transfer(smtp, sender, recipients, raw)
        except Exception as exc:  # classify() re-raises what is not mail trouble
            return classify(exc, stage)
        finally:
            if smtp is not None:
                _close(smtp)

    def _secure_and_log_in(self, smtp: smtplib.SMTP, where: str) -> SendResult | None:
        config = self.config
        encrypted = config.security == "ssl"
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                return SendResult(
                    Outcome.TLS_FAILED,
                    detail=f'{where} does not offer STARTTLS (security = "starttls")',
                )
            try:
                smtp.starttls(context=client_ssl_context(config))
            except Exception as exc:
                return classify(exc, f"while starting TLS with {where}")
            smtp.ehlo()
            encrypted = True
        if config.username is None:
            return None
        if not smtp.has_extn("auth"):
            if not encrypted and smtp.has_extn("starttls"):
                return SendResult(
                    Outcome.TLS_REQUIRED,
                    detail=f"{where} offers log-in (AUTH) only after STARTTLS",
                )
            return SendResult(Outcome.OTHER, detail=f"{where} offers no log-in (AUTH)")
        try:
            smtp.login(config.username, config.password or "")
        except Exception as exc:
            return classify(exc, f"while logging in as {config.username}")
        return None

    def _transfer(
        self, smtp: smtplib.SMTP, sender: str, recipients: Sequence[str], raw: bytes
    ) -> SendResult:
        """MAIL, RCPT, DATA by hand (``sendmail`` hides the final reply)."""
        options = [f"SIZE={len(raw)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            return from_reply(code, reply, f"the server refused MAIL FROM:<{sender}>")
        refused: dict[str, tuple[int, str]] = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply.decode("utf-8", errors="replace"))
        if len(refused) == len(recipients):
            recipient, (code, text) = next(iter(refused.items()))
            result = from_reply(code, text, f"the server refused RCPT TO:<{recipient}>")
            return SendResult(result.outcome, code, result.reply, result.detail, refused)
        code, reply = smtp.data(raw)
        if code != 250:
            return from_reply(code, reply, "the server refused the message after DATA")
        text = reply.decode("utf-8", errors="replace")
        return SendResult(Outcome.DELIVERED, code, text, refused=refused)


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; the outcome is already decided, so errors here do not count."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
