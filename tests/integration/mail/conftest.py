"""Fixtures: the SMTP sink of the fake Exchange organisation on real sockets, and configs.

One trustme CA per test issues the sink's certificate; its PEM is written into
the test's folder (the sink deletes its own copy when it stops, and the outage
tests stop and restart it). ``MailRig`` restarts the sink on the same ports.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme

from integration.config import SmtpConfig
from simulators.exchange.model import Account
from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SinkSettings, SmtpSink

DOMAIN = "w03ex07.net"
SERVICE = f"OSOMX@{DOMAIN}"
PASSWORD = "secret"
USER1 = f"user1@{DOMAIN}"
USER2 = f"grete@{DOMAIN}"
T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)

# Listener names -> specs; ports are fixed after the first start so restarts reuse them.
LISTENERS = (
    ListenerSpec("smtp", "starttls"),
    ListenerSpec("smtps", "tls"),
    ListenerSpec("plain", "plain"),
    ListenerSpec("tls_only", "starttls", require_starttls=True),
    ListenerSpec("auth_only", "starttls", auth_required=True),
)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MailRig:
    """The store, the sink on fixed ports, and the CA a config may trust."""

    store: ExchangeStore
    ca: trustme.CA
    ca_file: Path
    sink: SmtpSink
    ports: dict[str, int]

    def config(self, listener: str = "smtp", **changes: Any) -> SmtpConfig:
        """An engine [smtp] section for ``listener``: the service account, trusted CA."""
        security = {"smtp": "starttls", "smtps": "ssl", "plain": "none"}.get(listener, "starttls")
        base = SmtpConfig(
            server="127.0.0.1",
            port=self.ports[listener],
            security=security,  # type: ignore[arg-type]
            sender=SERVICE,
            username="OSOMX",
            password=PASSWORD,
            ca_file=self.ca_file,
            timeout=timedelta(seconds=5),
        )
        return replace(base, **changes)

    def stop(self) -> None:
        self.sink.stop()

    def restart(self) -> None:
        """Start a new sink on the same ports with the same CA (same store)."""
        specs = tuple(replace(spec, port=self.ports[spec.name]) for spec in LISTENERS)
        self.sink = SmtpSink(self.store, SinkSettings(listeners=specs, ca=self.ca)).start()

    def inbox(self, address: str) -> list[bytes]:
        return [m.mime for m in self.store.messages(address)]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[MailRig]:
    store = ExchangeStore(domain=DOMAIN)
    store.add_account(Account(upn=SERVICE, password=PASSWORD, smtp=SERVICE))
    store.add_mailbox(USER1, "User Test")
    store.add_mailbox(USER2, "Grete Müller", language="de")
    ca = trustme.CA(organization_name="mail tests CA")
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    sink = SmtpSink(store, SinkSettings(listeners=LISTENERS, ca=ca)).start()
    ports = {spec.name: sink.port(spec.name) for spec in LISTENERS}
    mail_rig = MailRig(store, ca, ca_file, sink, ports)
    try:
        yield mail_rig
    finally:
        mail_rig.sink.stop()
