"""What became of one attempt to hand a message to the mail server, in a technician's words.

Owns the small set of outcomes (``Outcome``), the result of one attempt
(``SendResult``: the outcome, the server's reply code and text, and a sentence a
technician understands) and ``classify``, which turns what ``smtplib``, ``ssl``
and the socket layer raise into one of them. Whether an attempt is worth
repeating is decided here too (``SendResult.retryable``): a 4xx reply and
anything without a reply (refused connection, timeout, TLS trouble) is retried,
any 5xx reply is final.
"""

from __future__ import annotations

import enum
import smtplib
import socket
import ssl
from dataclasses import dataclass, field


class Outcome(enum.Enum):
    """One attempt's outcome; ``value`` is the stable name scripts and the queue store."""

    DELIVERED = "delivered"
    AUTH_REFUSED = "auth_refused"
    AUTH_REQUIRED = "auth_required"
    TLS_REQUIRED = "tls_required"
    CERTIFICATE_NOT_TRUSTED = "certificate_not_trusted"
    TLS_FAILED = "tls_failed"
    CONNECTION_REFUSED = "connection_refused"
    HOST_NOT_FOUND = "host_not_found"
    TIMEOUT = "timeout"
    RELAY_DENIED = "relay_denied"
    RECIPIENT_UNKNOWN = "recipient_unknown"
    MESSAGE_TOO_LARGE = "message_too_large"
    TEMPORARY = "temporary"
    OTHER = "other"


# The headline for each outcome, as ``harness check-mail`` prints it.
HEADLINES: dict[Outcome, str] = {
    Outcome.DELIVERED: "delivered",
    Outcome.AUTH_REFUSED: "authentication refused",
    Outcome.AUTH_REQUIRED: "the server requires a log-in",
    Outcome.TLS_REQUIRED: "TLS required",
    Outcome.CERTIFICATE_NOT_TRUSTED: "certificate not trusted",
    Outcome.TLS_FAILED: "TLS handshake failed",
    Outcome.CONNECTION_REFUSED: "connection refused",
    Outcome.HOST_NOT_FOUND: "server name not found",
    Outcome.TIMEOUT: "no answer (timeout)",
    Outcome.RELAY_DENIED: "relay denied",
    Outcome.RECIPIENT_UNKNOWN: "recipient unknown",
    Outcome.MESSAGE_TOO_LARGE: "message too large",
    Outcome.TEMPORARY: "temporary failure",
    Outcome.OTHER: "not delivered",
}

# What to do about it, for the technician reading the result.
ADVICE: dict[Outcome, str] = {
    Outcome.DELIVERED: "The server accepted the message.",
    Outcome.AUTH_REFUSED: "The server did not accept the user name and password: "
    "check [smtp] username and password (and that the account may send mail).",
    Outcome.AUTH_REQUIRED: "The server only accepts mail from logged-in senders: "
    "set [smtp] username and password.",
    Outcome.TLS_REQUIRED: "The server wants an encrypted connection first: "
    'set [smtp] security = "starttls" (or "ssl" on an implicit-TLS port such as 465).',
    Outcome.CERTIFICATE_NOT_TRUSTED: "The server's certificate was not issued by a CA "
    "the engine trusts, or does not name the server: set [smtp] ca_file to the CA's PEM "
    "file, or use the name the certificate was issued for.",
    Outcome.TLS_FAILED: "The TLS handshake failed: check that [smtp] security matches the "
    'port ("ssl" only on an implicit-TLS port such as 465, "starttls" on 25 or 587).',
    Outcome.CONNECTION_REFUSED: "Nothing accepts connections at that address and port: "
    "check [smtp] server and port, and that the mail service is running.",
    Outcome.HOST_NOT_FOUND: "The server name does not resolve: check [smtp] server.",
    Outcome.TIMEOUT: "The server did not answer in time: check [smtp] server and port, "
    "firewalls between the PBX and the server, and that an implicit-TLS port (465) has "
    'security = "ssl" (it waits silently for TLS).',
    Outcome.RELAY_DENIED: "The server refuses to pass mail on to that recipient's domain "
    "for this sender: allow relaying for the PBX (its address or its account) on the "
    "server, or log in with an account that may relay.",
    Outcome.RECIPIENT_UNKNOWN: "The server has no mailbox with that address: check the "
    "user's e-mail address on the PBX.",
    Outcome.MESSAGE_TOO_LARGE: "The message exceeds the server's size limit.",
    Outcome.TEMPORARY: "The server cannot take the message right now; "
    "queued mail is tried again later.",
    Outcome.OTHER: "The server refused the message.",
}


@dataclass(frozen=True)
class SendResult:
    """The result of one attempt: outcome, the server's reply (if any) and details.

    ``code``/``reply`` are the SMTP reply that decided it (``535`` and
    ``5.7.3 Authentication unsuccessful``); None when no reply was involved
    (connection refused, timeout, TLS). ``detail`` says what was happening in the
    engine's words (``connecting to mx:587``, the ``ssl`` library's reason).
    ``refused`` lists recipients the server refused while it took others.
    """

    outcome: Outcome
    code: int | None = None
    reply: str = ""
    detail: str = ""
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED

    @property
    def headline(self) -> str:
        return HEADLINES[self.outcome]

    @property
    def advice(self) -> str:
        return ADVICE[self.outcome]

    @property
    def server_reply(self) -> str:
        """``535 5.7.3 Authentication unsuccessful``, or '' without a reply."""
        if self.code is None:
            return ""
        return f"{self.code} {self.reply}".strip()

    @property
    def retryable(self) -> bool:
        """Worth trying again later: 4xx, or no reply at all; never after a 5xx."""
        if self.delivered:
            return False
        if self.code is not None:
            return 400 <= self.code < 500
        return True

    def describe(self) -> str:
        """One line for logs and the queue: headline, the server's reply, the detail."""
        parts = [self.headline]
        if self.server_reply:
            parts.append(f"server replied {self.server_reply!r}")
        if self.detail:
            parts.append(self.detail)
        return "; ".join(parts)


def _text(raw: bytes | str) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return raw


def from_reply(code: int, reply: bytes | str, detail: str = "") -> SendResult:
    """Classify a refusing SMTP reply by its code and its enhanced status code."""
    text = _text(reply).strip()
    lowered = text.lower()
    if code == 535:
        outcome = Outcome.AUTH_REFUSED
    elif code == 538 or (code == 530 and "starttls" in lowered):
        outcome = Outcome.TLS_REQUIRED
    elif code == 530:
        outcome = Outcome.AUTH_REQUIRED
    elif code == 552 or "5.3.4" in text:
        outcome = Outcome.MESSAGE_TOO_LARGE
    elif "5.1.1" in text or (code == 550 and "unknown" in lowered):
        outcome = Outcome.RECIPIENT_UNKNOWN
    elif code >= 500 and ("5.7.1" in text or "relay" in lowered):  # 550/554 5.7.1
        outcome = Outcome.RELAY_DENIED
    elif 400 <= code < 500:
        outcome = Outcome.TEMPORARY
    else:
        outcome = Outcome.OTHER
    return SendResult(outcome, code, text, detail)


def classify(exc: BaseException, detail: str = "") -> SendResult:
    """The outcome of an attempt that raised ``exc`` (smtplib, ssl or socket errors)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Every recipient refused: the first refusal speaks for all of them.
        refused = {rcpt: (code, _text(msg)) for rcpt, (code, msg) in exc.recipients.items()}
        rcpt, (code, message) = next(iter(refused.items()))
        result = from_reply(code, message, detail or f"the server refused RCPT TO:<{rcpt}>")
        return SendResult(result.outcome, code, result.reply, result.detail, refused)
    if isinstance(exc, smtplib.SMTPConnectError):  # a banner other than 220
        outcome = Outcome.TEMPORARY if 400 <= exc.smtp_code < 500 else Outcome.OTHER
        text = _text(exc.smtp_error).strip()
        return SendResult(outcome, exc.smtp_code, text, _join(detail, "refused at connect"))
    if isinstance(exc, smtplib.SMTPResponseException):  # 535, 530, sender/data refused
        return from_reply(exc.smtp_code, exc.smtp_error, detail)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # AUTH not offered: typically only after STARTTLS (Exchange, and the sink).
        return SendResult(Outcome.TLS_REQUIRED, None, "", _join(detail, str(exc)))
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return SendResult(Outcome.CERTIFICATE_NOT_TRUSTED, None, "", _join(detail, reason))
    if isinstance(exc, ssl.CertificateError):  # host name mismatch on older paths
        return SendResult(Outcome.CERTIFICATE_NOT_TRUSTED, None, "", _join(detail, str(exc)))
    if isinstance(exc, ssl.SSLError):
        return SendResult(Outcome.TLS_FAILED, None, "", _join(detail, exc.reason or str(exc)))
    if isinstance(exc, ConnectionRefusedError):
        return SendResult(Outcome.CONNECTION_REFUSED, None, "", detail)
    if isinstance(exc, socket.gaierror):
        return SendResult(Outcome.HOST_NOT_FOUND, None, "", _join(detail, str(exc.strerror)))
    if isinstance(exc, TimeoutError | socket.timeout):
        return SendResult(Outcome.TIMEOUT, None, "", detail)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into "Connection unexpectedly closed: timed out".
        if isinstance(exc.__context__, TimeoutError | socket.timeout):
            return SendResult(Outcome.TIMEOUT, None, "", detail)
        return SendResult(
            Outcome.OTHER, None, "", _join(detail, "the server closed the connection")
        )
    if isinstance(exc, smtplib.SMTPException | OSError):
        return SendResult(Outcome.OTHER, None, "", _join(detail, str(exc) or type(exc).__name__))
    raise exc


def _join(*parts: str) -> str:
    return ": ".join(p for p in parts if p)
