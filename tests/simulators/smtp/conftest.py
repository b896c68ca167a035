"""Fixtures for the SMTP sink tests: a seeded store and sinks on free ports.

``make_sink(...)`` starts an ``SmtpSink`` over the ``store`` fixture with the
given listeners and settings, and stops it after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SinkSettings, SmtpSink

DOMAIN = "domain.net"
USER1 = f"user1@{DOMAIN}"
USER2 = f"user2@{DOMAIN}"
USER3 = f"user3@{DOMAIN}"
USER4 = f"user4@{DOMAIN}"
MAILBOXES = (USER1, USER2, USER3, USER4)
PASSWORDS = {box: f"pw-{box.split('@')[0]}" for box in MAILBOXES}
SERVICE_USER = f"OSOMX@{DOMAIN}"
SERVICE_PASSWORD = "secret"

SinkFactory = Callable[..., SmtpSink]


@pytest.fixture
def store() -> ExchangeStore:
    store = ExchangeStore(domain=DOMAIN)
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount(user=SERVICE_USER, password=SERVICE_PASSWORD),
            mailboxes=[
                SeedMailbox(box, display_name=box.split("@")[0].title(), password=PASSWORDS[box])
                for box in MAILBOXES
            ],
        ),
    )
    return store


@pytest.fixture
def make_sink(store: ExchangeStore) -> Iterator[SinkFactory]:
    started: list[SmtpSink] = []

    def factory(*listeners: ListenerSpec, **settings: Any) -> SmtpSink:
        if listeners:
            settings["listeners"] = listeners
        sink = SmtpSink(store, SinkSettings(**settings)).start()
        started.append(sink)
        return sink

    yield factory
    for sink in started:
        sink.stop()


def message_bytes(subject: str = "Hello", body: bytes = b"Body text.\r\n", **headers: str) -> bytes:
    """A small RFC 5322 message with CRLF line ends."""
    lines = [f"Subject: {subject}", "From: sender@example.org", f"To: {USER1}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
