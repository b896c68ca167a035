"""A TCP gate in front of a simulator: the ``unavailable`` fault, for real.

Clients connect to the gate's port; while the gate is open it relays bytes to the
simulator (TLS passes through untouched). Closing it stops listening, so new
connections are refused by the kernel (ECONNREFUSED, as with a server that is
down), and aborts every relayed connection, so keep-alive connections die too.
Opening it listens on the same port again. It runs on the caller's asyncio loop:
scenarios open and close it at instants of their frozen clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

_CHUNK = 65536


class ConnectionGate:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        """Listen (on the same port as before, once one was chosen)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._relay, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()
        relays, self._relays = list(self._relays), set()
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        with contextlib.suppress(Exception):
            await server.wait_closed()

    async def set_open(self, wanted: bool) -> None:
        await (self.open() if wanted else self.close())

    async def _relay(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        try:
            await self._link(client_reader, client)
        except asyncio.CancelledError:
            pass  # the gate closed: the connection is cut, nothing to report
        finally:
            self._relays.discard(task)

    async def _link(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            client.transport.abort()
            return
        for writer in (client, upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:  # relay small EWS requests without Nagle delays
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._links.update((client, upstream))
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream), self._pipe(upstream_reader, client)
            )
        finally:
            for writer in (client, upstream):
                self._links.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()
