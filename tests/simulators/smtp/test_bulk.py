"""Nothing accepted is lost: 1,000 messages from 10 concurrent smtplib clients, byte for byte.

The messages are awkward on purpose: 8-bit bytes (NUL included), lines that
start with a dot or are a lone dot (the client stuffs them, the sink must
unstuff exactly once), 998-octet lines, empty lines, sizes from a few hundred
bytes to 150 KB. Clients use every security mode; a few send to two mailboxes.
"""

from __future__ import annotations

import hashlib
import random
import smtplib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SmtpSink
from tests.simulators.smtp.conftest import MAILBOXES, SERVICE_PASSWORD, SERVICE_USER, SinkFactory

CLIENTS = 10
PER_CLIENT = 100
EIGHT_BIT = bytes(b for b in range(256) if b not in (0x0A, 0x0D))  # CR, LF only as CRLF
PRINTABLE = bytes(range(0x20, 0x7F))


def _line(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.25:
        return bytes(rng.choices(EIGHT_BIT, k=rng.randint(1, 200)))
    if kind < 0.40:
        return b"." + bytes(rng.choices(PRINTABLE, k=rng.randint(0, 80)))
    if kind < 0.45:
        return rng.choice([b".", b"..", b". ", b"...."])
    if kind < 0.50:
        return rng.choice([b".", b"x"]) + bytes(rng.choices(PRINTABLE, k=997))  # 998 octets
    if kind < 0.55:
        return b""
    return bytes(rng.choices(PRINTABLE, k=rng.randint(1, 76)))


def make_message(rng: random.Random, client: int, number: int) -> tuple[bytes, list[str]]:
    """(message bytes with CRLF line ends, recipients)."""
    target = rng.choice([300, 1_000, 4_000, 16_000, 60_000, 150_000] + [800] * 6)
    head = (
        f"Message-ID: <{client}.{number}@bulk.test>\r\n"
        f"Subject: bulk {client}/{number}\r\n"
        "From: pbx@example.org\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    lines: list[bytes] = []
    size = len(head)
    while size < target:
        line = _line(rng)
        lines.append(line)
        size += len(line) + 2
    recipients = rng.sample(MAILBOXES, 2 if rng.random() < 0.1 else 1)
    return head + b"\r\n".join(lines) + b"\r\n", recipients


def _client(sink: SmtpSink, index: int, start: threading.Barrier) -> list[tuple[bytes, list[str]]]:
    rng = random.Random(index)
    messages = [make_message(rng, index, n) for n in range(PER_CLIENT)]
    mode = ("smtp", "smtp-starttls", "smtps")[index % 3]
    start.wait(timeout=10)
    client: smtplib.SMTP | None = None
    for n, (data, recipients) in enumerate(messages):
        if client is None or n % 25 == 0:  # reconnect now and then: connects interleave too
            if client is not None:
                client.quit()
            client = _connect(sink, mode)
        refused = client.sendmail("pbx@example.org", recipients, data, ["BODY=8BITMIME"])
        assert refused == {}
    assert client is not None
    client.quit()
    return messages


def _connect(sink: SmtpSink, mode: str) -> smtplib.SMTP:
    if mode == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            "127.0.0.1", sink.port("smtps"), context=sink.client_ssl_context(), timeout=30
        )
    else:
        client = smtplib.SMTP("127.0.0.1", sink.port("smtp"), timeout=30)
    if mode == "smtp-starttls":
        client.starttls(context=sink.client_ssl_context())
    if mode != "smtp":
        client.login(SERVICE_USER, SERVICE_PASSWORD)
    return client


def test_a_thousand_messages_from_ten_clients_are_stored_byte_for_byte(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink = make_sink(ListenerSpec("smtp", "starttls"), ListenerSpec("smtps", "tls"))
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_client, sink, i, start) for i in range(CLIENTS)]
        sent = [message for future in futures for message in future.result()]

    assert len(sent) == CLIENTS * PER_CLIENT
    expected = {box: Counter[str]() for box in MAILBOXES}
    for data, recipients in sent:
        for box in recipients:
            expected[box][hashlib.sha256(data).hexdigest()] += 1
    stored = {
        box: Counter(hashlib.sha256(item.mime).hexdigest() for item in store.messages(box))
        for box in MAILBOXES
    }
    assert stored == expected
    assert sink.inspector.counts() == {box: sum(c.values()) for box, c in expected.items()}
    assert len(sink.journal.transactions()) == CLIENTS * PER_CLIENT
    # The awkward lines really were there, and came through.
    assert sum(b"\r\n.\r\n" in data for data, _ in sent) > 100
    assert sum(any(byte >= 0x80 for byte in data) for data, _ in sent) > 800
