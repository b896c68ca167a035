"""TLS on the engine's pooled connections (``integration.tls.TlsSession`` under
``PoolTransport``), against asyncio TLS servers on real sockets: large answers over
many records, keep-alive, the server's close_notify, a host name that does not match,
a peer that does not speak TLS, and the memory a pooled connection holds."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest
import trustme

from integration.transport import PoolTransport
from tests.integration.test_transport import Handler, answer, port, read_request


@pytest.fixture(scope="module")
def contexts() -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    """(server context for 127.0.0.1, client context trusting its CA)."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    yield server, client


async def tls_server(handler: Handler, context: ssl.SSLContext) -> asyncio.Server:
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)


def test_large_answers_over_many_records_on_one_kept_connection(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = contexts
    body = bytes(range(256)) * 4096  # 1 MiB: 64 records at least
    uploads: list[int] = []

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                try:
                    request = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                uploads.append(len(request.partition(b"\r\n\r\n")[2]))
                writer.write(answer(body))
                await writer.drain()

        server = await tls_server(handler, server_context)
        transport = PoolTransport(verify=client_context)
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"https://127.0.0.1:{port(server)}/"
            for _ in range(3):
                response = await client.post(url, content=b"x" * 100_000)
                assert response.content == body
        assert transport.connections_opened == 1
        server.close()

    asyncio.run(main())
    assert uploads == [100_000] * 3


def test_a_server_ending_the_session_gets_a_new_connection(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = contexts

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(answer(b"once"))  # keep-alive offered, then close_notify
            await writer.drain()
            writer.close()

        server = await tls_server(handler, server_context)
        transport = PoolTransport(verify=client_context)
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"https://127.0.0.1:{port(server)}/"
            assert (await client.get(url)).text == "once"
            await asyncio.sleep(0.1)  # the close_notify arrives while idle
            assert (await client.get(url)).text == "once"
        assert transport.connections_opened == 2
        server.close()

    asyncio.run(main())


def test_a_host_name_the_certificate_does_not_name_is_refused(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = contexts

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        server = await tls_server(handler, server_context)
        # The certificate names 127.0.0.1; "localhost" reaches the same socket.
        async with httpx.AsyncClient(transport=PoolTransport(verify=client_context)) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(f"https://localhost:{port(server)}/")
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert "localhost" in str(caught.value)
        server.close()

    asyncio.run(main())


@pytest.mark.parametrize("reply", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b""])
def test_a_peer_that_does_not_speak_tls_is_a_connect_error(reply: bytes) -> None:
    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)  # the ClientHello
            writer.write(reply)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        async with httpx.AsyncClient(transport=PoolTransport(verify=False)) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://127.0.0.1:{port(server)}/", timeout=5)
        server.close()

    asyncio.run(main())


def test_pooled_tls_connections_hold_no_large_buffers(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """asyncio's TLS transport gives each connection a 256 KiB buffer; 20 pooled
    connections through ``TlsSession`` hold far less than one such buffer each. The
    server is a thread of blocking TLS sockets, so what is traced is the client's."""
    server_context, client_context = contexts
    count = 20
    all_in = threading.Barrier(count + 1)  # the first request, then 20 at once
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one(raw: socket.socket) -> None:
        with server_context.wrap_socket(raw, server_side=True) as tls:
            while tls.recv(1024).endswith(b"\r\n\r\n"):
                if all_in.n_waiting or held_back.is_set():
                    all_in.wait(10)
                tls.sendall(answer(b"ok"))

    held_back = threading.Event()

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(raw,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()

    async def main() -> int:
        transport = PoolTransport(verify=client_context, max_connections=count)
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
            await client.get(url)  # the context's trust store loaded before measuring
            held_back.set()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            requests = [asyncio.create_task(client.get(url)) for _ in range(count)]
            await asyncio.get_running_loop().run_in_executor(None, all_in.wait, 10)
            answers = await asyncio.gather(*requests)
            held = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            assert [a.text for a in answers] == ["ok"] * count
            assert transport.connections_opened == count  # the first one's busy too
        return held

    try:
        held = asyncio.run(main())
    finally:
        listener.close()
    assert held < count * 64 * 1024, f"{held} bytes for {count} connections"
