"""The HTTP/1.1 server every simulator serves its WSGI app with (site, PBX, control).

Built for many pooled keep-alive clients and for hostile ones: connections, TLS and
HTTP parsing (h11) live on one asyncio loop in a thread of their own; only a complete
request (head and body read) goes to a worker thread that runs the WSGI app. So:

- every keep-alive connection stays open (no idle limit but ``idle_timeout``);
- the listen backlog is ``backlog`` (the kernel caps it at net.core.somaxconn);
- TLS handshakes run on the loop, never on the accept path: a client that connects
  and never starts TLS costs one socket until ``handshake_timeout``, nothing else;
- a slow client (headers or body a byte at a time) holds no worker thread: it is
  cut off when its request is not complete ``request_timeout`` after it began.

Answers get ``Server`` (``server_header``), ``Date`` and a ``Content-Length`` when the
app gave none; a malformed request gets a 400 and the connection is closed, a body
over ``max_body`` a 413. ``connections_accepted`` counts connections since start.
Loop time (``loop.time``) drives every timeout, so a frozen scenario clock does not
make connections look idle.

Fault injection may ask for a misbehaving answer by putting a ``Wire`` in the
environ (``WIRE_KEY``): the answer late (on the loop: no worker waits), no answer
at all, a TCP reset instead, or the body cut short and the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import queue
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_NO_BODY_STATUSES = frozenset({204, 304})
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Request Entity Too Large"}


Answer = tuple[int, bytes, list[tuple[str, str]], bytes]  # status, reason, headers, body
WIRE_KEY = "harness.wire"  # environ key: how the answer goes out (fault injection)


@dataclass(frozen=True)
class Wire:
    """How an answer misbehaves on the wire: ``delay`` seconds late, then ``action``:
    ``answer`` (as given), ``hold`` (nothing; the connection is cut after ``hold``
    seconds unless the client leaves first), ``reset`` (TCP RST, no answer) or
    ``truncate`` (half the body, then the connection closes)."""

    delay: float = 0.0
    action: str = "answer"
    hold: float = 120.0


def _plain(status: int, reason: str, text: str) -> Answer:
    body = text.encode()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    return status, reason.encode("latin-1"), headers, body


class WsgiServer:
    """Serves ``app`` on ``(host, port)``; ``start()`` binds and returns once listening."""

    def __init__(
        self,
        app: WsgiApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        threads: int = 16,
        backlog: int = 4096,
        server_header: str | None = None,
        idle_timeout: float = 120.0,
        request_timeout: float = 30.0,
        handshake_timeout: float = 10.0,
        max_body: int = 64 * 1024 * 1024,
        name: str = "http",
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.threads = threads
        self.backlog = backlog
        self.server_header = server_header
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.handshake_timeout = handshake_timeout
        self.max_body = max_body
        self.name = name
        self.connections_accepted = 0
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_Connection] = set()
        self._bound: tuple[str, int] | None = None
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []

    @property
    def bind_addr(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the real port once started."""
        return self._bound or (self.host, self.port)

    def start(self) -> WsgiServer:
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} server is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(self.backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._socket = sock
        host, port = sock.getsockname()[:2]
        self._bound = (str(host), int(port))
        self._loop = asyncio.new_event_loop()
        for n in range(self.threads):
            worker = threading.Thread(
                target=self._work_off, name=f"{self.name}-worker-{n}", daemon=True
            )
            worker.start()
            self._workers.append(worker)
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name=f"{self.name}-{self.bind_addr[1]}", daemon=True
        )
        self._thread.start()
        started.wait()
        return self

    def _work_off(self) -> None:
        """A worker thread: run the app for each request handed over, answer on the loop."""
        while True:
            job = self._work.get()
            if job is None:
                return
            loop, connection, request, environ = job
            answer = _call_app(self.app, environ)
            wire = environ.get(WIRE_KEY)
            try:
                loop.call_soon_threadsafe(connection.answer, request, answer, wire)
            except RuntimeError:  # the loop closed while the app ran
                return

    def _run(self, started: threading.Event) -> None:
        loop = self._loop
        assert loop is not None and self._socket is not None
        asyncio.set_event_loop(loop)
        options: dict[str, Any] = {}
        if self.ssl_context is not None:
            options = {"ssl": self.ssl_context, "ssl_handshake_timeout": self.handshake_timeout}
        self._server = loop.run_until_complete(
            loop.create_server(
                lambda: _Connection(self), sock=self._socket, backlog=self.backlog, **options
            )
        )
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop listening, close every connection, end the threads; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._thread = None

        def shut() -> None:
            if self._server is not None:
                self._server.close()
            for connection in list(self._connections):
                connection.abort()
            # The sockets are closed by callbacks the aborts scheduled: let them run.
            loop.call_later(0.05, loop.stop)

        loop.call_soon_threadsafe(shut)
        thread.join(timeout=10)
        for _ in self._workers:
            self._work.put(None)
        self._workers.clear()
        if self._socket is not None:
            self._socket.close()
        self._loop = None

    def __enter__(self) -> WsgiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Connection(asyncio.Protocol):
    """One client connection: h11 on the loop, the app on a worker thread."""

    def __init__(self, server: WsgiServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.h11 = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.busy = False  # the app is answering a request of this connection
        self.timer: asyncio.TimerHandle | None = None
        self.peer: tuple[str, int] = ("", 0)

    # -- asyncio callbacks ------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections_accepted += 1
        self.server._connections.add(self)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = (str(peer[0]), int(peer[1]))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._deadline(self.server.idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)
        self._deadline(None)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.h11.their_state is h11.IDLE and self.request is None and not self.busy:
            self._deadline(self.server.request_timeout)  # a request began: it must finish
        self.h11.receive_data(data)
        self._advance()

    def eof_received(self) -> bool | None:
        self.h11.receive_data(b"")
        self._advance()
        return None

    # -- request handling -------------------------------------------------
    def _advance(self) -> None:
        """Read events until a request is complete (then answer it) or more data is needed."""
        while self.transport is not None and not self.busy:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                log.debug("%s: bad request from %s: %s", self.server.name, self.peer, exc)
                self._refuse(exc.error_status_hint, "Bad request: this is not valid HTTP/1.1")
                return
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:
                if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
                    self.h11.start_next_cycle()
                    continue
                return
            if isinstance(event, h11.Request):
                names = {name for name, _ in event.headers}
                if b"content-length" in names and b"transfer-encoding" in names:
                    # Two framings for one body is how requests are smuggled (RFC 9112 6.3).
                    self._refuse(
                        400, "Content-Length and Transfer-Encoding cannot be sent together"
                    )
                    return
                self.request, self.body, self.body_size = event, [], 0
                if self.h11.they_are_waiting_for_100_continue:
                    self._write(
                        self.h11.send(h11.InformationalResponse(status_code=100, headers=[]))
                    )
            elif isinstance(event, h11.Data):
                self.body_size += len(event.data)
                if self.body_size > self.server.max_body:
                    self._refuse(413, "Request entity too large")
                    return
                self.body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                self.close()
                return

    def _dispatch(self) -> None:
        request = self.request
        assert request is not None
        self.busy = True
        self._deadline(None)  # the app takes the time it takes
        environ = self._environ(request, b"".join(self.body))
        self.request, self.body = None, []
        self.server._work.put((self.loop, self, request, environ))

    def answer(self, request: h11.Request, answer: Answer, wire: Wire | None = None) -> None:
        """The app's answer to ``request`` (called on the loop by the worker)."""
        if self.transport is None:
            self.busy = False
            return
        if wire is not None and wire.delay > 0:  # late: the connection stays busy meanwhile
            self.loop.call_later(wire.delay, self.answer, request, answer, replace(wire, delay=0))
            return
        if wire is not None and wire.action == "hold":
            self.loop.call_later(wire.hold, self.abort)  # unless the client gives up first
            return
        if wire is not None and wire.action == "reset":
            self.reset()
            return
        self.busy = False
        status, reason, headers, body = answer
        cut = wire is not None and wire.action == "truncate"
        self._respond(request, status, reason, headers, body, cut=cut)
        if cut:
            self.close()
            return
        if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is h11.MUST_CLOSE:
            self.close()
            return
        self._deadline(self.server.idle_timeout)
        self._advance()  # a pipelined request may be waiting

    def _respond(
        self,
        request: h11.Request | None,
        status: int,
        reason: bytes,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        cut: bool = False,
    ) -> None:
        names = {name.lower() for name, _ in headers}
        extra = []
        if "content-length" not in names and "transfer-encoding" not in names:
            length = 0 if status in _NO_BODY_STATUSES or status < 200 else len(body)
            extra.append(("Content-Length", str(length)))
        if "date" not in names:
            extra.append(("Date", formatdate(usegmt=True)))
        if self.server.server_header and "server" not in names:
            extra.append(("Server", self.server.server_header))
        try:
            head = h11.Response(status_code=status, headers=headers + extra, reason=reason)
            out = [self.h11.send(head)]
            sends_body = request is not None and request.method != b"HEAD"
            if cut:  # the head promised all of it: half, and no end (the caller closes)
                out.append(self.h11.send(h11.Data(data=body[: len(body) // 2])))
            elif body and sends_body and status not in _NO_BODY_STATUSES:
                out.append(self.h11.send(h11.Data(data=body)))
            if not cut:
                out.append(self.h11.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as exc:
            log.error("%s: cannot send the app's answer: %s", self.server.name, exc)
            self.close()
            return
        self._write(b"".join(x for x in out if x))

    def _refuse(self, status: int, text: str) -> None:
        """Answer a request that cannot be served, then close the connection."""
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                code, reason, headers, body = _plain(status, _REASONS.get(status, "Error"), text)
                head = [*headers, ("Connection", "close")]
                self._write(
                    self.h11.send(h11.Response(status_code=code, headers=head, reason=reason))
                    + self.h11.send(h11.Data(data=body))
                    + self.h11.send(h11.EndOfMessage())
                )
            except h11.LocalProtocolError:
                pass
        self.close()

    def _write(self, data: bytes | None) -> None:
        if data and self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        self._deadline(None)
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self._deadline(None)
        if self.transport is not None:
            self.transport.abort()

    def reset(self) -> None:
        """Close with a TCP RST (linger 0), as a crashed peer's kernel answers."""
        if self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.abort()

    def _deadline(self, seconds: float | None) -> None:
        """Close the connection ``seconds`` from now unless moved again; None: no limit."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if seconds is not None:
            self.timer = self.loop.call_later(seconds, self._expired)

    def _expired(self) -> None:
        self.timer = None
        if self.busy:
            return
        if self.h11.their_state is h11.IDLE and self.request is None:
            self.close()  # idle keep-alive connection (or a silent one)
        else:
            self._refuse(408, "Request timeout: the request did not arrive in time")

    def _environ(self, request: h11.Request, body: bytes) -> dict[str, Any]:
        target = request.target
        path, _, query = target.partition(b"?")
        if path.startswith((b"http://", b"https://")):  # absolute form
            path = b"/" + path.split(b"/", 3)[3] if path.count(b"/") >= 3 else b"/"
        host, port = self.server.bind_addr
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "RAW_URI": target.decode("latin-1"),
            "REQUEST_URI": target.decode("latin-1"),
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
            "REMOTE_ADDR": self.peer[0],
            "REMOTE_PORT": str(self.peer[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.ssl_context else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue  # the body is read whole: CONTENT_LENGTH says its size
            else:
                key = "HTTP_" + name
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def _call_app(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run the app on a worker thread: (status, reason, headers, body); a failure is a 500."""
    answer: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and answer:
            raise exc_info[1].with_traceback(exc_info[2])
        answer[:] = [status, headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not answer:
            raise RuntimeError("the app returned without calling start_response")
        code, _, reason = str(answer[0]).partition(" ")
        return int(code), reason.encode("latin-1"), list(answer[1]), b"".join(chunks)
    except Exception:
        log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        return _plain(500, "Internal Server Error", "Internal Server Error")


__all__ = ["WIRE_KEY", "Wire", "WsgiApp", "WsgiServer"]
