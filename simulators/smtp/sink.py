"""The SMTP sink of the fake Exchange organisation: listeners, TLS, delivery, inspection.

    sink = SmtpSink(store).start()          # smtp (STARTTLS) and smtps (implicit TLS)
    sink.endpoints                          # {"smtp": "127.0.0.1:40125", "smtps": ...}
    sink.ca_cert_pem                        # PEM path clients verify the server with
    sink.inspector.messages("user1@domain.net")
    app = sink.wsgi_app()                   # the JSON API, to mount on a control server
    sink.stop()

or ``with SmtpSink(store, settings) as sink: ...``. Each listener runs its own
event loop on its own thread; the store is thread-safe. Mail is stored before
the client gets 250, so nothing accepted is lost.

``go_down()`` / ``come_back()`` (or ``restart()``) stop and start the listeners as a
restart of the Exchange transport does: connections are refused and the open ones
cut while down, and they come back on the same ports with the same certificate
(the CA file stays); the store and the journal are kept.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from simulators.exchange.store import ExchangeStore
from simulators.faults.injector import FaultInjector
from simulators.smtp.api import WsgiApp, make_mail_app
from simulators.smtp.delivery import MailJournal, SinkHandler
from simulators.smtp.inspection import MailInspector
from simulators.smtp.listener import Listener
from simulators.smtp.settings import SinkSettings
from simulators.smtp.tls import TlsMaterial, certificate_names, make_tls_material


class SmtpSink:
    """Receives mail for the organisation in ``store`` on one or more listeners.

    ``clock`` stamps transactions and the banner; by default the store's
    (Exchange's, possibly skewed) clock, which also stamps the stored items.
    """

    def __init__(
        self,
        store: ExchangeStore,
        settings: SinkSettings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or SinkSettings()
        self.clock = clock or store.clock.now
        self.journal = MailJournal()
        self.handler = SinkHandler(store, self.settings, self.journal, self.clock)
        self.inspector = MailInspector(store, self.journal)
        self.tls: TlsMaterial | None = None
        self._listeners: dict[str, Listener] = {}
        self._down: dict[str, Listener] = {}  # listeners stopped by go_down, by name
        self._lock = threading.Lock()
        self.restarts = 0  # times the sink came back after going down

    # ------------------------------------------------------------ lifecycle
    @property
    def server_name(self) -> str:
        return self.settings.server_name or f"exchange.{self.store.domain}"

    def start(self) -> SmtpSink:
        """Bind every listener and serve; returns self once all of them answer."""
        with self._lock:
            if self._listeners:
                raise RuntimeError("the SMTP sink is already running")
            if self._down:
                raise RuntimeError("the SMTP sink is down: come_back() starts it again")
            settings = self.settings
            if any(spec.mode != "plain" for spec in settings.listeners):
                names = certificate_names(settings.host, self.server_name)
                self.tls = make_tls_material(names, settings.ca, settings.certificate)
            context = self.tls.server_context if self.tls else None
            try:
                for spec in settings.listeners:
                    listener = Listener(
                        spec,
                        settings,
                        self.handler,
                        authenticator=self.handler.authenticate,
                        tls_context=context,
                        server_name=self.server_name,
                        banner_clock=self.clock,
                    )
                    listener.start(settings.host)
                    self._listeners[spec.name] = listener
            except BaseException:
                self._stop_locked()
                raise
            # Mail sent from a mailbox (EWS, WebDAV) goes through this sink's delivery.
            self.store.set_transport(self.handler.submit)
        return self

    def stop(self) -> None:
        """Close connections, stop every listener, remove the CA file. Idempotent."""
        with self._lock:
            self._stop_locked()

    def go_down(self) -> None:
        """Stop every listener (connections cut, new ones refused), keeping their ports
        and the TLS material for ``come_back``. Idempotent."""
        with self._lock:
            for name, listener in self._listeners.items():
                listener.stop()
                self._down[name] = listener
            self._listeners.clear()

    def come_back(self) -> None:
        """Listen again on the ports of before, with the same certificate. Idempotent."""
        with self._lock:
            if not self._down:
                return
            for name, listener in list(self._down.items()):
                listener.start(self.settings.host, listener.port)
                self._listeners[name] = listener
                del self._down[name]
            self.restarts += 1

    def restart(self) -> None:
        """``go_down`` then ``come_back`` at once."""
        self.go_down()
        self.come_back()

    def _stop_locked(self) -> None:
        if self.store.transport == self.handler.submit:
            self.store.set_transport(None)
        for listener in self._listeners.values():
            listener.stop()
        self._listeners.clear()
        self._down.clear()
        if self.tls is not None:
            self.tls.cleanup()
            self.tls = None

    def __enter__(self) -> SmtpSink:
        return self.start() if not self._listeners else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ endpoints
    @property
    def running(self) -> bool:
        return bool(self._listeners)

    def listener(self, name: str) -> Listener:
        """A listener by name, running or stopped by ``go_down`` (its address stays)."""
        found = self._listeners.get(name) or self._down.get(name)
        if found is None:
            raise KeyError(f"no running SMTP listener named {name!r}")
        return found

    @property
    def endpoints(self) -> dict[str, str]:
        """``host:port`` of every running listener by name, as in the ready file."""
        return {name: listener.address for name, listener in self._listeners.items()}

    def port(self, name: str) -> int:
        return self.listener(name).port

    def host(self, name: str) -> str:
        return self.listener(name).host

    @property
    def ca_cert_pem(self) -> str | None:
        """The path of the CA certificate (PEM) that issued the server certificate."""
        return self.tls.ca_cert_pem if self.tls else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the sink's CA (for smtplib and friends)."""
        if self.tls is None:
            raise RuntimeError("the SMTP sink has no TLS listener running")
        return self.tls.client_context()

    # -------------------------------------------------------------- policy
    @property
    def faults(self) -> FaultInjector | None:
        """The faults in force for service ``smtp`` (``simulators.faults``); None: none."""
        return self.handler.faults

    @faults.setter
    def faults(self, injector: FaultInjector | None) -> None:
        self.handler.faults = injector

    @property
    def allow_relay(self) -> bool:
        return self.settings.allow_relay

    @allow_relay.setter
    def allow_relay(self, value: bool) -> None:
        self.settings.allow_relay = value

    def wsgi_app(self) -> WsgiApp:
        """The HTTP JSON inspection API over this sink's store and journal."""
        return make_mail_app(self.inspector)


__all__ = ["SmtpSink"]
