"""Restarts inside a scenario run: the engine's process, and the Exchange server.

``engine_polls(scenario)`` is the engine's poll schedule with its restarts: polls
at ``start + offset + k * interval`` until a ``restart_engine``, none while it is
down, and from the instant it is back (``at + down_for``) a new process that polls
at once and then every interval, in its own phase, as a started engine does.

``RestartSide`` carries the steps out. ``restart_engine`` ends the engine (its rule
state, its connections, its mail worker) and starts a new one with the same
configuration and mail queue file; the PBX keeps its presence and its voicemail.
``restart_exchange`` stops the Exchange site and the SMTP sink for real (simulators
``go_down``: open connections cut, OWA sessions ended) and starts them again on the
same addresses with the same certificates; while down, connections to them are
refused (the gates in front of them shut). Nothing here sleeps: the runner calls
``due(instant)`` at each instant it visits, before that instant's steps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from scenarios.format.model import Scenario
from scenarios.format.restartsteps import RestartEngine, RestartExchange
from scenarios.run.environment import Environment

# The services a restart of Exchange takes down with it (the run's gates).
EXCHANGE_SERVICES: tuple[str, ...] = ("ews", "webdav", "owa", "smtp")


def engine_polls(scenario: Scenario) -> Iterator[datetime]:
    """Every instant the engine polls at, restarts included (see the module docstring)."""
    interval = scenario.engine.poll_interval
    restarts = [s for s in scenario.steps if isinstance(s, RestartEngine)]
    at = scenario.start + scenario.engine.poll_offset
    for restart in restarts:
        while at < restart.at:
            yield at
            at += interval
        at = restart.back  # the new process polls as soon as it runs
    while at <= scenario.end:
        yield at
        at += interval


class EngineHost(Protocol):
    """What the run offers to end and start the engine's process."""

    async def stop_engine(self, now: datetime) -> None: ...

    async def start_engine(self, now: datetime) -> None: ...


class RestartSide:
    """The restarts of one run; see the module docstring."""

    def __init__(
        self,
        env: Environment,
        host: EngineHost,
        outages: list[tuple[str, datetime, datetime]],
        *,
        note: Callable[[datetime, str], None],
        local: Callable[[datetime], str],
    ) -> None:
        self.env = env
        self.host = host
        self.outages = outages  # the run's (service, from, until): its gates follow them
        self.note = note
        self.local = local
        self.engine_back: datetime | None = None  # the engine is down until then
        self.exchange_back: datetime | None = None

    @property
    def engine_up(self) -> bool:
        return self.engine_back is None

    async def restart_engine(self, step: RestartEngine) -> None:
        await self.host.stop_engine(step.at)
        if step.down_for:
            self.engine_back = step.back
            self.note(step.at, f"engine stopped (restart_engine); back at {self.local(step.back)}")
            return
        self.note(step.at, "engine restarted (restart_engine): a new process, its memory lost")
        await self.host.start_engine(step.at)

    async def restart_exchange(self, step: RestartExchange) -> None:
        await self._exchange_down()
        if step.down_for:
            self.exchange_back = step.back
            self.outages.extend((service, step.at, step.back) for service in EXCHANGE_SERVICES)
            self.note(
                step.at,
                "Exchange stopped (restart_exchange): site and SMTP refuse connections; "
                f"back at {self.local(step.back)}",
            )
            return
        await self._exchange_up()
        self.note(step.at, "Exchange restarted (restart_exchange): open connections were cut")

    async def due(self, instant: datetime) -> None:
        """Bring back what is due by ``instant`` (before that instant's steps)."""
        if self.exchange_back is not None and instant >= self.exchange_back:
            self.exchange_back = None
            await self._exchange_up()
            self.note(instant, "Exchange is back: same addresses, same certificates")
        if self.engine_back is not None and instant >= self.engine_back:
            self.engine_back = None
            self.note(instant, "engine started again: a new process, its memory lost")
            await self.host.start_engine(instant)

    async def finish(self) -> None:
        """The run is over: whatever is down comes back (the environment is shared)."""
        if self.exchange_back is not None:
            self.exchange_back = None
            await self._exchange_up()

    async def _exchange_down(self) -> None:
        # Stopping joins server threads: off the loop, which relays the gates' bytes.
        await asyncio.to_thread(self.env.site.go_down)
        await asyncio.to_thread(self.env.sink.go_down)

    async def _exchange_up(self) -> None:
        await asyncio.to_thread(self.env.site.come_back)
        await asyncio.to_thread(self.env.sink.come_back)


__all__ = ["EXCHANGE_SERVICES", "EngineHost", "RestartSide", "engine_polls"]
