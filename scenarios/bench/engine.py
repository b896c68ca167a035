"""The engine side of ``harness bench``: the real engine in a process of its own.

``run(connection, spec)`` builds the engine exactly as ``harness engine`` does (the
EWS or WebDAV source with the served CA as ``ca_file``, the PBX over HTTP, the
configured concurrency and timeout, optionally one shard) and answers the driver:

- ``("cycle",)``: poll every user once, as fast as the engine's pool allows
  (``Engine.poll_all``); returns wall and CPU seconds, each read's latency and the
  failed polls;
- ``("realtime", seconds)``: ``Engine.run`` on the real clock at its interval for
  ``seconds``; returns each read's start and end and the failed polls;
- ``("stats",)``: CPU seconds and RSS; ``("stop",)``.

Reads are timed by a wrapper around the source, so the figures are the engine's own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from integration.appointments import Appointment
from integration.pbx import HttpPbxGateway
from integration.scheduler import Engine, PollEvent, PollSettings
from integration.shard import Shard
from integration.sources.base import CalendarSource
from integration.sources.ews import EwsCalendarSource
from integration.sources.webdav import WebDavCalendarSource
from scenarios.bench import population
from scenarios.bench.figures import rss_bytes


class TimedSource:
    """A calendar source that records when each read started and ended.

    It lets ``concurrency`` reads in at once, as the source itself would, and starts
    the clock once a read is let in: latency is the exchange, not the queue before it.
    """

    def __init__(self, source: CalendarSource, concurrency: int) -> None:
        self.source = source
        self.reads: list[tuple[str, float, float]] = []  # mailbox, start, end (perf_counter)
        self._slots = asyncio.Semaphore(concurrency)

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[Appointment]:
        async with self._slots:
            began = time.perf_counter()
            try:
                return await self.source.read(mailbox, start, end)
            finally:
                self.reads.append((mailbox, began, time.perf_counter()))


def build_source(spec: dict[str, Any]) -> EwsCalendarSource | WebDavCalendarSource:
    options: dict[str, Any] = {
        "ca_file": spec["ca"],
        "concurrency": spec["concurrency"],
        "timeout": spec["timeout"],
    }
    login = (population.SERVICE_USER, population.SERVICE_PASSWORD)
    if spec["variant"] == "webdav":
        return WebDavCalendarSource(spec["webdav"], *login, **options)
    return EwsCalendarSource(spec["ews"], *login, **options)


async def _serve(connection: Any, spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    source = build_source(spec)
    timed = TimedSource(source, spec["concurrency"])
    gateway = HttpPbxGateway(spec["pbx"], timeout=spec["timeout"])
    failures: list[PollEvent] = []

    def on_event(event: PollEvent) -> None:
        if event.outcome != "ok":
            failures.append(event)

    shard = Shard.parse(spec["shard"]) if spec.get("shard") else None
    engine = Engine(
        timed,
        gateway,
        PollSettings(interval=timedelta(seconds=spec["interval"])),
        on_event=on_event,
        shard=shard,
    )
    connection.send({"rss": rss_bytes(), "cpu": time.process_time(), "pid": os.getpid()})
    try:
        while True:
            request = await loop.run_in_executor(None, connection.recv)
            timed.reads.clear()
            failures.clear()
            if request[0] == "stop":
                break
            if request[0] == "stats":
                connection.send({"rss": rss_bytes(), "cpu": time.process_time()})
                continue
            cpu = time.process_time()
            began = time.perf_counter()
            if request[0] == "cycle":
                await engine.poll_all(datetime.now(UTC))
            elif request[0] == "realtime":
                stop = asyncio.Event()
                loop.call_later(request[1], stop.set)
                await engine.run(stop)
            connection.send(
                {
                    "wall": time.perf_counter() - began,
                    "cpu": time.process_time() - cpu,
                    "began": began,
                    "reads": list(timed.reads),
                    "failed": len(failures),
                    "failures": [f"{f.extension}: {f.detail}" for f in failures[:5]],
                    "rss": rss_bytes(),
                }
            )
    finally:
        await source.aclose()
        await gateway.aclose()


def run(connection: Any, spec: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.ERROR)  # failures are counted and shown by the driver
    asyncio.run(_serve(connection, spec))


__all__ = ["TimedSource", "build_source", "run"]
