"""What ``harness serve`` runs, as one object the control API and the live view use.

``Served`` holds the running simulators (store with its change history, the
HTTPS site, the SMTP sink, the PBX server with its request journal) on one
``ControlledClock``, and the seed they were filled from. It can put them back
to a seed while they keep listening: ``reset`` restores the current one,
``load`` another (journals, faults and mail are emptied; the PBX is made anew
with the seed's users in their starting presence). A running engine is not
told: its rule state still reflects what it saw before (restart it for a clean
run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scenarios.format.model import Scenario, User
from scenarios.run.runner import pbx_for
from simulators.clock import ControlledClock
from simulators.exchange.ews.middleware import (
    MAILBOX_TARGET_KEY,
    OPERATION_KEY,
    Journaled,
    RequestJournal,
    WsgiApp,
)
from simulators.exchange.history import ChangeHistory
from simulators.exchange.seed import Seed, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.faults.http import FaultInjecting
from simulators.faults.injector import FaultInjector
from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite
from simulators.smtp import SmtpSink


@dataclass(frozen=True)
class Loaded:
    """A seed as ``harness serve`` uses it: store data, PBX users and settings."""

    seed: Seed
    users: tuple[User, ...]
    zone: str
    polling: dict[str, Any]
    source: str | None = None  # the file it came from; None for the demo or posted text
    skew: timedelta = timedelta(0)
    name: str = ""

    @classmethod
    def from_scenario(cls, scenario: Scenario, source: str | None) -> Loaded:
        engine = scenario.engine
        polling = {
            "interval": f"{int(engine.poll_interval.total_seconds())}s",
            "lead_time": f"{int(engine.lead_time.total_seconds())}s",
            "catch_up": engine.catch_up,
        }
        return cls(
            scenario.seed,
            scenario.users,
            str(scenario.timezone),
            polling,
            source,
            scenario.exchange.clock_skew,
            scenario.name,
        )


def pbx_journaled(
    journal: RequestJournal, pbx: Callable[[], Pbx], faults: FaultInjector | None = None
) -> Callable[[WsgiApp], WsgiApp]:
    """Middleware for the PBX's JSON API: every request journaled as service ``pbx``,
    with the user's mailbox when the path names an extension; the faults of service
    ``pbx`` in force act on it (``simulators.faults.http``)."""

    def wrap(api: WsgiApp) -> WsgiApp:
        app = FaultInjecting(api, faults, "pbx") if faults is not None else api

        def named(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            parts = [p for p in str(environ.get("PATH_INFO", "")).split("/") if p]
            if parts[:1] == ["api"] and len(parts) > 1:
                if parts[1] == "users" and len(parts) > 2:
                    environ[OPERATION_KEY] = "presence" if parts[3:] == ["presence"] else "user"
                    try:
                        email = pbx().user(parts[2]).email
                    except Exception:  # an unknown extension: the API answers 404
                        email = None
                    if email:
                        environ[MAILBOX_TARGET_KEY] = email.lower()
                else:
                    environ[OPERATION_KEY] = "audio" if parts[-1] == "audio" else parts[1]
            return app(environ, start_response)

        return Journaled(named, journal, "pbx")

    return wrap


@dataclass
class Served:
    """The served simulators; ``on_load`` runs for every seed put in place (it
    rewrites the engine configuration and gives the new PBX its directory)."""

    clock: ControlledClock
    store: ExchangeStore
    history: ChangeHistory
    site: RunningSite
    sink: SmtpSink
    pbx_server: PbxServer
    pbx_journal: RequestJournal
    loaded: Loaded
    services: dict[str, str] = field(default_factory=dict)
    on_load: Callable[[Loaded, Pbx], None] = lambda loaded, pbx: None
    loaded_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.loaded_at is None:
            self.loaded_at = self.clock.now()

    @property
    def pbx(self) -> Pbx:
        return self.pbx_server.pbx

    def reset(self) -> None:
        """Empty the journals, fault windows and mail; restore the current seed."""
        self.load(self.loaded)

    def load(self, loaded: Loaded) -> None:
        """Put ``loaded`` in place of what is served now."""
        with self._lock:
            pbx = pbx_for(loaded.users, loaded.zone, self.clock.now)
            self.store.clock.skew = loaded.skew
            with self.store.locked():  # pollers see the old seed or the new, never none
                apply_seed(self.store, loaded.seed)
            self.site.set_webdav_auth(loaded.seed.webdav_auth)
            self.site.faults.clear()
            self.site.journal.clear()
            self.pbx_journal.clear()
            self.sink.journal.clear()
            self.sink.allow_relay = loaded.seed.allow_relay
            self.on_load(loaded, pbx)
            self.pbx_server.replace_pbx(pbx)
            self.loaded = loaded
            self.loaded_at = self.clock.now()


__all__ = ["Loaded", "Served", "pbx_journaled"]
