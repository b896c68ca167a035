"""Benchmark: messages per second the SMTP sink accepts from 10 concurrent clients.

The sink runs in its own process (one event loop per listener, delivering into
an in-memory Exchange store); each client is an smtplib connection in its own
process, sending its share of the messages one after another. Measured for a
plain session and for STARTTLS + AUTH PLAIN, at each message size. Prints
messages/s, MB/s, p50/p99 per-message latency, and checks the store holds every
message. Not a test: run it by hand.

    .venv/bin/python benchmarks/smtp_sink.py [--messages 2000] [--clients 10] [--sizes 2000,64000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import smtplib
import ssl
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

MAILBOX = "bench@bench.example"
USER, PASSWORD = "OSOMX@bench.example", "secret"


def serve(conn: Connection) -> None:
    """Child process: run a sink until told to stop, then report what was stored."""
    from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
    from simulators.exchange.store import ExchangeStore
    from simulators.smtp import ListenerSpec, SinkSettings, SmtpSink

    store = ExchangeStore(domain="bench.example")
    apply_seed(
        store,
        Seed(service_account=ServiceAccount(USER, PASSWORD), mailboxes=[SeedMailbox(MAILBOX)]),
    )
    settings = SinkSettings(listeners=(ListenerSpec("smtp", "starttls"),))
    with SmtpSink(store, settings) as sink:
        conn.send((sink.port("smtp"), sink.ca_cert_pem))
        while conn.recv() != "stop":
            conn.send(len(store.messages(MAILBOX)))
    conn.send("stopped")


def message(size: int, client: int, number: int) -> bytes:
    head = f"Subject: bench {client}/{number}\r\nFrom: pbx@example.org\r\n\r\n".encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def client(args: tuple[int, str | None, str, int, int, int, Any]) -> list[float]:
    """Child process: one connection, ``count`` messages; per-message latencies."""
    port, ca_pem, mode, size, index, count, barrier = args
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
    if mode == "starttls":
        context = ssl.create_default_context(cafile=ca_pem)
        smtp.starttls(context=context)
        smtp.login(USER, PASSWORD)
    bodies = [message(size, index, n) for n in range(count)]
    barrier.wait()
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        smtp.sendmail("pbx@example.org", [MAILBOX], body)
        latencies.append(time.perf_counter() - started)
    smtp.quit()
    return latencies


def run(port: int, ca_pem: str | None, mode: str, size: int, total: int, clients: int) -> None:
    per_client = total // clients
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with mp.Pool(clients) as pool:
            jobs = [(port, ca_pem, mode, size, i, per_client, barrier) for i in range(clients)]
            pending = pool.map_async(client, jobs)
            barrier.wait()
            started = time.perf_counter()
            latencies = [x for one in pending.get(timeout=600) for x in one]
            elapsed = time.perf_counter() - started
    sent = per_client * clients
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{mode:9} {size:>7} B  {sent / elapsed:8.0f} msg/s  "
        f"{sent * size / elapsed / 1e6:7.1f} MB/s  "
        f"p50 {statistics.median(latencies) * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--sizes", default="2000,64000")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]

    here, there = mp.Pipe()
    server = mp.Process(target=serve, args=(there,), daemon=True)
    server.start()
    port, ca_pem = here.recv()
    print(
        f"SMTP sink on port {port}; {options.clients} clients, {options.messages} messages per run"
    )
    expected = 0
    for mode in ("plain", "starttls"):
        for size in sizes:
            run(port, ca_pem, mode, size, options.messages, options.clients)
            expected += options.messages // options.clients * options.clients
    here.send("count")
    stored = here.recv()
    here.send("stop")
    here.recv()
    server.join(timeout=10)
    print(f"stored {stored} of {expected} messages: {'ok' if stored == expected else 'LOST'}")


if __name__ == "__main__":
    main()
