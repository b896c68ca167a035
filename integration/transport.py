"""The engine's HTTP/1.1 connection pool: an httpx transport with fewer layers.

httpx's own transport (httpcore over anyio) cost the engine most of its CPU per poll:
for each request its pool looks at every pooled connection, asking each socket
whether it is readable (a poll() per connection) and anyio for its attributes. This
transport keeps httpx's client (headers, cookies, redirects off, decoding, errors) and
replaces only what sits below it: one asyncio protocol per connection that parses the
answer itself (status line, headers, Content-Length, chunked, or read to close), and a
pool of idle connections per origin, most recently used first. The loop tells a
connection when the server closed it, so taking one from the pool costs no system
call; a request that finds its reused connection closed before any answer byte is
sent again once on a new one (the keep-alive race every client handles).

Same behaviour as httpx's transport where the engine relies on it: the TLS context
(``verify``: True, False or an ``SSLContext`` such as one from ``ca_file``, built by
``httpx.create_ssl_context`` as httpx builds it), the request's connect and read
timeouts (``httpx.ConnectTimeout``, ``httpx.ReadTimeout``), failures as httpx's
exception classes with the cause chained (``httpx.ConnectError`` from an
``ssl.SSLCertVerificationError``), at most ``max_connections`` connections, idle ones
closed after ``keepalive_expiry`` seconds, and no pool timeout: a request waits for a
free connection.
"""

from __future__ import annotations

import asyncio
import ssl
from functools import partial
from typing import Any

import httpx

from integration.tls import TlsSession

_NO_BODY = frozenset({204, 304})
_MAX_HEAD = 64 * 1024
_Origin = tuple[str, str, int]


class _Stale(Exception):
    """A reused connection was closed by the server before it answered anything."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses the answer to it; over
    ``tls`` (a ``TlsSession``) when given, once ``ready`` says its handshake is done."""

    def __init__(self, tls: TlsSession | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.tls = tls
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.idle_since = 0.0
        self.requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.tls is None:
            self.ready.set_result(None)
        else:
            transport.write(self.tls.handshake())

    def data_received(self, data: bytes) -> None:
        tls = self.tls
        if tls is not None:
            assert self.transport is not None
            try:
                if not tls.established:
                    self.transport.write(tls.handshake(data))
                    if tls.established and not self.ready.done():
                        self.ready.set_result(None)
                    return
                data, reply = tls.decrypt(data)
            except ssl.SSLError as exc:
                if not self.ready.done():
                    self.ready.set_exception(exc)
                self.closed = True  # a broken session: the answer cannot be trusted
                self.transport.close()
                self._wake()
                return
            if reply:
                self.transport.write(reply)
            if tls.peer_closed:
                self.closed = True
        self.buffer += data
        self._wake()

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data if self.tls is None else self.tls.encrypt(data))

    def eof_received(self) -> bool | None:
        self.closed = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionResetError("closed during the TLS handshake"))
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            if self.tls is not None and self.tls.established and not self.transport.is_closing():
                self.transport.write(self.tls.close_notify())
            self.transport.close()

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    async def _more(self, deadline: float | None) -> None:
        """Wait for more data (or the end); ReadTimeout past ``deadline``."""
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        try:
            if deadline is None:
                await self.waiter
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise httpx.ReadTimeout("timed out waiting for the answer")
                try:
                    await asyncio.wait_for(self.waiter, remaining)
                except TimeoutError:
                    raise httpx.ReadTimeout("timed out waiting for the answer") from None
        finally:
            self.waiter = None

    async def exchange(
        self, data: bytes, head_only: bool, timeout: float | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
        """Send one request; (status, reason, headers, body, keep-alive) of its answer."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        assert self.transport is not None
        reused = self.requests > 0
        self.requests += 1
        self.buffer.clear()
        self.write(data)
        while True:  # 1xx answers come before the real one
            end = self.buffer.find(b"\r\n\r\n")
            while end < 0:
                if self.closed:
                    if reused and not self.buffer:
                        raise _Stale()
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                if len(self.buffer) > _MAX_HEAD:
                    raise httpx.RemoteProtocolError("answer head too large")
                await self._more(deadline)
                end = self.buffer.find(b"\r\n\r\n")
            status, reason, headers, version = _parse_head(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
            if not 100 <= status < 200:
                break
        keep = version == b"HTTP/1.1"
        chunked = False
        length: int | None = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"connection":
                tokens = value.lower()
                keep = b"close" not in tokens and (keep or b"keep-alive" in tokens)
            elif lowered == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lowered == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise httpx.RemoteProtocolError(f"bad Content-Length {value!r}") from None
        if head_only or status in _NO_BODY:
            return status, reason, headers, b"", keep
        if chunked:
            body = await self._chunked(deadline)
        elif length is not None:
            while len(self.buffer) < length:
                if self.closed:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body"
                    )
                await self._more(deadline)
            body = bytes(self.buffer[:length])
            del self.buffer[:length]
        else:  # framed by the end of the connection
            while not self.closed:
                await self._more(deadline)
            body, keep = bytes(self.buffer), False
            self.buffer.clear()
        return status, reason, headers, body, keep and not self.closed

    async def _chunked(self, deadline: float | None) -> bytes:
        parts: list[bytes] = []
        at = 0
        while True:
            line_end = self.buffer.find(b"\r\n", at)
            while line_end < 0:
                await self._need(deadline)
                line_end = self.buffer.find(b"\r\n", at)
            size_text = bytes(self.buffer[at:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise httpx.RemoteProtocolError(f"bad chunk size {size_text!r}") from None
            if size == 0:  # then optional trailers and an empty line
                end = self.buffer.find(b"\r\n\r\n", line_end)
                while end < 0:
                    await self._need(deadline)
                    end = self.buffer.find(b"\r\n\r\n", line_end)
                del self.buffer[: end + 4]
                return b"".join(parts)
            start = line_end + 2
            while len(self.buffer) < start + size + 2:
                await self._need(deadline)
            parts.append(bytes(self.buffer[start : start + size]))
            at = start + size + 2

    async def _need(self, deadline: float | None) -> None:
        if self.closed:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )
        await self._more(deadline)


def _origin(url: httpx.URL) -> _Origin:
    scheme = url.scheme
    if scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"request URL has an unsupported scheme {scheme!r}")
    return scheme, url.host, url.port or (443 if scheme == "https" else 80)


class PreparedRequests:
    """Requests of one client to one origin whose head is written once.

    The engine sends the same request shape thousands of times per cycle (a FindItem
    to one URL, a presence read per extension); httpx's client builds URL, headers and
    cookie header anew each time. This writes the head from the client's own
    ``build_request`` once (so the headers on the wire are httpx's: Host, Accept,
    Accept-Encoding, Connection, User-Agent, the client's own), and each request only
    adds its target, Content-Length and body. Answers are decoded by httpx
    (Content-Encoding) and carry the request. Only for a client without cookies:
    ``usable`` says whether the client can take this path now.
    """

    def __init__(self, client: httpx.AsyncClient, method: str, url: str) -> None:
        template = client.build_request(method, url, content=b"")
        if not isinstance(client._transport, PoolTransport):  # noqa: SLF001
            raise TypeError("PreparedRequests needs a client on a PoolTransport")
        self.client = client
        self.transport = client._transport  # noqa: SLF001
        self.method = method
        self.url = template.url
        self.origin = _origin(template.url)
        timeout = client.timeout
        self.timeouts = {"connect": timeout.connect, "read": timeout.read}
        self._line_start = method.encode("ascii") + b" "
        self._fields = [
            (name, value)
            for name, value in template.headers.raw
            if name.lower() != b"content-length"
        ]
        self._head = b"".join(name + b": " + value + b"\r\n" for name, value in self._fields)

    def _head_with(self, headers: dict[str, str]) -> bytes:
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        replaced = {name.lower() for name, _ in extra}
        fields = [f for f in self._fields if f[0].lower() not in replaced] + extra
        return b"".join(name + b": " + value + b"\r\n" for name, value in fields)

    @property
    def usable(self) -> bool:
        return not self.client.cookies

    async def send(
        self, target: bytes, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send to ``target`` (path and query, as bytes) with ``body`` and ``headers``
        (which replace the client's of the same name); the answer, read."""
        head = self._head
        if headers:
            head = self._head_with(headers)
        data = b"".join(
            (
                self._line_start,
                target,
                b" HTTP/1.1\r\n",
                head,
                b"Content-Length: %d\r\n\r\n" % len(body)
                if body or self.method != "GET"
                else b"\r\n",
                body,
            )
        )
        response = await self.transport.round_trip(self.origin, data, False, self.timeouts)
        await response.aread()
        if "set-cookie" in response.headers:  # kept as httpx keeps them; then httpx's path
            response.request = httpx.Request(self.method, self.url.copy_with(raw_path=target))
            self.client.cookies.extract_cookies(response)
        return response


def _parse_head(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise httpx.RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip()))
    return int(code), reason, headers, version


class PoolTransport(httpx.AsyncBaseTransport):
    """An httpx transport keeping up to ``max_connections`` HTTP/1.1 connections, of
    which at most ``max_idle`` (default: all) stay open between requests."""

    def __init__(
        self,
        *,
        verify: bool | ssl.SSLContext = True,
        max_connections: int = 100,
        max_idle: int | None = None,
        keepalive_expiry: float = 60.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_idle = max_connections if max_idle is None else max_idle
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.connections_opened = 0
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._all: set[_Connection] = set()

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            verify = self._verify
            self._ssl = (
                verify
                if isinstance(verify, ssl.SSLContext)
                else httpx.create_ssl_context(verify=verify, trust_env=False)
            )
        return self._ssl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        head = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        return await self.round_trip(
            _origin(url), b"".join(head) + body, request.method == "HEAD", timeouts
        )

    async def round_trip(
        self, origin: _Origin, data: bytes, head_only: bool, timeouts: dict[str, Any]
    ) -> httpx.Response:
        """Send ``data`` (a whole request) to ``origin``; its answer, body not decoded."""
        async with self._slots:
            for attempt in (1, 2):
                connection = await self._take(origin, timeouts.get("connect"))
                try:
                    status, reason, headers, content, keep = await connection.exchange(
                        data, head_only, timeouts.get("read")
                    )
                except _Stale:
                    self._drop(connection)
                    if attempt == 1:
                        continue
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    ) from None
                except BaseException:
                    self._drop(connection)
                    raise
                break
            if keep and connection.usable and self._idle_count() < self.max_idle:
                connection.idle_since = asyncio.get_running_loop().time()
                self._idle.setdefault(origin, []).append(connection)
            else:
                self._drop(connection)
        return httpx.Response(
            status_code=status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    def _idle_count(self) -> int:
        return sum(len(pool) for pool in self._idle.values())

    async def _take(self, origin: _Origin, timeout: float | None) -> _Connection:
        """The most recently used idle connection to ``origin``, else a new one."""
        idle = self._idle.get(origin)
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if connection.usable and now - connection.idle_since < self.keepalive_expiry:
                return connection
            self._drop(connection)
        if len(self._all) >= self.max_connections:
            self._close_oldest_idle()
        return await self._open(origin, timeout)

    def _close_oldest_idle(self) -> None:
        oldest = min(
            (c for pool in self._idle.values() for c in pool),
            key=lambda c: c.idle_since,
            default=None,
        )
        if oldest is not None:
            for pool in self._idle.values():
                if oldest in pool:
                    pool.remove(oldest)
            self._drop(oldest)

    async def _open(self, origin: _Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = TlsSession(self._ssl_context(), host) if scheme == "https" else None

        async def connect() -> _Connection:
            _, connection = await loop.create_connection(partial(_Connection, tls), host, port)
            try:
                await connection.ready
            except BaseException:
                connection.close()
                raise
            return connection

        try:
            connection = await asyncio.wait_for(connect(), timeout)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        self.connections_opened += 1
        self._all.add(connection)
        return connection

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._all.discard(connection)

    async def aclose(self) -> None:
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()


__all__ = ["PoolTransport"]
