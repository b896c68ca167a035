"""One listening SMTP endpoint: aiosmtpd's threaded Controller on a socket bound up front.

aiosmtpd 1.4's ``Controller`` binds inside its loop thread and then connects to
the *configured* port to make asyncio build the first protocol, so ``port=0``
fails (aio-libs/aiosmtpd#276, #388). ``BoundController`` binds the socket
before the thread starts, so the real port is known and the probe reaches it.

``SinkSMTP`` is aiosmtpd's protocol with what the sink needs on top: a banner
like Exchange 2007's, per-connection command limits, a line length from the
settings, implicit TLS counted as encryption, and a registry of live
connections so that ``stop()`` closes them instead of waiting for clients.
"""

from __future__ import annotations

import asyncio
import collections
import os
import socket
import ssl
import threading
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Session

from simulators.faults.smtp import at_stage
from simulators.smtp.settings import AUTH_MECHANISMS, ListenerSpec, SinkSettings

Authenticator = Callable[..., Any]


class QuietSession(Session):
    """aiosmtpd's Session without the deprecation warning logged at every AUTH.

    aiosmtpd 1.4 itself sets the deprecated ``login_data`` after each successful
    AUTH; the sink reads ``auth_data`` instead.
    """

    @property  # type: ignore[override]
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class SinkSMTP(SMTP):
    """aiosmtpd's SMTP protocol for one connection to one listener."""

    def __init__(
        self,
        handler: Any,
        *,
        listener: ListenerSpec,
        max_line_length: int,
        allow_plaintext_auth: bool,
        connections: set[SinkSMTP],
        **smtp_kwargs: Any,
    ) -> None:
        # aiosmtpd keeps these limits on the class and grows them at each EHLO, so
        # concurrent sessions would share one counter; each connection gets its own.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        # CRLF plus the transparency dot a client adds before a leading '.'.
        self.line_length_limit = max_line_length + 3
        super().__init__(handler, auth_require_tls=True, **smtp_kwargs)
        self.listener = listener
        # aiosmtpd only counts STARTTLS as encryption. An implicit-TLS listener is
        # encrypted from the first byte, and plaintext AUTH is the operator's choice;
        # set after __init__ so aiosmtpd does not warn on every connection.
        if listener.mode == "tls" or allow_plaintext_auth:
            self._auth_require_tls = False
        self._connections = connections

    def _create_session(self) -> Session:
        return QuietSession(self.loop)

    @property
    def secure(self) -> bool:
        """Whether this connection is encrypted (implicit TLS or after STARTTLS)."""
        return self.listener.mode == "tls" or self._tls_protocol is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._connections.add(self)
        # A ``slow`` fault holds every reply of this connection back (real time).
        slow = at_stage(getattr(self.event_handler, "faults", None), "CONNECT")
        self._reply_delay = slow.delay() if slow is not None else 0.0

    async def push(self, status: Any) -> None:
        if getattr(self, "_reply_delay", 0.0):
            await asyncio.sleep(self._reply_delay)
        await super().push(status)
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else str(status)
        if text.startswith("421") and self.transport is not None:
            self.transport.close()  # 421: closing transmission channel

    def connection_lost(self, error: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(error)

    def abort(self) -> None:
        """Drop the connection now, TLS or not (runs on the listener's loop)."""
        for transport in (self.transport, self._original_transport):
            if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
                transport.abort()
            elif transport is not None:
                transport.close()


class BoundController(Controller):
    """aiosmtpd's threaded Controller serving a socket that is already bound."""

    def __init__(
        self,
        handler: Any,
        sock: socket.socket,
        protocol_factory: Callable[[], SMTP],
        *,
        ssl_context: ssl.SSLContext | None,
        ready_timeout: float = 10.0,
    ) -> None:
        host, port = sock.getsockname()[:2]
        # The start-up probe connects to hostname: a wildcard bind is probed on loopback.
        probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        super().__init__(
            handler,
            hostname=probe_host,
            port=port,
            ssl_context=ssl_context,
            ready_timeout=ready_timeout,
        )
        self._sock = sock
        self._protocol_factory = protocol_factory

    def factory(self) -> SMTP:
        return self._protocol_factory()

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)

    def _trigger_server(self) -> None:
        # The stock probe builds its client context with create_default_context, which
        # loads the system's CA store (~60 ms per start); this probe needs no trust at all.
        with socket.create_connection((self.hostname, self.port), timeout=1.0) as raw:
            if self.ssl_context is None:
                raw.recv(1024)
                return
            probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            probe.check_hostname = False
            probe.verify_mode = ssl.CERT_NONE
            with probe.wrap_socket(raw) as wrapped:
                wrapped.recv(1024)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: the system picks a free one)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, socktype, proto, _name, address = infos[0]
    # Keep getaddrinfo's proto (IPPROTO_TCP): asyncio sets TCP_NODELAY only on sockets
    # whose proto says TCP, and accepted sockets inherit it. Without it every
    # multi-line reply (EHLO) waits ~40 ms for Nagle and the client's delayed ACK.
    sock = socket.socket(family, socktype, proto)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class Listener:
    """A started listener: its spec, bound address and controller thread."""

    def __init__(
        self,
        spec: ListenerSpec,
        settings: SinkSettings,
        handler: Any,
        *,
        authenticator: Authenticator,
        tls_context: ssl.SSLContext | None,
        server_name: str,
        banner_clock: Callable[[], Any],
    ) -> None:
        self.spec = spec
        self._settings = settings
        self._handler = handler
        self._authenticator = authenticator
        self._tls_context = tls_context
        self._server_name = server_name
        self._banner_clock = banner_clock
        self._connections: set[SinkSMTP] = set()
        self._lock = threading.Lock()
        self._controller: BoundController | None = None
        self.host = ""
        self.port = 0

    def _protocol(self) -> SinkSMTP:
        spec, settings = self.spec, self._settings
        excluded = [m for m in AUTH_MECHANISMS if m not in settings.auth_mechanisms]
        return SinkSMTP(
            self._handler,
            listener=spec,
            max_line_length=settings.max_line_length,
            allow_plaintext_auth=settings.allow_plaintext_auth,
            connections=self._connections,
            hostname=self._server_name,
            ident=(
                "Microsoft ESMTP MAIL Service ready at " + format_datetime(self._banner_clock())
            ),
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=self._tls_context if spec.mode == "starttls" else None,
            require_starttls=spec.require_starttls,
            auth_required=spec.auth_required,
            auth_exclude_mechanism=excluded,
            authenticator=self._authenticator,
            timeout=settings.idle_timeout,
        )

    def start(self, host: str, port: int | None = None) -> None:
        """Bind and serve; returns once the listener answers. ``port`` None means the
        spec's (0: a free one); a restart passes the port it had."""
        sock = bind_socket(host, self.spec.port if port is None else port)
        self.host, self.port = sock.getsockname()[:2]
        controller = BoundController(
            self._handler,
            sock,
            self._protocol,
            ssl_context=self._tls_context if self.spec.mode == "tls" else None,
        )
        try:
            controller.start()
        except BaseException:
            sock.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Drop live connections, stop the loop and join its thread."""
        with self._lock:
            controller, self._controller = self._controller, None
        if controller is None:
            return
        dropping = asyncio.run_coroutine_threadsafe(self._drop_connections(), controller.loop)
        try:
            dropping.result(timeout=5)
        except Exception:  # stopping anyway: the loop closes what is left
            dropping.cancel()
        controller.stop()

    async def _drop_connections(self) -> None:
        for connection in list(self._connections):
            connection.abort()
        # Let the transports' connection_lost callbacks run before the loop stops,
        # so no socket is left unclosed.
        for _ in range(3):
            await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts in brackets), as the harness's ready file shows it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


__all__ = ["BoundController", "Listener", "SinkSMTP", "bind_socket"]
