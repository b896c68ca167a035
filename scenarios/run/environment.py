"""The simulators a scenario run talks to, started once and reset per scenario.

One Exchange store behind one HTTPS site and one SMTP sink (STARTTLS on
``smtp``, implicit TLS on ``smtps``) that delivers into the same store's
mailboxes. Their certificates come from CAs generated at start, before any
clock is frozen. They are reused across scenarios like a session-scoped server
with a per-test reset. The PBX is made fresh per scenario by the runner.
"""

from __future__ import annotations

from datetime import timedelta

from simulators.clock import Clock
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from simulators.smtp import SinkSettings, SmtpSink


class Environment:
    def __init__(self, *, tls: bool = True) -> None:
        self.clock = Clock()
        self.store = ExchangeStore(self.clock)
        self.site: RunningSite = start_site(self.store, tls=tls)
        try:
            self.sink = SmtpSink(self.store, SinkSettings(host=self.site.host)).start()
        except BaseException:
            self.site.stop()
            raise
        self.sink.faults = self.site.faults  # one set of faults in force for every service

    @property
    def ews_url(self) -> str:
        return self.site.ews_url

    @property
    def ca_file(self) -> str | None:
        return self.site.ca_cert_pem

    def reset(
        self,
        *,
        clock_skew: timedelta = timedelta(0),
        webdav_auth: str = "basic",
        allow_relay: bool = False,
    ) -> None:
        """Forget the previous scenario: skew, fault windows, request and mail journals,
        the relay policy (the seed clears the store, delivered mail included). A site or
        sink a restart left down serves again."""
        self.site.come_back()
        self.sink.come_back()
        self.clock.skew = clock_skew
        self.site.set_webdav_auth(webdav_auth)
        self.site.faults.clear()
        self.site.journal.clear()
        self.sink.journal.clear()
        self.sink.allow_relay = allow_relay

    def close(self) -> None:
        try:
            self.sink.stop()
        finally:
            self.site.stop()

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
