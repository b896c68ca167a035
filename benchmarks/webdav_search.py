"""Benchmark: WebDAV SEARCH of a calendar against the Exchange site over keep-alive
loopback.

The site runs in its own process (pinned to one core where the machine has more);
one client process sends the reference's poll: instances of a one-week window
(``NOT instancetype = 1``, dtstart/dtend bounded, so the 5 series are expanded) over
a calendar of 50 singles and 5 recurring series, on one keep-alive connection with
HTTP Basic. Prints requests per second and p50/p99 latency, plain HTTP and HTTPS.
Not a test: run it by hand.

    .venv/bin/python benchmarks/webdav_search.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing as mp
import os
import ssl
import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any

MAILBOX = "bench@bench.example"
USER, PASSWORD = "OSOMX@bench.example", "secret"
PATH = f"/exchange/{MAILBOX}/Calendar/"
SQL = (
    'SELECT "urn:schemas:httpmail:subject", "urn:schemas:calendar:dtstart", '
    '"urn:schemas:calendar:dtend", "urn:schemas:calendar:instancetype", '
    '"urn:schemas:calendar:busystatus", "urn:schemas:calendar:alldayevent" '
    f"FROM Scope('SHALLOW TRAVERSAL OF \"{PATH}\"') "
    'WHERE NOT "urn:schemas:calendar:instancetype" = 1 '
    "AND \"DAV:contentclass\" = 'urn:content-classes:appointment' "
    "AND \"urn:schemas:calendar:dtstart\" &lt; '2026/03/23 00:00:00' "
    "AND \"urn:schemas:calendar:dtend\" &gt; '2026/03/16 00:00:00' "
    'ORDER BY "urn:schemas:calendar:dtstart" ASC'
)
BODY = (
    f'<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:"><g:sql>{SQL}</g:sql></g:searchrequest>'
).encode()
HEADERS = {
    "Content-Type": "text/xml",
    "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
}


def _pin(cores: set[int]) -> None:
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)


def _store() -> Any:
    from zoneinfo import ZoneInfo

    from simulators.exchange.recurrence import Recurrence
    from simulators.exchange.seed import (
        Seed,
        SeedAppointment,
        SeedMailbox,
        ServiceAccount,
        apply_seed,
    )
    from simulators.exchange.store import ExchangeStore

    berlin = ZoneInfo("Europe/Berlin")
    appointments = []
    for n in range(50):  # singles over two weeks around the window
        start = datetime(2026, 3, 13, 8, tzinfo=berlin) + timedelta(hours=n * 20 // 3)
        appointments.append(
            SeedAppointment(MAILBOX, f"Single {n}", start, start + timedelta(minutes=45))
        )
    series = [
        Recurrence("daily", date(2026, 1, 5)),
        Recurrence("weekly", date(2026, 1, 5), days_of_week=("Monday", "Thursday")),
        Recurrence("weekly", date(2025, 9, 1), interval=2, days_of_week=("Friday",)),
        Recurrence("absolute_monthly", date(2025, 6, 18), day_of_month=18),
        Recurrence(
            "relative_monthly", date(2025, 1, 1), days_of_week=("Weekday",), week_index="Last"
        ),
    ]
    for n, rec in enumerate(series):
        start = datetime.combine(rec.start_date, datetime.min.time(), berlin)
        start += timedelta(hours=9 + n)
        appointments.append(
            SeedAppointment(
                MAILBOX,
                f"Series {n}",
                start,
                start + timedelta(minutes=30),
                time_zone="Europe/Berlin",
                recurrence=rec,
            )
        )
    store = ExchangeStore(domain="bench.example")
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount(user=USER, password=PASSWORD),
            mailboxes=[SeedMailbox(MAILBOX, "Bench User")],
            appointments=appointments,
        ),
    )
    return store


def _serve(tls: bool, cores: set[int], control: Any) -> None:
    _pin(cores)
    from simulators.site import start_site

    site = start_site(_store(), tls=tls)
    control.send((site.port, site.ca_cert_pem))
    control.recv()
    site.stop()


def _client(port: int, ca: str | None, count: int, cores: set[int], results: Any) -> None:
    _pin(cores)
    if ca:
        context = ssl.create_default_context(cafile=ca)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, context=context, timeout=30
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    rows = 0
    for _ in range(count):
        began = time.perf_counter()
        connection.request("SEARCH", PATH, BODY, HEADERS)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 207:
            raise SystemExit(f"unexpected answer {response.status}: {payload[:300]!r}")
        rows = payload.count(b"<a:response>")
    connection.close()
    results.put((latencies, rows))


def run(tls: bool, requests: int) -> dict[str, float]:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    server_cores = {cpus[0]}
    client_cores = set(cpus[1:]) or server_cores
    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(tls, server_cores, theirs), daemon=True)
    server.start()
    port, ca = ours.recv()
    results: Any = context.Queue()
    warm = context.Process(target=_client, args=(port, ca, 50, client_cores, results))
    warm.start()
    results.get()
    warm.join()
    began = time.perf_counter()
    client = context.Process(target=_client, args=(port, ca, requests, client_cores, results))
    client.start()
    latencies, rows = results.get()
    elapsed = time.perf_counter() - began
    client.join()
    ours.send("stop")
    server.join(timeout=10)
    ordered = sorted(latencies)
    return {
        "rows": rows,
        "rps": requests / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(f"WebDAV SEARCH, 50 singles + 5 series, one-week window, {args.requests} requests")
    for tls in (False, True):
        figures = run(tls, args.requests)
        print(
            f"{'HTTPS' if tls else 'HTTP '}: {figures['rps']:7.1f} req/s  "
            f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
            f"({figures['rows']:.0f} rows per answer)"
        )


if __name__ == "__main__":
    main()
