"""Benchmark: FindItem CalendarView against the EWS simulator over keep-alive loopback.

The server runs in its own process pinned to one core; clients (http.client,
one keep-alive connection each) run in other processes on the remaining cores.
The mailbox holds 50 singles and 5 recurring series; every request is the
impersonated one-week CalendarView a PBX poll sends. Prints requests per second
and p50/p99 latency, plain HTTP and HTTPS. Not a test: run it by hand.

    .venv/bin/python benchmarks/ews_finditem.py [--requests 3000] [--clients 1,4]
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
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAILBOX = "bench@bench.example"
USER, PASSWORD = "OSOMX@bench.example", "secret"
WINDOW = (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC))
BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
    '<t:RequestServerVersion Version="Exchange2007_SP1"/><t:ExchangeImpersonation>'
    f"<t:ConnectingSID><t:PrimarySmtpAddress>{MAILBOX}</t:PrimarySmtpAddress></t:ConnectingSID>"
    "</t:ExchangeImpersonation></s:Header><s:Body>"
    '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
    "<t:AdditionalProperties>"
    + "".join(
        f'<t:FieldURI FieldURI="{f}"/>'
        for f in (
            "item:Subject",
            "calendar:Start",
            "calendar:End",
            "calendar:CalendarItemType",
            "calendar:LegacyFreeBusyStatus",
            "item:DateTimeCreated",
            "item:LastModifiedTime",
        )
    )
    + "</t:AdditionalProperties></m:ItemShape>"
    f'<m:CalendarView MaxEntriesReturned="200" StartDate="{WINDOW[0]:%Y-%m-%dT%H:%M:%SZ}" '
    f'EndDate="{WINDOW[1]:%Y-%m-%dT%H:%M:%SZ}"/>'
    f'<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>'
    f"{MAILBOX}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds>"
    "</m:FindItem></s:Body></s:Envelope>"
).encode()
HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
}


def _pin(cores: set[int]) -> None:
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)


def _seed() -> Any:
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
    for n in range(50):  # singles over two weeks, one every ~6.7 hours
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
        start = datetime.combine(rec.start_date, datetime.min.time(), berlin) + timedelta(
            hours=9 + n
        )
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


def _serve(tls: bool, core: set[int], control: Any) -> None:
    """Serve until told to stop; answer "cpu" with the process's CPU seconds so far."""
    _pin(core)
    from simulators.site import start_site

    site = start_site(_seed(), tls=tls)
    control.send((site.port, site.ca_cert_pem))
    while control.recv() == "cpu":
        control.send(time.process_time())
    site.stop()


def _client(port: int, ca: str | None, count: int, core: set[int], results: Any) -> None:
    _pin(core)
    if ca:
        context = ssl.create_default_context(cafile=ca)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, context=context, timeout=30
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    rows = 0
    for n in range(count):
        began = time.perf_counter()
        connection.request("POST", "/EWS/Exchange.asmx", BODY, HEADERS)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 200:
            raise SystemExit(f"unexpected HTTP {response.status}: {payload[:300]!r}")
        if n == 0:
            rows = payload.count(b"<t:CalendarItem>")
    connection.close()
    results.put((latencies, rows))


def run(tls: bool, clients: int, requests: int, warmup: int) -> None:
    context = mp.get_context("spawn")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = {cores[0]} if cores else set()
    client_cores = set(cores[1:]) or server_core
    results = context.Queue()
    control, child_end = context.Pipe()
    server = context.Process(target=_serve, args=(tls, server_core, child_end))
    server.start()
    try:
        port, ca = control.recv()
        warm = context.Process(target=_client, args=(port, ca, warmup, client_cores, results))
        warm.start()
        warm.join()
        results.get()
        per_client = requests // clients
        workers = [
            context.Process(target=_client, args=(port, ca, per_client, client_cores, results))
            for _ in range(clients)
        ]
        control.send("cpu")
        cpu_before = control.recv()
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        gathered = [results.get(timeout=600) for _ in workers]
        elapsed = time.perf_counter() - began
        control.send("cpu")
        server_cpu = control.recv() - cpu_before
        for worker in workers:
            worker.join()
    finally:
        control.send("stop")
        server.join(timeout=10)
    latencies = sorted(x for lat, _ in gathered for x in lat)
    rows = gathered[0][1]
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{'https' if tls else 'http':5}  clients={clients}  {len(latencies) / elapsed:5.0f} req/s"
        f"  p50={p50:5.2f} ms  p99={p99:6.2f} ms  server CPU {server_cpu / len(latencies) * 1000:4.2f}"
        f" ms/req = {len(latencies) / server_cpu:5.0f} req/s per core  ({rows} rows/response)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", default="1,4", help="comma-separated client counts")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"server pinned to one core of {cores}; FindItem CalendarView over one week; "
        f"{args.requests} requests per line"
    )
    for tls in (False, True):
        for clients in (int(c) for c in args.clients.split(",")):
            run(tls, clients, args.requests, args.warmup)


if __name__ == "__main__":
    main()
