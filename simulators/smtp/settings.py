"""What an SMTP sink is configured with: its listeners and its receive policy.

Exchange 2007 receives on several connectors at once (25 and 587 with STARTTLS,
465 with implicit TLS); a ``ListenerSpec`` is one of them. ``SinkSettings`` holds
what all listeners share: authentication, size limits and the relay policy.
``allow_relay`` is read at each RCPT, so a running scenario may change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import trustme

SecurityMode = Literal["plain", "starttls", "tls"]
SECURITY_MODES: tuple[SecurityMode, ...] = ("plain", "starttls", "tls")
AUTH_MECHANISMS = ("PLAIN", "LOGIN")
EXCHANGE_2007_MAX_MESSAGE_SIZE = 10 * 1024 * 1024  # the receive connectors' default


@dataclass(frozen=True)
class ListenerSpec:
    """One receive connector.

    ``mode``: ``plain`` (no TLS offered), ``starttls`` (TLS on request, or before
    anything else when ``require_starttls``), ``tls`` (implicit TLS from the first
    byte, like port 465). ``auth_required``: MAIL before AUTH gets 530.
    """

    name: str
    mode: SecurityMode = "starttls"
    port: int = 0
    require_starttls: bool = False
    auth_required: bool = False

    def __post_init__(self) -> None:
        if self.mode not in SECURITY_MODES:
            raise ValueError(f"listener {self.name}: mode must be one of {SECURITY_MODES}")
        if self.require_starttls and self.mode != "starttls":
            raise ValueError(f"listener {self.name}: require_starttls needs mode 'starttls'")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"listener {self.name}: port out of range")


def default_listeners() -> tuple[ListenerSpec, ...]:
    """``smtp`` (STARTTLS offered) and ``smtps`` (implicit TLS), as the harness serves."""
    return (ListenerSpec("smtp", "starttls"), ListenerSpec("smtps", "tls"))


@dataclass
class SinkSettings:
    """Settings shared by every listener of one sink.

    ``server_name`` is the name in the banner and the certificate (default
    ``exchange.<store domain>``). ``allow_plaintext_auth`` lets AUTH run on an
    unencrypted connection (otherwise 538, as Exchange refuses it).
    ``max_message_size`` is announced with SIZE and enforced with 552;
    ``max_line_length`` counts octets without CRLF (RFC 5322: 998), longer lines
    get 500. ``ca``: the CA issuing the server certificate, so one CA can serve
    the whole site; a fresh one when None. ``certificate``: (chain PEM, key PEM)
    paths issued by ``ca`` to serve instead of a new one (a restart shows the same).
    """

    host: str = "127.0.0.1"
    listeners: tuple[ListenerSpec, ...] = field(default_factory=default_listeners)
    server_name: str | None = None
    auth_mechanisms: tuple[str, ...] = AUTH_MECHANISMS
    allow_plaintext_auth: bool = False
    max_message_size: int = EXCHANGE_2007_MAX_MESSAGE_SIZE
    max_line_length: int = 998
    allow_relay: bool = False
    idle_timeout: float = 300.0
    ca: trustme.CA | None = None
    certificate: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.listeners]
        if not names:
            raise ValueError("a sink needs at least one listener")
        if len(set(names)) != len(names):
            raise ValueError(f"listener names must be unique: {names}")
        unknown = set(self.auth_mechanisms) - set(AUTH_MECHANISMS)
        if unknown:
            raise ValueError(f"unsupported AUTH mechanisms: {sorted(unknown)}")
        if self.max_message_size < 1 or self.max_line_length < 78:
            raise ValueError("max_message_size must be positive, max_line_length at least 78")


__all__ = [
    "AUTH_MECHANISMS",
    "SECURITY_MODES",
    "ListenerSpec",
    "SecurityMode",
    "SinkSettings",
    "default_listeners",
]
