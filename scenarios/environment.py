"""The simulators a scenario run talks to, started once and reset per scenario.

One Exchange store behind one HTTPS site (certificates from a CA generated at
start, before any clock is frozen), reused across scenarios like a session-scoped
server with a per-test reset. The PBX is made fresh per scenario by the runner.
"""

from __future__ import annotations

from datetime import timedelta

from simulators.clock import Clock
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site


class Environment:
    def __init__(self, *, tls: bool = True) -> None:
        self.clock = Clock()
        self.store = ExchangeStore(self.clock)
        self.site: RunningSite = start_site(self.store, tls=tls)

    @property
    def ews_url(self) -> str:
        return self.site.ews_url

    @property
    def ca_file(self) -> str | None:
        return self.site.ca_cert_pem

    def reset(self, *, clock_skew: timedelta = timedelta(0), webdav_auth: str = "basic") -> None:
        """Forget the previous scenario: skew, fault windows, request journal (the
        seed clears the store)."""
        self.clock.skew = clock_skew
        self.site.set_webdav_auth(webdav_auth)
        self.site.faults.clear()
        self.site.journal.clear()

    def close(self) -> None:
        self.site.stop()

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
