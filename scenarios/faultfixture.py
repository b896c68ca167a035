"""The pytest ``faults`` fixture's helper: the catalogue's faults on an ``Environment``.

``Faults.add(service, kind, **fields)`` takes the fields of a scenario ``fault:``
step and of ``POST /control/faults`` (durations as text, ``"200ms"`` for latency,
or ``timedelta``), puts the fault on the environment's injector (the site and the
SMTP sink ask it) and, for ``refused``, shuts the port at once (``RefusalGates``:
the site's EWS, WebDAV and OWA share one port). ``applied()`` names the faults
that acted, in order; ``stop()`` ends them all and opens every port again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from integration.config import parse_duration
from scenarios.commands.controlfaults import add_fault
from scenarios.run.environment import Environment
from simulators.faults.catalogue import HTTP_SERVICES
from simulators.faults.gates import Port, RefusalGates
from simulators.faults.injector import Fault, FaultInjector


def _duration(value: object, name: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _moment(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO 8601 time") from None


class Faults:
    def __init__(self, injector: FaultInjector, gates: RefusalGates) -> None:
        self.injector = injector
        self.gates = gates

    @classmethod
    def on(cls, env: Environment) -> Faults:
        ports = [
            Port(HTTP_SERVICES, env.site.go_down, env.site.come_back),
            Port(("smtp",), env.sink.go_down, env.sink.come_back),
        ]
        return cls(env.site.faults, RefusalGates(env.site.faults, ports))

    def start(self) -> Faults:
        self.gates.start()
        return self

    def add(
        self, service: str, kind: str = "unavailable", duration: object = "5m", **fields: Any
    ) -> Fault:
        """Put a fault in force now (or at ``start``); ValueError for a bad field."""
        spec = {"service": service, "kind": kind, "duration": duration, **fields}
        if isinstance(spec.get("start"), datetime):
            spec["start"] = spec["start"].isoformat()
        fault = add_fault(self.injector, spec, _duration, _moment)
        self.gates.sync()  # a refused port is shut before the test goes on
        return fault

    def applied(self) -> list[str]:
        """``service:kind`` of every request a fault acted on, oldest first."""
        return [hit.fault for hit in self.injector.applied]

    def clear(self) -> None:
        self.injector.clear()
        self.gates.sync()

    def stop(self) -> None:
        self.injector.clear()
        self.gates.stop()


__all__ = ["Faults"]
