"""``refused`` in real time: the ports of services a refused fault is in force for.

A refused connection cannot be answered per request, so in ``harness serve`` a
``RefusalGates`` thread looks at the faults in force every ``every`` seconds (and
the served clock, which may be set or advanced by hand) and stops the listener of
a port while any of its services is refused, starting it again on the same port
when the window ends. One port may carry several services: the site serves EWS,
WebDAV and OWA on one port, as IIS does, so refusing one of them refuses all
three. Scenario runs do the same with their TCP gates at their instants.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from simulators.faults.injector import FaultInjector

log = logging.getLogger(__name__)


@dataclass
class Port:
    """A listener: the services it carries and how to stop and start it."""

    services: tuple[str, ...]
    go_down: Callable[[], None]
    come_back: Callable[[], None]
    down: bool = False


class RefusalGates:
    def __init__(self, injector: FaultInjector, ports: list[Port], every: float = 0.05) -> None:
        self.injector = injector
        self.ports = ports
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The looking thread and a caller (a fixture clearing its faults) must not
        # interleave: one deciding from a stale look would shut a port just reopened.
        self._syncing = threading.Lock()

    def sync(self) -> None:
        """Shut or open every port as the faults in force say now."""
        with self._syncing:
            self._sync()

    def _sync(self) -> None:
        for port in self.ports:
            wanted = any(self.injector.refusing(s) is not None for s in port.services)
            if wanted == port.down:
                continue
            try:
                (port.go_down if wanted else port.come_back)()
                port.down = wanted
                log.info("%s %s", "/".join(port.services), "refusing" if wanted else "listening")
            except Exception:  # a port that cannot come back is retried at the next look
                log.exception("cannot %s %s", "stop" if wanted else "start", port.services)

    def start(self) -> RefusalGates:
        self._thread = threading.Thread(target=self._run, name="refusal-gates", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sync()

    def stop(self) -> None:
        """Stop looking and open every port it shut."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._syncing:
            for port in self.ports:
                if port.down:
                    port.come_back()
                    port.down = False


__all__ = ["Port", "RefusalGates"]
